// Theory of operation.
//
// Callers' threads only touch the counters (under `mutex`) and post each letter to the pool's
// io_context; everything else (the queue, the retry schedule, the workers) lives on the pool's
// one thread and needs no lock.
//
// A worker is a coroutine that holds one AsyncClient. pump() wakes idle workers when letters
// are queued and starts new ones (up to PoolOptions::connections) when no idle worker is left:
// connections open lazily, when there is work. A worker loops: wait for work (or its idle
// timeout: QUIT and end), make sure its connection is fit (open, not past its message limit,
// nothing unsolicited from the server while it was idle: a 421 or the end), take up to
// pipeline_depth letters with as many rate-limit slots, and hand them to async_send_all. Each
// outcome is settled at once: reported, or put back (at the front of the queue, or in the
// retry schedule with backoff). No protocol decision is made here: replies, RSET, pipelining
// and recipient limits are the engine's.

#include <missive/client/async_client.hpp>
#include <missive/client/pool.hpp>

#include "client/engine.hpp"
#include "client/rate_limiter.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace missive::client {

namespace {

using Clock = std::chrono::steady_clock;

// Under a rate limit, a batch waits at most this long for the last of its slots.
constexpr auto batch_span = std::chrono::milliseconds(100);

// A letter in the pool's hands, between submit and its outcome.
struct Item {
    Letter letter;
    std::size_t index = 0;
    unsigned attempts = 0;         // transactions tried
    bool free_retry_used = false;  // the one retry that does not count (see settle)
    std::function<void(Outcome)> done;
};

// Nothing of the letter reached the server in a way that could deliver it: the connection was
// lost before any reply to it (or it was never sent). Sending it again cannot duplicate it.
bool lost_before_any_reply(const Outcome& o) {
    const Error& e = *o.error;
    return e.code() == errc::connection_lost && !e.reply() && !o.result.mail_reply &&
           o.result.recipients.empty() && !o.result.data_reply && !o.result.message_sent;
}

void check(const PoolOptions& p) {
    const auto bad_rate = [](std::optional<double> r) { return r && !(*r > 0); };
    if (p.connections == 0 || p.pipeline_depth == 0 || p.max_attempts == 0 ||
        bad_rate(p.rate_per_second) || bad_rate(p.rate_per_minute) || p.backoff.count() < 0 ||
        p.max_backoff < p.backoff) {
        throw Error(errc::config,
                    "pool options: connections, pipeline_depth and max_attempts must be at least "
                    "1, rates above 0, and 0 <= backoff <= max_backoff");
    }
}

}  // namespace

struct Pool::Impl {
    // One connection's coroutine: its timer serves the idle wait and the rate wait.
    struct Worker {
        explicit Worker(asio::io_context& io)
            : timer(io) {}

        asio::steady_timer timer;
        Clock::time_point last_used = Clock::now();
    };

    Impl(net::Url url, Options o, PoolOptions p)
        : server(std::move(url))
        , options(std::move(o))
        , pool(p)
        , work(io.get_executor())
        , retry_timer(io)
        , limiter(p.rate_per_second, p.rate_per_minute)
        , random(std::random_device{}()) {
        check(pool);
        // The engine checks the URL against the options without any I/O.
        detail::Engine(options).connect(server);
        thread = std::thread([this] { io.run(); });
    }

    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    Impl(Impl&&) = delete;
    Impl& operator=(Impl&&) = delete;
    ~Impl() = default;

    const net::Url server;
    const Options options;
    const PoolOptions pool;
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> work;
    std::thread thread;
    std::once_flag shut;

    // Shared with the callers' threads.
    mutable std::mutex mutex;
    std::condition_variable settled;
    PoolStats counts;
    std::size_t outstanding = 0;  // submitted, outcome not yet delivered
    std::size_t next_index = 0;
    bool closed = false;

    // The pool's thread only.
    std::deque<Item> ready;
    std::multimap<Clock::time_point, Item> waiting;  // retries, by when they are due
    asio::steady_timer retry_timer;
    std::optional<Clock::time_point> retry_armed;
    std::vector<Worker*> idle;
    std::size_t workers = 0;
    bool stopping = false;
    detail::RateLimiter limiter;
    std::mt19937 random;

    void enqueue(Item item) {
        ready.push_back(std::move(item));
        pump();
    }

    // Work for idle workers first, then new connections while there is more.
    void pump() {
        std::size_t want = ready.size();
        const auto take = [&] { want -= std::min(want, pool.pipeline_depth); };
        while (want > 0 && !idle.empty()) {
            idle.back()->timer.cancel();
            idle.pop_back();
            take();
        }
        while (want > 0 && workers < pool.connections) {
            ++workers;
            asio::co_spawn(io, run_worker(std::make_shared<Worker>(io)), asio::detached);
            take();
        }
    }

    // ---- outcomes ----------------------------------------------------------------------------

    void report(Item& item, Outcome outcome) {
        outcome.index = item.index;
        outcome.attempts = item.attempts;
        {
            const std::lock_guard lock(mutex);
            --counts.in_flight;
            ++(outcome.accepted() ? counts.accepted : counts.failed);
        }
        try {
            item.done(std::move(outcome));
        } catch (...) {  // NOLINT(bugprone-empty-catch): a callback's failure is its own
        }
        {
            const std::lock_guard lock(mutex);
            --outstanding;
        }
        settled.notify_all();
    }

    Clock::duration backoff_after(unsigned attempts) {
        auto wait = std::chrono::duration<double>(pool.backoff);
        for (unsigned i = 1; i < attempts && wait < pool.max_backoff; ++i) {
            wait *= 2;
        }
        wait = std::min(wait, std::chrono::duration<double>(pool.max_backoff));
        std::uniform_real_distribution<double> jitter(0.75, 1.25);
        return std::chrono::duration_cast<Clock::duration>(wait * jitter(random));
    }

    // Decides what becomes of a letter after an attempt: @return the delay before it is sent
    // again, or nullopt when `outcome` is final.
    std::optional<Clock::duration> retry_delay(Item& item, const Outcome& outcome) {
        if (outcome.accepted()) {
            return std::nullopt;
        }
        const Error& e = *outcome.error;
        // A connection found dead when used (an idle one the server closed, the rest of a batch
        // after a failure): nothing of the letter can have arrived, so it goes again at once,
        // uncounted; once, so that a server that always drops still ends in an outcome.
        if (!item.free_retry_used && lost_before_any_reply(outcome)) {
            item.free_retry_used = true;
            --item.attempts;
            return Clock::duration::zero();
        }
        const bool retryable = e.outcome_unknown() ? pool.allow_duplicates : e.transient();
        if (!retryable || item.attempts >= pool.max_attempts) {
            return std::nullopt;
        }
        {
            const std::lock_guard lock(mutex);
            ++counts.retries;
        }
        return backoff_after(item.attempts);
    }

    void requeue(Item item, Clock::duration delay) {
        {
            const std::lock_guard lock(mutex);
            --counts.in_flight;
            ++counts.queued;
        }
        if (delay <= Clock::duration::zero()) {
            ready.push_front(std::move(item));
        } else {
            waiting.emplace(Clock::now() + delay, std::move(item));
            arm_retry();
        }
        pump();
    }

    void arm_retry() {
        if (waiting.empty()) {
            return;
        }
        const Clock::time_point first = waiting.begin()->first;
        if (retry_armed && *retry_armed <= first) {
            return;
        }
        retry_armed = first;
        retry_timer.expires_at(first);  // cancels a later wait: its handler sees an error
        retry_timer.async_wait([this](std::error_code ec) {
            if (ec) {
                return;
            }
            retry_armed.reset();
            const Clock::time_point now = Clock::now();
            while (!waiting.empty() && waiting.begin()->first <= now) {
                ready.push_back(std::move(waiting.begin()->second));
                waiting.erase(waiting.begin());
            }
            arm_retry();
            pump();
        });
    }

    // ---- workers -----------------------------------------------------------------------------

    // @return false when the worker should end: idle too long, or the pool stops.
    asio::awaitable<bool> wait_for_work(Worker& w) {
        while (ready.empty()) {
            const Clock::time_point until = w.last_used + pool.idle_timeout;
            if (stopping || Clock::now() >= until) {
                co_return false;
            }
            w.timer.expires_at(until);
            idle.push_back(&w);
            std::error_code ec;
            co_await w.timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            std::erase(idle, &w);  // pump() took it off already when it woke it
        }
        co_return true;
    }

    // The messages this connection may still carry (ours and the server's RFC 9422 MAILMAX).
    [[nodiscard]] std::size_t room(const AsyncClient& client, std::size_t carried) const {
        std::uint64_t limit = pool.messages_per_connection == 0
                                  ? std::numeric_limits<std::uint64_t>::max()
                                  : pool.messages_per_connection;
        if (const auto mail_max = client.session().capabilities().mail_max()) {
            limit = std::min(limit, std::max<std::uint64_t>(*mail_max, 1));
        }
        return carried >= limit ? 0
                                : static_cast<std::size_t>(std::min<std::uint64_t>(
                                      limit - carried, std::numeric_limits<std::size_t>::max()));
    }

    std::vector<Item> take(std::size_t count) {
        count = std::min(count, ready.size());
        std::vector<Item> batch;
        batch.reserve(count);
        for (std::size_t i = 0; i < count; ++i) {
            batch.push_back(std::move(ready.front()));
            ready.pop_front();
            ++batch.back().attempts;
        }
        const std::lock_guard lock(mutex);
        counts.queued -= count;
        counts.in_flight += count;
        return batch;
    }

    void set_open(bool& counted, bool open) {
        if (counted == open) {
            return;
        }
        counted = open;
        const std::lock_guard lock(mutex);
        if (open) {
            ++counts.open_connections;
            ++counts.connections_opened;
        } else {
            --counts.open_connections;
        }
    }

    static asio::awaitable<void> quit(AsyncClient& client) {
        try {
            co_await client.async_quit(asio::use_awaitable);
        } catch (const Error&) {  // NOLINT(bugprone-empty-catch): closing anyway
        }
        client.close();
    }

    // Every letter of `batch` settled with `error` (the connection could not be made).
    void fail(std::vector<Item>& batch, const Error& error) {
        for (Item& item : batch) {
            Outcome outcome;
            outcome.error = error;
            settle(std::move(item), std::move(outcome));
        }
    }

    void settle(Item item, Outcome outcome) {
        if (const auto delay = retry_delay(item, outcome)) {
            requeue(std::move(item), *delay);
        } else {
            report(item, std::move(outcome));
        }
    }

    asio::awaitable<void> run_worker(std::shared_ptr<Worker> self) {
        Worker& w = *self;
        std::optional<AsyncClient> client;  // a new one for each connection
        const auto is_open = [&] { return client && client->is_open(); };
        bool counted_open = false;
        std::size_t carried = 0;  // messages given to this connection
        while (co_await wait_for_work(w)) {
            if (is_open() && client->has_unsolicited_input()) {
                client->close();  // a 421 or the end while idle: nothing to say to it
            } else if (is_open() && room(*client, carried) == 0) {
                co_await quit(*client);
            }
            set_open(counted_open, is_open());
            if (!is_open()) {
                try {
                    client.emplace(io.get_executor(), options);
                    co_await client->async_connect(server, asio::use_awaitable);
                } catch (const Error& e) {
                    std::vector<Item> batch = take(pool.pipeline_depth);
                    fail(batch, e);
                    break;
                }
                carried = 0;
                set_open(counted_open, true);
                if (client->tls() != nullptr && client->tls()->session_resumed) {
                    const std::lock_guard lock(mutex);
                    ++counts.tls_sessions_resumed;
                }
            }
            std::vector<Item> batch = take(std::min(
                {pool.pipeline_depth, room(*client, carried), limiter.batch_within(batch_span)}));
            if (batch.empty()) {
                continue;  // others took the work while this one connected
            }
            const Clock::time_point slot = limiter.reserve(batch.size(), Clock::now());
            if (slot > Clock::now()) {
                w.timer.expires_at(slot);
                std::error_code ec;
                co_await w.timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            }
            co_await send(*client, batch);
            carried += batch.size();
            w.last_used = Clock::now();
            set_open(counted_open, is_open());
        }
        if (is_open()) {
            co_await quit(*client);
        }
        set_open(counted_open, false);
        --workers;
        pump();  // a retry may have come due meanwhile
    }

    // One batch on one connection; final outcomes are reported as they come, letters to retry
    // are put back when the batch is over (async_send_all holds them until then).
    asio::awaitable<void> send(AsyncClient& client, std::vector<Item>& batch) {
        std::vector<Letter> letters;
        letters.reserve(batch.size());
        for (Item& item : batch) {
            letters.push_back(std::move(item.letter));
        }
        std::vector<std::optional<Clock::duration>> again(batch.size());
        std::vector<bool> settled_here(batch.size(), false);
        const auto on_outcome = [&](Outcome outcome) {
            const std::size_t i = outcome.index;
            if (i >= batch.size() || settled_here[i]) {
                return;
            }
            settled_here[i] = true;
            again[i] = retry_delay(batch[i], outcome);
            if (!again[i]) {
                report(batch[i], std::move(outcome));
            }
        };
        std::optional<Error> failure;
        try {
            co_await client.async_send_all(letters, on_outcome, asio::use_awaitable);
        } catch (const Error& e) {
            failure = e;
        }
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (!settled_here[i]) {
                on_outcome(detail::not_sent(i, failure));
            }
            if (again[i]) {
                batch[i].letter = std::move(letters[i]);
                requeue(std::move(batch[i]), *again[i]);
            }
        }
    }

    // ---- callers' side -----------------------------------------------------------------------

    std::size_t submit(Letter letter, std::function<void(Outcome)> done) {
        Item item{.letter = std::move(letter), .done = std::move(done)};
        {
            const std::lock_guard lock(mutex);
            if (closed) {
                throw Error(errc::invalid_input, "the pool is shut down: it takes no more letters");
            }
            item.index = next_index++;
            ++counts.submitted;
            ++counts.queued;
            ++outstanding;
        }
        const std::size_t index = item.index;
        asio::post(io, [this, item = std::move(item)]() mutable { enqueue(std::move(item)); });
        return index;
    }

    // Waiting on the pool's thread would wait for itself.
    void not_on_pool_thread(const char* what) const {
        if (std::this_thread::get_id() == thread.get_id()) {
            throw Error(errc::invalid_input, std::string("Pool::") + what +
                                                 " called on the pool's thread (from a "
                                                 "callback): it would wait for itself");
        }
    }

    void drain() {
        not_on_pool_thread("drain");
        std::unique_lock lock(mutex);
        settled.wait(lock, [this] { return outstanding == 0; });
    }

    void shutdown() {
        not_on_pool_thread("shutdown");
        {
            const std::lock_guard lock(mutex);
            closed = true;
        }
        std::call_once(shut, [this] {
            drain();
            asio::post(io, [this] {
                stopping = true;
                for (Worker* w : idle) {
                    w->timer.cancel();
                }
                idle.clear();
            });
            work.reset();  // run() returns when the last worker has said QUIT
            thread.join();
        });
    }
};

Pool::Pool(net::Url server, Options options, PoolOptions pool)
    : impl_(std::make_shared<Impl>(std::move(server), std::move(options), pool)) {}

Pool::~Pool() {
    try {
        impl_->shutdown();
    } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor does not throw
    }
}

Outcome Pool::send(Letter letter) {
    impl_->not_on_pool_thread("send");
    std::promise<Outcome> promise;
    std::future<Outcome> future = promise.get_future();
    impl_->submit(std::move(letter), [&promise](Outcome o) { promise.set_value(std::move(o)); });
    return future.get();
}

std::size_t Pool::submit(Letter letter, std::function<void(Outcome)> done) {
    return impl_->submit(std::move(letter), std::move(done));
}

void Pool::drain() {
    impl_->drain();
}

void Pool::shutdown() {
    impl_->shutdown();
}

PoolStats Pool::stats() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->counts;
}

}  // namespace missive::client
