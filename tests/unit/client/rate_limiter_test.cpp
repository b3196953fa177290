#include "client/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>

using missive::client::detail::RateLimiter;
using namespace std::chrono_literals;

namespace {

const RateLimiter::Clock::time_point t0{};

TEST(RateLimiter, NoLimitNeverWaits) {
    RateLimiter r(std::nullopt, std::nullopt);
    EXPECT_FALSE(r.limited());
    EXPECT_EQ(r.reserve(1000, t0), t0);
}

TEST(RateLimiter, SpacesSlotsWithoutBurst) {
    RateLimiter r(10, std::nullopt);  // one per 100 ms
    EXPECT_EQ(r.reserve(1, t0), t0);
    EXPECT_EQ(r.reserve(1, t0), t0 + 100ms);
    EXPECT_EQ(r.reserve(3, t0), t0 + 400ms);  // 200, 300, 400
    // A quiet spell saves nothing up: the next slot is now, the one after a full interval on.
    EXPECT_EQ(r.reserve(1, t0 + 10s), t0 + 10s);
    EXPECT_EQ(r.reserve(1, t0 + 10s), t0 + 10s + 100ms);
}

TEST(RateLimiter, BothLimitsHoldTheLongerIntervalWins) {
    RateLimiter r(10, 300);  // 100 ms and 200 ms
    EXPECT_EQ(r.reserve(2, t0), t0 + 200ms);
    RateLimiter s(2, 6000);  // 500 ms and 10 ms
    EXPECT_EQ(s.reserve(2, t0), t0 + 500ms);
}

TEST(RateLimiter, BatchWithinASpan) {
    const RateLimiter r(50, std::nullopt);  // 20 ms
    EXPECT_EQ(r.batch_within(100ms), 6U);
    EXPECT_EQ(r.batch_within(0ms), 1U);
}

}  // namespace
