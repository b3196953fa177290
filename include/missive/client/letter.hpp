#pragma once

// One message to send in bulk (Client::send_all, AsyncClient::async_send_all, Pool) and what
// became of it.

#include <missive/error.hpp>
#include <missive/mime/message.hpp>
#include <missive/smtp/envelope.hpp>
#include <missive/smtp/result.hpp>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <variant>

namespace missive::client {

/**
 * A message and its envelope, ready to be sent by any of the bulk interfaces. The content is
 * one of three forms:
 *  - a ready message as text (header and body; line ends are normalised to CRLF);
 *  - a built `mime::Message` (written as it goes out, 8bit when the server offers 8BITMIME);
 *  - a ready message in a file, read in pieces each time it is sent (bounded memory for any
 *    size; the file must stay in place until the letter's outcome is reported);
 *  - a ready message from a `MessageSource`, a function that opens a fresh stream of it for
 *    each attempt (a database BLOB, an object store …), read in pieces as it goes.
 */
struct Letter {
    /** Opens the message from its start; called once per attempt, on the sending thread. A
     * null result or a stream that fails is the letter's errc::invalid_input. */
    using MessageSource = std::function<std::unique_ptr<std::istream>()>;

    smtp::Envelope envelope{};
    std::variant<std::string, mime::Message, std::filesystem::path, MessageSource> content{};

    Letter() = default;
    /** A built message; the envelope from its headers (client::envelope_of). */
    explicit Letter(mime::Message message);
    Letter(smtp::Envelope envelope, mime::Message message);
    Letter(smtp::Envelope envelope, std::string text);
    Letter(smtp::Envelope envelope, std::filesystem::path file);
    Letter(smtp::Envelope envelope, MessageSource source);
};

/**
 * What became of one letter, reported exactly once. `error` is empty when every recipient has
 * its answer and at least one accepted the message (`result` lists each recipient with its
 * reply; some may be refused). Otherwise it says why, and `result` still lists the recipients
 * that did accept it (a letter split over several transactions may fail part way): send again
 * only to the others. The error's predicates tell what to do:
 *  - `error->outcome_unknown()`: the connection failed after the end of the data was sent and
 *    before the server's verdict; the message may have been delivered. Not retried unless
 *    duplicates are allowed.
 *  - `error->transient()`: a 4xx or a connection problem (that lasted through every attempt,
 *    for a Pool).
 *  - `error->permanent()`: refused (5xx, every recipient refused, too large, bad input).
 */
struct Outcome {
    std::size_t index = 0;         ///< the letter's position in the order it was given
    smtp::SendResult result{};     ///< recipient by recipient, as far as it got
    std::optional<Error> error{};  ///< empty: accepted, every recipient answered (above)
    unsigned attempts = 0;         ///< transactions tried for it (1 unless retried)

    [[nodiscard]] bool accepted() const { return !error.has_value(); }
};

}  // namespace missive::client
