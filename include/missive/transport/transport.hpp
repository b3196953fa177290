#pragma once

#include <missive/mime/message.hpp>
#include <missive/smtp/envelope.hpp>
#include <missive/smtp/result.hpp>

#include <string_view>

namespace missive::transport {

/**
 * Where an application's mail goes, as one interface to code against (lettre's `Transport`,
 * MailKit's `IMailTransport`): send an envelope and a message, get the `SendResult`. Pass a
 * `Transport&` to the code that sends mail; in production give it an `SmtpTransport`, in a
 * development setup a `FileTransport`, in its tests a `testing::MemoryTransport`.
 *
 * Every implementation behaves as SMTP does: the result lists each recipient with its reply; some
 * refused is a result, all refused is an `Error` (errc::all_recipients_refused) carrying them.
 * Both calls check the envelope first, for every implementation: a recipient, and no CR, LF or
 * NUL in an address.
 *
 * To write one, derive and override `send_text` (and `send_message` when the transport does
 * better with the message itself than with its text, as SMTP does with 8BITMIME and DKIM).
 */
class Transport {
public:
    Transport() = default;
    virtual ~Transport() = default;
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;
    Transport(Transport&&) = delete;
    Transport& operator=(Transport&&) = delete;

    /**
     * Sends a ready message to the envelope's recipients.
     * @param message the whole message, header and body, lines ending in CRLF
     * @throws Error errc::invalid_input (no recipient, CR/LF/NUL in an address), and whatever the
     * transport meets: errc::all_recipients_refused, errc::reply_transient … as Client::send
     */
    [[nodiscard]] smtp::SendResult send(const smtp::Envelope& envelope, std::string_view message);

    /**
     * Sends a built message, the envelope from its headers (client::envelope_of: Sender or From;
     * To, Cc and Bcc), Date and Message-ID added where absent, Bcc written nowhere.
     * @throws Error as send(envelope, message)
     */
    [[nodiscard]] smtp::SendResult send(const mime::Message& message);

private:
    /** Does the sending; the envelope is checked already. */
    virtual smtp::SendResult send_text(const smtp::Envelope& envelope,
                                       std::string_view message) = 0;

    /** By default: serialized for any server (7bit), then send_text. */
    virtual smtp::SendResult send_message(const mime::Message& message);
};

}  // namespace missive::transport
