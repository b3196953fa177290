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

    /** @return true after QUIT was answered: the driver sends the output and closes */
    [[nodiscard]] bool closed() const { return closed_; }

private:
    enum class Mode { command, data, bdat, auth_plain, auth_login_user, auth_login_password };

    void process();
    void command(std::string_view line);
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
    std::size_t bdat_left_ = 0;
    bool bdat_last_ = false;
    unsigned queued_ = 0;
    std::vector<ReceivedMessage> done_;
};

}  // namespace missive::smtp
