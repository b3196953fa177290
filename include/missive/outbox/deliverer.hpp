#pragma once

// The worker side of the outbox: claims due jobs and sends them through a client::Pool.

#include <missive/client/options.hpp>
#include <missive/client/pool.hpp>
#include <missive/net/url.hpp>
#include <missive/outbox/store.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace missive::outbox {

/** How a Deliverer claims, retries and gives up. */
struct DelivererOptions {
    /// This worker's name in the store (leases, attempts); default "<host>:<pid>".
    std::string worker{};
    /// How long a claim holds a job; renewed while the job is being sent. A worker that dies
    /// leaves its jobs to others when it expires.
    std::chrono::milliseconds lease = std::chrono::minutes(5);
    /// Jobs claimed at once (each goes to the pool as one letter).
    std::size_t batch = 32;
    /// Wait before the second attempt of deferred recipients, doubled for each later one,
    /// with ±`jitter` (a fraction), at most `max_backoff`.
    std::chrono::milliseconds backoff = std::chrono::minutes(1);
    std::chrono::milliseconds max_backoff = std::chrono::hours(1);
    double jitter = 0.25;
    /// Recipients still deferred this long after enqueue are given up (refused, "expired").
    std::chrono::milliseconds max_age = std::chrono::hours(24 * 5);
    /// Retry recipients whose outcome is unknown (connection lost after the end of the data, or
    /// a worker that died there) instead of holding them: they may receive the message twice.
    bool allow_duplicates = false;
    /// Called on the thread of run_once after each attempt is recorded, with the job as claimed
    /// and what the attempt changed (a per-recipient report, progress); must not throw.
    std::function<void(const Job&, const AttemptEnd&)> on_recorded{};
};

/** What one Deliverer::run_once did. */
struct RunReport {
    std::size_t claimed = 0;
    std::size_t delivered = 0;  ///< jobs now done
    std::size_t deferred = 0;   ///< jobs queued again for later
    std::size_t held = 0;       ///< jobs held, outcome unknown
    std::size_t failed = 0;     ///< jobs now failed
    std::size_t lost = 0;       ///< jobs whose lease went to another worker before the end
};

/**
 * Sends the outbox's due jobs through a Pool of its own, recipient by recipient:
 *  - accepted → never sent to again;
 *  - 5xx (or a permanent error) → refused, final;
 *  - 4xx or a connection problem → deferred, retried with exponential backoff and jitter until
 *    `max_age`, then refused ("expired");
 *  - outcome unknown → held for a decision (`Store::release`), or retried with
 *    `allow_duplicates`.
 * Only the recipients still pending go into a later attempt. The stored text is opened afresh
 * for each attempt; just before its end is read (so before the end of the data can be written)
 * the store records it (`Store::mark_data_end`): a worker killed before that mark leaves a job
 * that is retried safely, one killed after it a job held as outcome unknown. The window between
 * the server's verdict and `Store::finish` is the same unknown case.
 *
 * The pool is made with `pool` but `max_attempts = 1` and `allow_duplicates = false`: retries
 * are the outbox's, recorded, never the pool's.
 *
 * Not thread-safe: one thread calls run_once (run several Deliverers for more).
 */
class Deliverer {
public:
    /**
     * @param store must outlive the Deliverer
     * @throws Error errc::config as client::Pool, or for options out of range
     */
    Deliverer(Store& store, net::Url server, client::Options options = {},
              client::PoolOptions pool = {}, DelivererOptions deliverer = {});
    ~Deliverer();
    Deliverer(const Deliverer&) = delete;
    Deliverer& operator=(const Deliverer&) = delete;
    Deliverer(Deliverer&&) = delete;
    Deliverer& operator=(Deliverer&&) = delete;

    /**
     * Claims the jobs due now (up to `batch`), sends them, records every outcome, and returns
     * when all are recorded.
     * @throws Error errc::storage (jobs claimed and not recorded return when their lease expires)
     */
    RunReport run_once();

    /** Runs run_once until a claim finds nothing due. @return the sum of the reports */
    RunReport run_until_idle();

    /** @return this worker's name in the store. */
    [[nodiscard]] const std::string& worker() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace missive::outbox
