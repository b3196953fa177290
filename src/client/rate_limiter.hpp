#pragma once

// The pool's shared rate limit (private to the library): GCRA, the generic cell rate algorithm
// (ITU-T I.371), with no burst tolerance. It owns no clock: the caller passes `now`.

#include <chrono>
#include <cstddef>
#include <optional>

namespace missive::client::detail {

/**
 * Spaces messages at least `interval` apart on average, over everyone who reserves from it,
 * and never lets anyone get ahead of that schedule: after a quiet spell the schedule restarts
 * from the present, so there is no burst (a token bucket of depth one). Messages per second
 * and per minute with no burst come down to one interval, the longer of the two.
 *
 * Taking k at once: `reserve(k, now)` books the next k slots and says when the last of them
 * comes; the caller sends all k then, so the count sent by any time t is never more than the
 * slots that had come by t.
 */
class RateLimiter {
public:
    using Clock = std::chrono::steady_clock;

    /** @param per_second @param per_minute each unset or > 0; both unset: no limit */
    RateLimiter(std::optional<double> per_second, std::optional<double> per_minute);

    /** @return whether there is a limit at all. */
    [[nodiscard]] bool limited() const { return interval_.count() > 0; }

    /** @return the most messages worth booking at once: as many as fit in `span` (at least
     * one), so that a batch never waits long for its last slot. */
    [[nodiscard]] std::size_t batch_within(Clock::duration span) const;

    /** Books `count` slots. @return when the last of them comes (`now` or later): send then. */
    Clock::time_point reserve(std::size_t count, Clock::time_point now);

private:
    Clock::duration interval_{0};
    Clock::time_point next_{};  // the theoretical arrival time of the next message
};

}  // namespace missive::client::detail
