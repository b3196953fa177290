#include "client/rate_limiter.hpp"

#include <algorithm>
#include <limits>

namespace missive::client::detail {

namespace {

std::chrono::nanoseconds interval_of(std::optional<double> rate, double seconds) {
    if (!rate || *rate <= 0) {
        return std::chrono::nanoseconds(0);
    }
    return std::chrono::nanoseconds(
        static_cast<std::chrono::nanoseconds::rep>(seconds * 1e9 / *rate));
}

}  // namespace

RateLimiter::RateLimiter(std::optional<double> per_second, std::optional<double> per_minute)
    : interval_(std::max(interval_of(per_second, 1), interval_of(per_minute, 60))) {}

std::size_t RateLimiter::batch_within(Clock::duration span) const {
    if (!limited()) {
        return std::numeric_limits<std::size_t>::max();
    }
    return 1 + static_cast<std::size_t>(span / interval_);
}

RateLimiter::Clock::time_point RateLimiter::reserve(std::size_t count, Clock::time_point now) {
    if (!limited() || count == 0) {
        return now;
    }
    // No burst: slots missed while nobody sent are gone.
    const Clock::time_point first = std::max(next_, now);
    const auto n = static_cast<Clock::duration::rep>(count);
    next_ = first + interval_ * n;
    return first + interval_ * (n - 1);
}

}  // namespace missive::client::detail
