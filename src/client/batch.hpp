#pragma once

// The bookkeeping of Client::send_all (private to the library, no I/O): which transaction goes
// next, and what became of each letter. A letter is one transaction, or several when its
// recipients exceed the server's RCPTMAX (RFC 9422) or some are answered 452 "too many
// recipients" (RFC 5321 4.5.3.1.10); its outcome merges them, and is reported once, when its
// last transaction ended.

#include <missive/client/letter.hpp>
#include <missive/error.hpp>
#include <missive/smtp/envelope.hpp>
#include <missive/smtp/result.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <vector>

namespace missive::client::detail {

/** The outcome of a letter that never went out because the connection failed before it
 * (`cause`: that failure): transient, safe to send again. */
Outcome not_sent(std::size_t index, const std::optional<Error>& cause);

class Batch {
public:
    Batch(std::span<const Letter> letters, std::function<void(Outcome)> report);

    /** The next transaction to start. */
    struct Next {
        std::size_t job = 0;  ///< the letter's index
        const Letter* letter = nullptr;
        smtp::Envelope envelope{};  ///< the letter's, with this transaction's recipients
    };

    /** @return the next transaction (a further group of a letter first, then the next
     * letter, its recipients cut at `rcpt_max`), or nullopt when there is none now. */
    std::optional<Next> next(std::optional<std::uint64_t> rcpt_max);

    /** A transaction of letter `index` ended with `result` (and `error`, when it failed). */
    void ended(std::size_t index, smtp::SendResult result, const std::optional<Error>& error);

    /** The connection failed (`cause`): every letter not yet reported gets its outcome now,
     * as far as it got. */
    void abandon(const std::optional<Error>& cause);

    /** @return the exception the caller's callback threw, if it did (the batch then stops). */
    [[nodiscard]] std::exception_ptr callback_error() const { return callback_error_; }

private:
    struct Job {
        std::deque<std::vector<smtp::Recipient>> groups;  // transactions still to start
        std::size_t in_flight = 0;
        smtp::SendResult result;
        std::optional<Error> error;  // of the last transaction that failed
        std::optional<Error> fatal;  // a failure that is the letter's outcome whatever else
        bool any_accepted = false;
        bool started = false;
        bool reported = false;
    };

    void report_if_done(std::size_t index);
    void report(std::size_t index, Job& job);
    void deliver(Outcome outcome);

    std::span<const Letter> letters_;
    std::function<void(Outcome)> report_;
    std::map<std::size_t, Job> jobs_;  // letters started and not yet reported
    std::size_t next_letter_ = 0;
    std::deque<std::size_t> continued_;     // letters with a further group to send first
    std::map<std::size_t, Outcome> ready_;  // outcomes waiting for an earlier letter's
    std::size_t next_report_ = 0;
    std::exception_ptr callback_error_;
};

}  // namespace missive::client::detail
