#pragma once

#include <missive/error.hpp>
#include <missive/transport/transport.hpp>

#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace missive::testing {

/** A message a MemoryTransport took: its envelope and its text as it would have been sent. */
struct SentMessage {
    smtp::Envelope envelope{};
    std::string text{};
};

/**
 * A Transport for the tests of code that sends mail (lettre's `StubTransport`): it sends
 * nothing, keeps what it was given, and answers as a server would. Every recipient is accepted
 * (`250 2.1.5 OK`) unless `refuse`d; when all are refused, send throws
 * errc::all_recipients_refused with each reply, as `Client` does, and keeps nothing. After
 * `fail_with(error)` every send throws that error.
 *
 * Thread-safe.
 */
class MemoryTransport final : public transport::Transport {
public:
    /** @return what was sent so far, oldest first. */
    [[nodiscard]] std::vector<SentMessage> messages() const;

    /** Refuses `address` at RCPT TO with `reply` from now on. */
    void refuse(std::string address,
                smtp::Reply reply = {550, smtp::EnhancedCode{5, 1, 1}, {"mailbox unavailable"}});

    /** Makes every later send throw `error` (e.g. `Error(errc::reply_transient, …)`). */
    void fail_with(Error error);

    /** Forgets the messages, the refusals and the failure. */
    void clear();

private:
    smtp::SendResult send_text(const smtp::Envelope& envelope, std::string_view message) override;

    mutable std::mutex mutex_;
    std::vector<SentMessage> messages_;
    std::vector<std::pair<std::string, smtp::Reply>> refused_;
    std::optional<Error> failure_;
};

}  // namespace missive::testing
