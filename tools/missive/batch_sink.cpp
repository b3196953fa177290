// Where `missive send --batch` sends its letters: client::Pool.
//
// The Pool is declared in the library (include/missive/client/pool.hpp) and defined by a
// separate piece of work; CMake defines MISSIVE_HAVE_POOL once src/client/pool.cpp exists. The
// Pool's wiring (PoolSink) is compiled either way, against the declared interface; until the
// Pool is there, ConnectionsSink stands in: N blocking clients on threads of their own with
// the Pool's documented behaviour for what the batch relies on (retries of transient failures
// with backoff, never of an unknown outcome; one shared rate).
#include <missive/client/client.hpp>
#include <missive/client/pool.hpp>
#include <missive/error.hpp>
#include <missive/net/url.hpp>

#include "batch.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <span>
#include <thread>

namespace missive::cli {

namespace {

class PoolSink final : public LetterSink {
public:
    PoolSink(net::Url server, client::Options options, const client::PoolOptions& pool)
        : pool_(std::move(server), std::move(options), pool) {}

    PoolSink(const PoolSink&) = delete;
    PoolSink& operator=(const PoolSink&) = delete;
    PoolSink(PoolSink&&) = delete;
    PoolSink& operator=(PoolSink&&) = delete;
    ~PoolSink() override = default;

    void submit(client::Letter letter, std::function<void(client::Outcome)> done) override {
        (void)pool_.submit(std::move(letter), std::move(done));
    }

    void drain() override { pool_.drain(); }

private:
    client::Pool pool_;
};

// An error every attempt would meet alike (the batch stops on it): not retried.
bool retry_is_pointless(const Error& e) {
    switch (e.kind()) {
        case errc::config:
        case errc::tls:
        case errc::certificate:
        case errc::starttls_unavailable:
        case errc::auth_failed:
        case errc::auth_unavailable:
        case errc::connect_failed:
            return true;
        default:
            return false;
    }
}

class ConnectionsSink final : public LetterSink {
public:
    ConnectionsSink(net::Url server, client::Options options, const SinkSettings& settings)
        : server_(std::move(server))
        , options_(std::move(options))
        , max_attempts_(std::max(1U, settings.max_attempts)) {
        double interval = 0;
        if (settings.rate_per_second && *settings.rate_per_second > 0) {
            interval = 1 / *settings.rate_per_second;
        }
        if (settings.rate_per_minute && *settings.rate_per_minute > 0) {
            interval = std::max(interval, 60 / *settings.rate_per_minute);
        }
        interval_ = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(interval));
        next_slot_ = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < std::max<std::size_t>(1, settings.connections); ++i) {
            workers_.emplace_back([this] { work(); });
        }
    }

    ConnectionsSink(const ConnectionsSink&) = delete;
    ConnectionsSink& operator=(const ConnectionsSink&) = delete;
    ConnectionsSink(ConnectionsSink&&) = delete;
    ConnectionsSink& operator=(ConnectionsSink&&) = delete;

    ~ConnectionsSink() override {
        {
            const std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        work_cv_.notify_all();
        for (auto& w : workers_) {
            w.join();
        }
    }

    void submit(client::Letter letter, std::function<void(client::Outcome)> done) override {
        {
            const std::lock_guard lock(mutex_);
            queue_.push_back(Item{std::move(letter), std::move(done), next_index_++, 0, {}});
            ++pending_;
        }
        work_cv_.notify_one();
    }

    void drain() override {
        std::unique_lock lock(mutex_);
        done_cv_.wait(lock, [this] { return pending_ == 0; });
    }

private:
    struct Item {
        client::Letter letter;
        std::function<void(client::Outcome)> done;
        std::size_t index = 0;
        unsigned attempts = 0;
        std::chrono::steady_clock::time_point not_before{};
    };

    // The shared rate: each message takes the next slot, never more than one ahead.
    void pace() {
        if (interval_ == std::chrono::steady_clock::duration::zero()) {
            return;
        }
        std::chrono::steady_clock::time_point slot;
        {
            const std::lock_guard lock(mutex_);
            slot = std::max(next_slot_, std::chrono::steady_clock::now());
            next_slot_ = slot + interval_;
        }
        std::this_thread::sleep_until(slot);
    }

    void work() {
        std::optional<client::Client> connection;
        for (;;) {
            Item item;
            {
                std::unique_lock lock(mutex_);
                work_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
                if (queue_.empty()) {
                    break;
                }
                item = std::move(queue_.front());
                queue_.pop_front();
            }
            std::this_thread::sleep_until(item.not_before);
            pace();
            ++item.attempts;
            client::Outcome outcome;
            try {
                if (!connection || !connection->is_open()) {
                    connection.reset();
                    connection.emplace(options_);
                    connection->connect(server_);
                }
                connection->send_all(std::span(&item.letter, 1),
                                     [&outcome](client::Outcome o) { outcome = std::move(o); });
            } catch (const Error& e) {
                outcome.error = e;
                connection.reset();
            }
            outcome.index = item.index;
            outcome.attempts = item.attempts;
            if (outcome.error && outcome.error->transient() && !outcome.error->outcome_unknown() &&
                !retry_is_pointless(*outcome.error) && item.attempts < max_attempts_) {
                // As PoolOptions::backoff: 1 s, doubled for each later attempt.
                item.not_before = std::chrono::steady_clock::now() +
                                  std::chrono::seconds(1) * (1U << (item.attempts - 1));
                const std::lock_guard lock(mutex_);
                queue_.push_back(std::move(item));
                continue;
            }
            item.done(std::move(outcome));
            {
                const std::lock_guard lock(mutex_);
                --pending_;
            }
            done_cv_.notify_all();
        }
        if (connection && connection->is_open()) {
            try {
                connection->quit();
            } catch (const Error&) {
                // Every outcome is known; a QUIT that fails changes none of them.
            }
        }
    }

    net::Url server_;
    client::Options options_;
    unsigned max_attempts_;
    std::chrono::steady_clock::duration interval_{};
    std::chrono::steady_clock::time_point next_slot_{};
    std::mutex mutex_;
    std::condition_variable work_cv_, done_cv_;
    std::deque<Item> queue_;
    std::size_t next_index_ = 0;
    std::size_t pending_ = 0;
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

}  // namespace

std::unique_ptr<LetterSink> make_smtp_sink(const std::string& server,
                                           const client::Options& options,
                                           const SinkSettings& settings) {
    net::Url url = net::Url::parse(server);
#if defined(MISSIVE_HAVE_POOL)
    client::PoolOptions pool;
    pool.connections = settings.connections;
    pool.pipeline_depth = settings.pipeline_depth;
    pool.rate_per_second = settings.rate_per_second;
    pool.rate_per_minute = settings.rate_per_minute;
    pool.max_attempts = settings.max_attempts;
    return std::make_unique<PoolSink>(std::move(url), options, pool);
#else
    return std::make_unique<ConnectionsSink>(std::move(url), options, settings);
#endif
}

}  // namespace missive::cli
