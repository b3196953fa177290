#pragma once

// A pool of connections to one server, with a shared rate limit and retries: the way to send
// many messages (receipts, notifications, newsletters) from few threads.

#include <missive/client/letter.hpp>
#include <missive/client/options.hpp>
#include <missive/net/url.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

namespace missive::client {

/** How a Pool spreads, paces and retries its messages; every field has a usable default. */
struct PoolOptions {
    /// Connections open at most at once; each is opened when there is work for it.
    std::size_t connections = 4;
    /// Messages one connection carries before it is closed with QUIT and a new one opened;
    /// 0: no limit of ours (the server's LIMITS MAILMAX still counts, RFC 9422).
    std::size_t messages_per_connection = 1000;
    /// A connection unused this long is closed with QUIT.
    std::chrono::milliseconds idle_timeout = std::chrono::seconds(30);
    /// Messages sent one after the other on a connection without waiting for the replies of
    /// the previous ones (one round trip per message, RFC 2920 3.1); 1 waits for each.
    std::size_t pipeline_depth = 32;
    /// Messages per second, over all connections together (GCRA, a token bucket without
    /// burst: never ahead of the rate, however many connections start at once). A connection
    /// takes k letters only with k slots, at most as many as come within 100 ms, and sends
    /// them when the last one comes. Unset: no limit.
    std::optional<double> rate_per_second{};
    /// Messages per minute, over all connections; with both set, both hold (without burst,
    /// that is the longer of the two intervals).
    std::optional<double> rate_per_minute{};
    /// Attempts for a message that meets a transient failure (4xx, a dropped connection, a
    /// 421, a timeout): after the last one its outcome is that failure.
    unsigned max_attempts = 3;
    /// Wait before the second attempt, doubled for each later one, with ±25% jitter.
    std::chrono::milliseconds backoff = std::chrono::seconds(1);
    /// The longest wait between attempts.
    std::chrono::milliseconds max_backoff = std::chrono::minutes(1);
    /// Retry a message whose outcome is unknown (the connection failed after its end of data
    /// went out): it may then arrive twice. Off: it is reported as errc::outcome_unknown.
    bool allow_duplicates = false;
};

/** Counters of a Pool, for progress and metrics. */
struct PoolStats {
    std::uint64_t submitted = 0;  ///< letters given to the pool
    std::uint64_t accepted = 0;   ///< outcomes: accepted for at least one recipient
    std::uint64_t failed = 0;     ///< outcomes with an error (refused, transient, unknown)
    std::uint64_t retries = 0;    ///< attempts after the first
    std::uint64_t connections_opened = 0;
    std::uint64_t tls_sessions_resumed = 0;  ///< connections whose TLS resumed a session
    std::size_t queued = 0;                  ///< waiting for a connection (or a retry time)
    std::size_t in_flight = 0;               ///< on a connection now
    std::size_t open_connections = 0;
};

/**
 * Up to `PoolOptions::connections` connections to one server, all made with the same
 * `Options` (so the same TLS and credential settings: a connection is never shared between
 * settings), opened when needed and reused across messages. A connection is reopened after a
 * 421, a drop or an idle timeout; a message that met a transient failure is tried again (up to
 * `max_attempts`, with backoff), on any connection. The rate limit is shared by all of them.
 * TLS sessions are resumed across the pool's connections (the shared TlsContext).
 *
 * A connection that cannot be made costs the letters it was opened for an attempt each (so a
 * server that is down ends in errc::connect_failed after `max_attempts`); a letter lost with
 * its connection before any reply to it (nothing of it can have been delivered) goes again at
 * once without counting as an attempt, once.
 *
 * Thread-safe: `send` and `submit` may be called from any number of threads. The connections
 * run on one thread of the pool's own. Every letter's `Outcome` is reported exactly once:
 * returned by `send`, or given to `submit`'s callback (on the pool's thread: it must not block
 * on the pool). The async interface is in <missive/client/async_pool.hpp>.
 */
class Pool {
public:
    /**
     * Starts the pool's thread; no connection is made before there is a letter.
     * @param server where every connection goes (its query options apply to each, as in
     * Client::connect(url))
     * @param options for every connection of the pool: one TLS and credential setting
     * @param pool how many connections, how fast, how many attempts
     * @throws Error errc::config when `server` and `options` contradict (as Client::connect), or
     * `pool` is unusable (no connections, pipeline_depth or max_attempts 0, a rate not above 0,
     * backoff above max_backoff)
     */
    Pool(net::Url server, Options options = {}, PoolOptions pool = {});
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;
    Pool(Pool&&) = delete;
    Pool& operator=(Pool&&) = delete;
    /** As shutdown(): waits for what was submitted, then QUIT on every connection. Not from
     * a callback of the pool (its thread cannot wait for itself). */
    ~Pool();

    /**
     * Sends `letter` (retrying as PoolOptions says) and waits for its outcome.
     * @return the outcome: a failure of the letter is there, not thrown
     * @throws Error errc::invalid_input after shutdown(), or when called on the pool's thread
     * (from a callback: it would wait for itself)
     */
    [[nodiscard]] Outcome send(Letter letter);

    /**
     * Queues `letter` and returns at once; `done` gets its outcome (with `index` = the order of
     * submission, counted from 0 for this pool) on the pool's thread. `done` should be quick
     * and must not wait for the pool (send, drain, shutdown); what it throws is ignored. The
     * queue takes whatever is submitted: pace submissions by outcomes (or drain) to bound it.
     * @return that index
     * @throws Error errc::invalid_input after shutdown()
     */
    std::size_t submit(Letter letter, std::function<void(Outcome)> done);

    /** Waits until every letter submitted so far has its outcome (and its callback returned).
     * @throws Error errc::invalid_input on the pool's thread */
    void drain();

    /** Refuses new letters, drains, then closes every connection with QUIT and ends the pool's
     * thread; later sends fail with errc::invalid_input. Idempotent.
     * @throws Error errc::invalid_input on the pool's thread */
    void shutdown();

    [[nodiscard]] PoolStats stats() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace missive::client
