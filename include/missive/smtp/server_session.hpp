#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace missive::smtp {

/** What a ServerSession offers and allows. */
struct ServerOptions {
    std::string hostname = "localhost";            ///< in the greeting and EHLO reply
    std::size_t max_size = std::size_t{50} << 20;  ///< SIZE: larger messages get 552
    std::size_t max_line = 4096;                   ///< a longer command line gets 500 5.5.6
    std::size_t max_recipients = 1000;             ///< more get 452 4.5.3
    bool tls_available = false;     ///< offer STARTTLS (the driver can do the handshake)
    bool tls_active = false;        ///< the connection is TLS from the start (port 465)
    bool auth_requires_tls = true;  ///< offer AUTH only once TLS is active
    /// The reply to the end of a message waits for `message_stored()` or `message_not_stored()`,
    /// so that the client hears 250 only for a message that was kept (a driver that writes files
    /// sets it); when false, the session answers 250 at once.
    bool confirm_storage = false;
};

/** A message the session received, with its envelope. */
struct ReceivedMessage {
    std::string helo{};             ///< what the client said in EHLO/HELO
    std::string from{};             ///< reverse path, without the angle brackets
    std::vector<std::string> to{};  ///< forward paths
    std::string user{};             ///< the authenticated user, or ""
    bool tls = false;               ///< received over TLS
    std::string data{};             ///< the message, dot-unstuffed, as sent (CRLF)
};

/**
 * The server side of SMTP (RFC 5321) as a state machine without I/O, for development servers
 * and tests: `missive capture` drives it. Bytes in with `receive`; replies out with
 * `output`/`consume_output`; what the driver must act on through `tls_requested`,
 * `take_message` and `closed`.
 *
 * It offers PIPELINING (commands are answered in order, however they arrive), SIZE, 8BITMIME,
 * SMTPUTF8, ENHANCEDSTATUSCODES, CHUNKING (BDAT), STARTTLS when the driver can do TLS, and AUTH
 * PLAIN and LOGIN, accepting any credentials (this is a server that catches mail, not one that
 * guards it) but, by default, only over TLS. Bytes that follow STARTTLS before the handshake are
 * discarded (no command injection). Memory is bounded by `max_line` and `max_size`.
 *
 * Only <CRLF>.<CRLF> ends DATA (RFC 5321 4.1.1.4), so a bare `<LF>.<LF>` (or `<CR>.<CR>`,
 * `<CRLF>.<LF>`, `<LF>.<CRLF>`) is message content and what follows it is never taken as a
 * command (no SMTP smuggling). A message with a bare CR or LF anywhere in its data is refused after
 * its end with "554 5.5.2 Error: bare <LF> received" (or <CR>), as Postfix does with
 * `smtpd_forbid_bare_newline = reject`: RFC 5321 2.3.8 allows CR and LF only together. Command
 * lines may end in a bare LF (Postfix's `normalize`), which is convenient with netcat and cannot
 * end a message.
 */
class ServerSession {
public:
    explicit ServerSession(ServerOptions options = {});

    /** Feeds bytes from the client; replies are appended to the output. */
    void receive(std::string_view bytes);

    /** @return replies not yet sent */
    [[nodiscard]] std::string_view output() const { return output_; }

    /** Drops `n` bytes of output that were sent. */
    void consume_output(std::size_t n) { output_.erase(0, n); }

    /**
     * @return true once "220 Ready to start TLS" is in the output: after sending it the driver
     * does the TLS handshake and calls `tls_started`; until then nothing more is processed
     */
    [[nodiscard]] bool tls_requested() const { return tls_pending_; }

    /** The handshake succeeded: the session starts over (RFC 3207 4.2). */
    void tls_started();

    /** @return the next message received completely, or nullopt */
    std::optional<ReceivedMessage> take_message();

    /**
     * With `ServerOptions::confirm_storage`: the message last taken with `take_message` was
     * stored; the client gets "250 2.0.0 Ok: queued as …" and input is processed again.
     */
    void message_stored();

    /**
     * With `ServerOptions::confirm_storage`: the message last taken with `take_message` could not
     * be stored; the client gets "451 4.3.0 Error: message not stored, try again later" and input
     * is processed again.
     */
    void message_not_stored();

    /**
     * @return true while a message waits for `message_stored()` or `message_not_stored()`
     * (only with `ServerOptions::confirm_storage`); until then input is kept, not processed
     */
    [[nodiscard]] bool storage_pending() const { return storage_pending_; }

    /** @return true after QUIT was answered: the driver sends the output and closes */
    [[nodiscard]] bool closed() const { return closed_; }

private:
    enum class Mode { command, data, bdat, auth_plain, auth_login_user, auth_login_password };

    void process();
    void command(std::string_view line);
    // Where the next data byte stands: only after a CRLF (or at the start of the data) may
    // ".\r\n" end the message.
    enum class LineStart { after_crlf, after_bare_lf, mid_line };

    bool take_data();
    void data_piece(std::string_view piece, bool ends_line);
    void data_line(std::string_view line);
    void reply(std::string_view text);
    void reset_transaction();
    void finish_message();
    [[nodiscard]] bool auth_offered() const;

    ServerOptions options_;
    std::string input_;
    std::string output_;
    Mode mode_ = Mode::command;
    bool discarding_line_ = false;  // the rest of an overlong line
    std::string helo_;
    bool extended_ = false;
    bool tls_ = false;
    bool tls_pending_ = false;
    bool closed_ = false;
    std::string user_;
    std::string login_user_;
    bool in_transaction_ = false;
    std::string from_;
    std::vector<std::string> to_;
    std::string data_;
    bool too_large_ = false;
    LineStart line_start_ = LineStart::after_crlf;
    bool bare_lf_ = false;
    bool bare_cr_ = false;
    bool storage_pending_ = false;
    std::size_t bdat_left_ = 0;
    bool bdat_last_ = false;
    unsigned queued_ = 0;
    std::vector<ReceivedMessage> done_;
};

}  // namespace missive::smtp
