#pragma once

#include <missive/client/letter.hpp>
#include <missive/client/options.hpp>
#include <missive/error.hpp>
#include <missive/mime/message.hpp>
#include <missive/net/url.hpp>
#include <missive/smtp/capabilities.hpp>
#include <missive/smtp/envelope.hpp>
#include <missive/smtp/reply.hpp>
#include <missive/smtp/result.hpp>
#include <missive/smtp/session.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace missive::client {

class Client;

/**
 * Streams the content of a message after DATA (from `Client::data`). Bytes are normalised to
 * CRLF and dot-stuffed as they go, so memory use does not depend on the message size.
 */
class DataWriter {
public:
    /** Writes a piece of the message. @throws Error as Client operations do */
    void write(std::string_view bytes);

    /** Ends the message and waits for the server's verdict.
     * @return the final reply @throws Error errc::reply_transient, errc::reply_permanent,
     * errc::outcome_unknown (connection lost after the end was sent), errc::timeout … */
    smtp::Reply finish();

private:
    friend class Client;

    explicit DataWriter(Client& client)
        : client_(&client) {}

    Client* client_;
};

/**
 * A blocking SMTP (or LMTP) client over one connection, reused for as many messages as the
 * server takes. It moves bytes between a TCP stream and an `smtp::Session`, which holds all of
 * the protocol; every wait has a deadline from `Options`.
 *
 * Errors are thrown as `missive::Error`. After a refusal (`connection_usable()`), the client can
 * go on; after a timeout, cancellation, protocol error, 421 or lost connection it is closed, and
 * `connect` starts afresh. Not thread-safe, except that `Options::stop` may fire from anywhere.
 *
 * A command sent before `hello` says EHLO with `Options::local_name` first (as Go's net/smtp).
 */
class Client {
public:
    explicit Client(Options options = {});
    Client(Client&& other) noexcept;
    Client& operator=(Client&& other) noexcept;
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    /** Closes the connection without QUIT; never throws. */
    ~Client();

    /**
     * Resolves `host` (IPv6 and IPv4), connects to each address until one answers, reads the
     * greeting and says EHLO; then secures the connection as `Options::tls` says (opportunistic
     * when unset; TLS first for `implicit`; STARTTLS and EHLO again otherwise) before anything
     * else is sent, and logs in when `Options::credentials` are set. When TLS is required and
     * the server offers no STARTTLS or refuses it, QUIT is the only other command sent.
     * @throws Error errc::connect_failed, errc::timeout, errc::cancelled, errc::reply_transient
     * or errc::reply_permanent (greeting 421/554, EHLO refused), errc::protocol,
     * errc::starttls_unavailable (TLS required but STARTTLS not offered or refused),
     * errc::certificate, errc::tls
     */
    void connect(std::string_view host, std::uint16_t port = 25);

    /**
     * Connects to a server given as a URL: host, port and LMTP come from its scheme (see
     * net::Url); the TLS mode too, unless `Options::tls` is set (then it wins, and a mode that
     * contradicts the scheme is an error: smtps:// with anything but implicit, submission://
     * with less than STARTTLS required). Its query options override `Options` for this
     * connection only: `verify=no` (skip certificate checks, insecure), `ca=FILE`,
     * `capath=DIR`, `peer=NAME` (the name the certificate must carry), `proxy=socks5://…` or
     * `proxy=http://…` (percent-encoded), `helo=NAME`, `auth=MECHANISM`, `timeout=SECONDS`
     * (every wait: connect, each reply, each data write, the final reply). Each connect starts from
     * the options the client was made with, so nothing of one URL (credentials, CA, verify=no,
     * proxy) carries over to the next.
     * @throws Error errc::config for an unknown option, a bad value or a contradictory TLS
     * mode, and as connect(host, port)
     */
    void connect(const net::Url& url);

    /**
     * Bring your own connection (Go's `smtp.NewClient(conn, host)`): takes over `fd`, a
     * connected TCP or Unix-domain stream socket the caller made (the client owns and closes
     * it from then on), reads the greeting, says EHLO, secures the connection as `Options::tls`
     * says (opportunistic when unset; `implicit` runs TLS first) and logs in when
     * `Options::credentials` are set, as connect() does. `server_name` is the name the
     * server's certificate must carry (unless `TlsOptions::peer_name` says another).
     * Credentials go in clear text only over a Unix socket, a loopback peer or with
     * `allow_plaintext_auth`.
     * @throws Error errc::invalid_input when `fd` is not a connected stream socket; and as
     * connect()
     */
    void adopt(int fd, std::string_view server_name);

    /**
     * Sets `Options::deadline` for this and later connections: no wait goes past `deadline`
     * (std::nullopt: no overall limit), e.g. `set_deadline(steady_clock::now() + 1min)` before
     * a send bounds the whole send whatever the per-step limits allow.
     */
    void set_deadline(std::optional<std::chrono::steady_clock::time_point> deadline);

    /** EHLO (LHLO for LMTP), falling back to HELO. @param local_name "" for Options::local_name */
    void hello(std::string_view local_name = {});

    /** @return what the server offered in EHLO (says EHLO first if needed). */
    const smtp::Capabilities& capabilities();

    /** @return the parameters of an extension, or nullopt (Go's `Client.Extension`). */
    std::optional<std::string> extension(std::string_view name);

    /**
     * Sends one message: MAIL, RCPT for each recipient, DATA or BDAT, pipelined when offered.
     * @param message the whole message (headers and body); line ends are normalised to CRLF.
     * One with 8-bit octets goes with BODY=8BITMIME (unless the envelope names a body type),
     * and is refused (errc::invalid_input, before MAIL) by a server without 8BITMIME.
     * @return each recipient's outcome, the final reply and the queue id
     * @throws Error errc::all_recipients_refused (report() has every reply),
     * errc::reply_transient / errc::reply_permanent (MAIL, DATA or the message refused),
     * errc::message_too_large, errc::invalid_input, errc::outcome_unknown, errc::timeout,
     * errc::connection_lost, errc::cancelled, errc::protocol
     */
    [[nodiscard]] smtp::SendResult send(const smtp::Envelope& envelope, std::string_view message);

    /** As above, reading the message from `message` in pieces (bounded memory). Unless the
     * envelope names a body type, the message is read once before it is sent, to find 8-bit
     * octets (a stream that cannot seek is kept in an unnamed temporary file meanwhile). */
    [[nodiscard]] smtp::SendResult send(const smtp::Envelope& envelope, std::istream& message);

    /**
     * Sends a message built with `mime`, written as it goes out (file attachments are read in
     * pieces: memory does not grow with them). The envelope comes from the message: the sender
     * from Sender or From, the recipients from To, Cc and Bcc (Bcc is written nowhere). Text
     * goes as 8bit when the server offers 8BITMIME (with BODY=8BITMIME), encoded otherwise;
     * Date and Message-ID are added when the message has none.
     * @throws Error errc::invalid_input when the message has no sender or no recipient, cannot
     * be written (see mime::Serializer), or has a non-ASCII address and the server does not
     * offer SMTPUTF8; and as send(envelope, message)
     */
    [[nodiscard]] smtp::SendResult send(const mime::Message& message);

    /** As above with an envelope of the caller's, independent of the message's headers. */
    [[nodiscard]] smtp::SendResult send(const smtp::Envelope& envelope,
                                        const mime::Message& message);

    /**
     * Sends many messages on this connection, one round trip per message: the end of one
     * message's data and the commands of the next go in one write (RFC 2920 3.1; with CHUNKING,
     * MAIL, RCPT and `BDAT n LAST` in one write, RFC 3030). Recipients beyond the server's
     * LIMITS RCPTMAX (RFC 9422), or answered 452 "too many recipients", go in further
     * transactions of the same message.
     *
     * `on_outcome` is called once per letter, in the order of `letters`. A refusal of
     * one message never touches the next. When the connection fails, the letter whose end of
     * data was sent has errc::outcome_unknown, and every letter not yet sent gets the
     * connection's error (transient: safe to send again); then the call returns. No retries:
     * that is `Pool`'s job. `on_outcome` should not throw (what it throws ends the call, the
     * connection closed).
     * @throws Error only for a call in the wrong state (not connected: errc::invalid_input)
     */
    void send_all(std::span<const Letter> letters, const std::function<void(Outcome)>& on_outcome);

    /**
     * AUTH with `Options::credentials` (connect() does this by itself when they are set).
     * @throws Error errc::auth_unavailable (no common mechanism, or credentials would travel in
     * clear text: see Options::allow_plaintext_auth), errc::auth_failed
     */
    void authenticate();

    /** AUTH with a mechanism of the caller's (sasl::Mechanism); same rules as above. */
    void authenticate(sasl::Mechanism& mechanism);

    /** MAIL FROM alone. @return the reply @throws Error on refusal */
    smtp::Reply mail(std::string_view from, const smtp::MailParams& params = {});

    /** RCPT TO alone. @return the reply @throws Error on refusal */
    smtp::Reply rcpt(std::string_view to, const smtp::RcptParams& params = {});

    /** DATA alone; after 354 the returned writer streams the message. */
    DataWriter data();

    smtp::Reply noop();                             ///< NOOP
    smtp::Reply reset();                            ///< RSET
    smtp::Reply verify(std::string_view address);   ///< VRFY (252 counts as success)
    smtp::Reply expand(std::string_view list);      ///< EXPN
    smtp::Reply help(std::string_view topic = {});  ///< HELP

    /**
     * Any command, for extensions. A 2xx or 3xx reply is returned, 4xx/5xx thrown.
     * @param redacted_trace what the trace shows instead of `line` ("" shows it)
     */
    smtp::Reply command(std::string_view line, std::string_view redacted_trace = {});

    /** QUIT, then close. @throws Error when the server's reply is not read in time */
    void quit();

    /** Closes the connection at once; never throws. */
    void close() noexcept;

    /** @return the TLS parameters when the connection is encrypted, else nullptr. */
    [[nodiscard]] const net::TlsInfo* tls() const;

    /** @return true while connected and usable. */
    [[nodiscard]] bool is_open() const;

    /** @return the protocol state (capabilities, last reply, last result). */
    [[nodiscard]] const smtp::Session& session() const;

private:
    friend class DataWriter;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace missive::client
