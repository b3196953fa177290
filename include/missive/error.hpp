#pragma once

#include <missive/smtp/reply.hpp>
#include <missive/smtp/result.hpp>

#include <memory>
#include <optional>
#include <string>
#include <system_error>

namespace missive {

/** Every way an operation of missive can fail. */
enum class errc {            // NOLINT(readability-identifier-naming): named like std::errc
    reply_transient = 1,     ///< the server answered 4xx
    reply_permanent,         ///< the server answered 5xx
    protocol,                ///< the server broke the protocol (malformed, unexpected, too long)
    connect_failed,          ///< name resolution or TCP connect failed
    connection_lost,         ///< the connection dropped before the operation finished
    outcome_unknown,         ///< dropped after the end of the data, before its reply
    tls,                     ///< the TLS handshake or record layer failed
    certificate,             ///< the server's certificate was not accepted
    starttls_unavailable,    ///< TLS was required and the server does not offer STARTTLS
    auth_failed,             ///< the server refused the credentials
    auth_unavailable,        ///< no usable authentication mechanism
    timeout,                 ///< a deadline passed
    cancelled,               ///< the caller cancelled the operation
    invalid_input,           ///< the caller passed something that cannot be sent
    message_too_large,       ///< the message exceeds the server's SIZE
    all_recipients_refused,  ///< no recipient was accepted
    config,                  ///< configuration is missing or contradictory
    storage,                 ///< the outbox's storage failed (disk full, I/O, locked)
};

/** @return the category of missive's error codes, named "missive". */
const std::error_category& category() noexcept;

/** Makes `errc` usable as a `std::error_code`. */
std::error_code make_error_code(errc e) noexcept;

/** What an Error carries beyond its code; every field is optional. */
struct ErrorDetails {
    std::optional<smtp::Reply> reply{};        ///< the server's reply that caused it
    std::string command{};                     ///< the command that failed (AUTH redacted)
    std::error_code cause{};                   ///< the OS, Asio or OpenSSL error underneath
    std::optional<smtp::SendResult> report{};  ///< each recipient's outcome so far
    bool connection_usable = false;            ///< the connection can take further commands
};

/**
 * The single exception type of missive. `code()` is an `errc`; the rest says what happened in
 * terms a log reader understands. Copying is cheap and never throws (the details are shared).
 */
class Error : public std::system_error {
public:
    /** Details beyond the code (declared outside the class so `= {}` works as a default). */
    using Details = ErrorDetails;

    /**
     * @param code what kind of failure
     * @param message the whole log line `what()` returns
     * @param details reply, command, cause, report
     */
    Error(errc code, std::string message, Details details = {});

    /** @return the log line, e.g. "RCPT TO:<bob@example.org> refused: 550 5.1.1 user unknown". */
    [[nodiscard]] const char* what() const noexcept override;

    /** @return the kind of failure. */
    [[nodiscard]] errc kind() const noexcept;

    /** @return the server's reply, when the failure came from one. */
    [[nodiscard]] const std::optional<smtp::Reply>& reply() const noexcept;

    /** @return the command that failed, with credentials redacted; empty when none. */
    [[nodiscard]] const std::string& command() const noexcept;

    /** @return the underlying OS, Asio or OpenSSL error; empty when none. */
    [[nodiscard]] std::error_code cause() const noexcept;

    /** @return each recipient's outcome so far, when a send was under way. */
    [[nodiscard]] const std::optional<smtp::SendResult>& report() const noexcept;

    /** @return true when the same connection can go on (e.g. after a refused command). */
    [[nodiscard]] bool connection_usable() const noexcept;

    /**
     * @return true when trying again later may succeed: a 4xx reply, a failed or lost
     * connection, a timeout, a TLS or certificate failure, STARTTLS not offered when TLS is
     * required or refused with 4xx (as Postfix defers these), or all recipients refused with at
     * least one 4xx. Never for outcome_unknown (a retry may deliver twice) or cancelled.
     */
    [[nodiscard]] bool transient() const noexcept;

    /** @return true when trying again will fail the same way: a 5xx reply (also a 5xx refusal
     * of STARTTLS when TLS is required), invalid input, a message too large, or all recipients
     * refused with 5xx only. An error can be neither (protocol, cancelled, outcome_unknown …),
     * never both. */
    [[nodiscard]] bool permanent() const noexcept;

    /**
     * @return true when the message may or may not have been delivered: the connection was
     * lost (or timed out) after the end of the data was sent, before the server's reply
     * (errc::outcome_unknown). Never retry blindly: a retry may deliver the message twice;
     * check with the recipient or the server's logs first. transient() and permanent() are
     * both false for it.
     */
    [[nodiscard]] bool outcome_unknown() const noexcept;

private:
    struct Data;
    std::shared_ptr<const Data> data_;
};

}  // namespace missive

template <>
struct std::is_error_code_enum<missive::errc> : std::true_type {};
