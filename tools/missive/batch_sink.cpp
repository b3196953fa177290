// Where `missive send --batch` sends its letters: a client::Pool behind the LetterSink that
// the batch runner talks to (tests give it a fake).
#include <missive/client/pool.hpp>
#include <missive/error.hpp>
#include <missive/net/url.hpp>

#include "batch.hpp"

#include <memory>
#include <utility>

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

}  // namespace

std::unique_ptr<LetterSink> make_smtp_sink(const std::string& server,
                                           const client::Options& options,
                                           const SinkSettings& settings) {
    client::PoolOptions pool;
    pool.connections = settings.connections;
    pool.pipeline_depth = settings.pipeline_depth;
    pool.rate_per_second = settings.rate_per_second;
    pool.rate_per_minute = settings.rate_per_minute;
    pool.max_attempts = settings.max_attempts;
    return std::make_unique<PoolSink>(net::Url::parse(server), options, pool);
}

}  // namespace missive::cli
