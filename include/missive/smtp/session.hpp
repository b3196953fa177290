#pragma once

#include <missive/error.hpp>
#include <missive/sasl/mechanism.hpp>
#include <missive/smtp/capabilities.hpp>
#include <missive/smtp/envelope.hpp>
#include <missive/smtp/reply.hpp>
#include <missive/smtp/reply_parser.hpp>
#include <missive/smtp/result.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace missive::smtp {

/** Which dialect the session speaks. */
enum class Protocol {
    smtp,  ///< RFC 5321: EHLO, HELO fallback
    lmtp,  ///< RFC 2033: LHLO, one reply per recipient after the data
};

/** Who sent a traced line. */
enum class Direction { client, server };

/** Receives each command line sent and each reply line received, without CRLF. Credentials
 * are already redacted. Message data is summarised as one line "[N octets of message data]". */
using Trace = std::function<void(Direction, std::string_view line)>;

/** The verdict on a transaction whose successor was started before it arrived
 * (`Session::can_send_next`). */
struct Settled {
    SendResult result{};
    std::optional<Error> error{};  ///< as `take_error()` would have said; empty: accepted
};

/** What the owner of a Session should do next. */
enum class Want {
    output,         ///< write `output()` to the server, then `consume_output(n)`
    input,          ///< read from the server and pass the bytes to `receive` (or `receive_eof`)
    tls_handshake,  ///< run the TLS client handshake, then call `tls_established()`
    body,           ///< the server awaits message data: `write_body` … `end_body`
    idle,           ///< the operation is complete: `take_error()`, then start the next one
    closed,         ///< the session is over (QUIT answered, or failed: see `error()`)
};

/** Where the session is, so that the owner can choose the deadline for its next wait. */
enum class Phase {
    greeting,   ///< waiting for the 220 greeting
    command,    ///< waiting for a reply to a command
    data_body,  ///< sending message data
    data_end,   ///< waiting for the reply after the end of the data (RFC 5321 4.5.3.2.6)
    idle,       ///< nothing outstanding
};

/**
 * Where the connection stands, whatever operation is in progress. The moves are these, and
 * `closed` and `failed` are final:
 *
 *     connected --220--> greeted --EHLO/LHLO or HELO accepted--> ready
 *     greeted, ready --STARTTLS accepted (220)--> tls_handshake --tls_established()--> greeted
 *     any --QUIT answered, or the server closed while nothing was outstanding--> closed
 *     any --a refused greeting, 421, a protocol error, a lost connection, abort()--> failed
 *
 * Operations other than `expect_greeting` may start in `greeted` or `ready` (hello is not
 * enforced). Facts learnt on the way that allow no new operation are separate getters:
 * `extended()`, `secure()`, `authenticated()`. A transaction in progress is not a stage: it is
 * the operation (`want()`, `phase()`).
 */
enum class Stage {
    connected,      ///< made, or waiting for the greeting (`expect_greeting`)
    greeted,        ///< the 220 greeting arrived (or TLS was just established): hello next
    ready,          ///< hello accepted; transactions and other commands may go
    tls_handshake,  ///< STARTTLS accepted; the owner runs the handshake (`Want::tls_handshake`)
    closed,         ///< QUIT answered, or the server closed the connection between operations
    failed,         ///< the session failed (h11's ERROR): `error()` says why; `want()` is closed
};

struct SessionOptions {
    Protocol protocol = Protocol::smtp;
    Limits limits{};
    bool use_pipelining = true;  ///< pipeline when the server offers PIPELINING (RFC 2920)
    bool use_chunking = true;    ///< send BDAT when the server offers CHUNKING (RFC 3030)
    std::size_t chunk_size = std::size_t{1} << 20;  ///< BDAT chunk size in octets
    Trace trace{};
    std::function<void(const Reply&)> on_reply;  ///< called with every complete reply
};

/**
 * The SMTP client protocol as a state machine that does no I/O (sans-I/O, like h11 and Asio's
 * TLS engine).
 *
 * Theory of operation. The owner starts one operation at a time (`expect_greeting`, `hello`,
 * `send`, `noop` …); each queues command bytes in `output()`, and then the owner loops on
 * `want()`: write the output, read and `receive` input, run a TLS handshake, or stream message
 * data with `write_body`/`end_body`, until `want()` is `idle`. Then `take_error()` says whether
 * the operation failed and `reply()`/`result()` hold what it produced. Time is not the session's
 * business: the owner picks a deadline from `phase()` and calls `abort(errc::timeout, …)` when it
 * passes.
 *
 * Commands: every command gets exactly one reply (LMTP's data step: one per accepted recipient).
 * Replies are matched to outstanding commands in order. Without PIPELINING a command is queued
 * only after the previous reply; with it, MAIL, every RCPT and DATA of a transaction go out in one
 * write (RFC 2920 3.1). A reply when no command is outstanding, a reply whose class makes no sense
 * for its command (354 to RCPT), a malformed or endless reply: each fails the session with
 * `errc::protocol`. A failed session stays failed and wants `closed`.
 *
 * Data: bytes written with `write_body` are normalised to CRLF (a bare CR or LF never reaches the
 * wire, so SMTP smuggling through us is impossible), dot-stuffed for DATA (RFC 5321 4.5.2) or
 * framed in BDAT chunks (RFC 3030); BODY=BINARYMIME data goes unaltered. `end_body` terminates the
 * message. If the connection is lost after the terminator was written and before the reply, the
 * outcome is `errc::outcome_unknown`: the server may have taken the message.
 *
 * Local errors (CR, LF or NUL in an argument, an operation in the wrong state, an extension the
 * server does not offer) throw `Error(errc::invalid_input)` before anything is queued. Nothing the
 * server sends makes the session throw.
 */
class Session {
public:
    explicit Session(SessionOptions options = {});
    Session(Session&& other) noexcept;
    Session& operator=(Session&& other) noexcept;
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    ~Session();

    // ---- driving --------------------------------------------------------------------------

    /** @return what the owner must do next. */
    [[nodiscard]] Want want() const;

    /** @return the phase, for choosing a deadline. */
    [[nodiscard]] Phase phase() const;

    /** @return the stage of the connection (see `Stage`). */
    [[nodiscard]] Stage stage() const;

    /** @return bytes to write to the server (a whole pipelined group at once). */
    [[nodiscard]] std::string_view output() const;

    /** Marks the first `n` bytes of `output()` as written. */
    void consume_output(std::size_t n);

    /** Passes bytes read from the server. */
    void receive(std::string_view bytes);

    /** Reports that the server closed the connection (or that reading failed). */
    void receive_eof();

    /** Reports that the TLS handshake asked for by `Want::tls_handshake` succeeded. */
    void tls_established();

    /**
     * Fails the session because of something the owner saw: a deadline, a cancellation, an I/O
     * or TLS error. After the end of the data was written, `errc::outcome_unknown` is reported
     * instead (with `reason` in the message and `cause`).
     */
    void abort(errc reason, std::string_view message, std::error_code cause = {});

    // ---- operations (each throws Error(errc::invalid_input) when called in the wrong state) --

    /** Waits for the server's greeting (220; 554 or 421 fail). The first operation. */
    void expect_greeting();

    /** EHLO (LHLO for LMTP), falling back to HELO when EHLO gets 500 or 502. */
    void hello(std::string_view local_name);

    /** STARTTLS; after 220 the owner is asked for a handshake, and must call `hello` again. */
    void starttls();

    /** MAIL FROM alone, for callers that drive the transaction step by step. */
    void mail(std::string_view from, const MailParams& params = {});

    /** RCPT TO alone. */
    void rcpt(std::string_view to, const RcptParams& params = {});

    /** DATA alone; after 354 `want()` is `body`. */
    void data();

    /**
     * A whole transaction: MAIL, RCPT for each recipient, then DATA or BDAT. Pipelined when
     * offered. When at least one recipient is accepted `want()` becomes `body`; the result is in
     * `result()`. Refused recipients are part of the result; none accepted fails with
     * `errc::all_recipients_refused`. After a failure inside the transaction RSET is sent so the
     * connection stays usable.
     * @throws Error errc::invalid_input for a bad address or parameter, errc::message_too_large
     * when `params.size` exceeds the server's SIZE.
     */
    void send(const Envelope& envelope);

    /**
     * @return true when `send` may start the next message now, before the verdict on the
     * current one arrived: its data has ended (`end_body`), nothing of it failed so far, the
     * server offers PIPELINING, and no earlier verdict is still awaited (RFC 2920 3.1: the end
     * of a message's data may open the next pipelined group, so a stream of messages costs one
     * round trip each). Then `send` takes over the current transaction's outstanding replies;
     * its verdict comes from `take_settled()`, and the new one is the operation.
     */
    [[nodiscard]] bool can_send_next() const;

    /** @return the verdicts on transactions that were followed by `send` before they
     * arrived, oldest first, once each; nullopt when there is none (yet). When the session
     * fails first, such a transaction gets errc::outcome_unknown (its data was written) or the
     * failure. */
    std::optional<Settled> take_settled();

    /** @return true when `write_body` may be called now, even with output still to write
     * (an owner may gather a piece of data with what waits, for one write). */
    [[nodiscard]] bool accepts_body() const;

    /** Streams message data; call while in the body step, as often as needed. */
    void write_body(std::string_view bytes);

    /** Ends the message data and waits for the final reply (or replies, for LMTP). */
    void end_body();

    /**
     * AUTH (RFC 4954) with `mechanism`, which must outlive the operation: its initial response
     * on the AUTH line (or after the first 334 when the line would exceed 512 octets), then one
     * answer per 334 challenge, base64 both ways and redacted in traces and errors. A challenge
     * the mechanism rejects is cancelled with "*". A 235 from a server that did not prove itself
     * (SCRAM's signature missing) fails the session.
     * Errors: errc::auth_failed (refused, cancelled, or an unproven server).
     */
    void authenticate(sasl::Mechanism& mechanism);

    void reset();                            ///< RSET
    void noop();                             ///< NOOP
    void verify(std::string_view address);   ///< VRFY
    void expand(std::string_view list);      ///< EXPN
    void help(std::string_view topic = {});  ///< HELP
    void quit();                             ///< QUIT; then `want()` is `closed`

    /**
     * Any command line (without CRLF), for extensions; a 2xx or 3xx reply succeeds.
     * @param redacted_trace what the trace shows instead of the line ("" shows the line)
     */
    void command(std::string_view line, std::string_view redacted_trace = {});

    // ---- results ---------------------------------------------------------------------------

    /**
     * @return the failure of the operation that just completed, once; nullopt when it
     * succeeded. A transaction with some recipients refused succeeded.
     */
    std::optional<Error> take_error();

    /** @return the last reply of the last operation. */
    [[nodiscard]] const Reply& reply() const;

    /** @return the outcome of the current or last transaction. */
    [[nodiscard]] const SendResult& result() const;

    /** @return what EHLO/LHLO reported; empty before hello and after STARTTLS. */
    [[nodiscard]] const Capabilities& capabilities() const;

    /** @return true once `hello` succeeded with EHLO/LHLO (false after HELO fallback). */
    [[nodiscard]] bool extended() const;

    /** @return true once the session failed; `error()` says why. */
    [[nodiscard]] bool failed() const;

    /** @return the error that failed the session, or nullptr. */
    [[nodiscard]] const Error* error() const;

    /** @return true after AUTH succeeded. */
    [[nodiscard]] bool authenticated() const;

    /** @return true after a successful `tls_established()`. */
    [[nodiscard]] bool secure() const;

    /** @return the options the session was made with. */
    [[nodiscard]] const SessionOptions& options() const;

private:
    struct State;
    std::unique_ptr<State> s_;
};

}  // namespace missive::smtp
