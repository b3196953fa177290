// Throughput at scale, the missive side of bench/run_scale.sh: sends COUNT messages of SIZE
// octets, each to RCPTS recipients, over CONNECTIONS connections, with one of the clients:
//   blocking  Client::send, one message after another (a thread per Client)
//   send_all  Client::send_all (a thread per Client)
//   async     AsyncClient::async_send_all (every connection on one io_context thread)
//   pool      client::Pool with CONNECTIONS connections, letters given with submit() (at most
//             512 not yet reported)
//             (only when the build found src/client/pool.cpp: MISSIVE_BENCH_HAVE_POOL)
// The bulk modes hand their letters over in batches, sent again and again, so that what grows
// with COUNT is the library's, not this program's list of letters: at most 1000 letters and
// 1 MiB of them (1000 of 1 KB, 10 of 100 KB), so that like the blocking mode and raw_writer
// they send from memory that stays in the cache (with 100 MB of distinct letters, send_all
// spent 3x the CPU of blocking sends of one string). Between batches the pipeline drains: one
// extra round trip per batch.
// Options: --starttls=CAFILE (STARTTLS required, the server's certificate checked against
// CAFILE); --file=PATH (send_all and async: the message is read from PATH, SIZE is ignored).
// Prints one line: messages/s, client CPU ms per message (getrusage, user + sys, every
// thread, connecting included) and max RSS. Not a test: it never fails on time, only when a
// message is not accepted.
// Usage: scale MODE HOST PORT COUNT SIZE [RCPTS=1] [CONNECTIONS=1] [--starttls=CA] [--file=P]
#include <missive/client/async_client.hpp>
#include <missive/client/client.hpp>
#include <missive/client/letter.hpp>
#ifdef MISSIVE_BENCH_HAVE_POOL
#include <missive/client/pool.hpp>
#endif

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <functional>
#include <iostream>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace client = missive::client;

constexpr std::size_t max_batch = 1000;
constexpr std::size_t max_batch_octets = std::size_t{1} << 20;

struct Config {
    std::string mode;
    std::string host;
    std::uint16_t port = 0;
    std::size_t count = 0;
    std::size_t size = 0;
    std::size_t rcpts = 1;
    std::size_t connections = 1;
    std::string ca_file;  // empty: plain text
    std::string file;     // empty: the message is text in memory
};

struct Work {
    missive::smtp::Envelope envelope;
    std::string text;
    std::filesystem::path file;
    client::Options options;
    std::atomic<std::size_t> refused{0};

    [[nodiscard]] client::Letter letter() const {
        return file.empty() ? client::Letter(envelope, text) : client::Letter(envelope, file);
    }

    [[nodiscard]] std::size_t batch_size() const {
        return std::clamp(max_batch_octets / std::max<std::size_t>(text.size(), 1), std::size_t{1},
                          max_batch);
    }

    // Letters for `total` messages, reused batch after batch.
    [[nodiscard]] std::vector<client::Letter> letters(std::size_t total) const {
        return std::vector<client::Letter>(std::min(total, batch_size()), letter());
    }

    void count(const client::Outcome& outcome) {
        if (!outcome.accepted()) {
            if (refused++ == 0) {
                std::cerr << "scale: " << outcome.error->what() << '\n';
            }
        }
    }
};

std::size_t share_of(const Config& c, std::size_t t) {
    return c.count / c.connections + (t < c.count % c.connections ? 1 : 0);
}

// One Client per thread: `body` sends that connection's `share` messages.
void on_threads(const Config& c, Work& work,
                const std::function<void(client::Client&, std::size_t)>& body) {
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < c.connections; ++t) {
        threads.emplace_back([&, t] {
            try {
                client::Client cl(work.options);
                cl.connect(c.host, c.port);
                body(cl, share_of(c, t));
                cl.quit();
            } catch (const std::exception& e) {
                std::cerr << "scale: " << e.what() << '\n';
                ++work.refused;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
}

void run_blocking(const Config& c, Work& work) {
    on_threads(c, work, [&](client::Client& cl, std::size_t share) {
        for (std::size_t i = 0; i < share; ++i) {
            (void)cl.send(work.envelope, work.text);
        }
    });
}

void run_send_all(const Config& c, Work& work) {
    on_threads(c, work, [&](client::Client& cl, std::size_t share) {
        const auto letters = work.letters(share);
        for (std::size_t sent = 0; sent < share; sent += letters.size()) {
            const std::span<const client::Letter> batch(letters.data(),
                                                        std::min(letters.size(), share - sent));
            cl.send_all(batch, [&](const client::Outcome& o) { work.count(o); });
        }
    });
}

// One connection of the async mode (a function, not a lambda: a coroutine lambda's captures
// die with the lambda object, before the coroutine ends).
asio::awaitable<void> async_connection(const Config& c, Work& work, asio::io_context& io,
                                       std::size_t share) {
    client::AsyncClient cl(io.get_executor(), work.options);
    co_await cl.async_connect(c.host, c.port, asio::use_awaitable);
    const auto letters = work.letters(share);
    for (std::size_t sent = 0; sent < share; sent += letters.size()) {
        const std::span<const client::Letter> batch(letters.data(),
                                                    std::min(letters.size(), share - sent));
        co_await cl.async_send_all(
            batch, [&](const client::Outcome& o) { work.count(o); }, asio::use_awaitable);
    }
    co_await cl.async_quit(asio::use_awaitable);
}

void run_async(const Config& c, Work& work) {
    asio::io_context io;
    for (std::size_t t = 0; t < c.connections; ++t) {
        asio::co_spawn(io, async_connection(c, work, io, share_of(c, t)),
                       [&work](const std::exception_ptr& e) {
                           if (!e) {
                               return;
                           }
                           try {
                               std::rethrow_exception(e);
                           } catch (const std::exception& x) {
                               std::cerr << "scale: " << x.what() << '\n';
                               ++work.refused;
                           }
                       });
    }
    io.run();
}

#ifdef MISSIVE_BENCH_HAVE_POOL
// Letters go to the pool through a window of letters not yet reported, so that its queue stays
// bounded and its pipelines never drain: 2 x CONNECTIONS x the default pipeline depth of 32, or
// more, up to 512 letters or 1 MiB of them (as the batches of the other bulk modes: 64 letters
// of 100 KB on one connection, 512 of 1 KB).
std::size_t pool_window(const Config& c, const Work& work) {
    const std::size_t least = 2 * c.connections * 32;
    return std::max(least, std::min<std::size_t>(512, work.batch_size()));
}

void run_pool(const Config& c, Work& work) {
    auto url = missive::net::Url::parse("smtp://" + c.host + ":" + std::to_string(c.port));
    client::Pool pool(
        std::move(url), work.options,
        client::PoolOptions{.connections = c.connections, .messages_per_connection = 0});
    std::mutex mutex;
    std::condition_variable reported;
    std::size_t outstanding = 0;
    const std::size_t window = pool_window(c, work);
    for (std::size_t i = 0; i < c.count; ++i) {
        {
            std::unique_lock lock(mutex);
            reported.wait(lock, [&] { return outstanding < window; });
            ++outstanding;
        }
        pool.submit(work.letter(), [&](const client::Outcome& o) {
            work.count(o);
            {
                const std::lock_guard lock(mutex);
                --outstanding;
            }
            reported.notify_one();
        });
    }
    pool.shutdown();
}
#endif

#ifdef MISSIVE_BENCH_HAVE_POOL
const std::string modes = "blocking|send_all|async|pool";
#else
const std::string modes = "blocking|send_all|async";
#endif

Config parse(int argc, char** argv) {
    std::vector<std::string> positional;
    Config c;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a.starts_with("--starttls=")) {
            c.ca_file = a.substr(11);
        } else if (a.starts_with("--file=")) {
            c.file = a.substr(7);
        } else {
            positional.push_back(a);
        }
    }
    if (positional.size() < 5) {
        throw std::invalid_argument("usage: scale " + modes +
                                    " HOST PORT COUNT SIZE [RCPTS=1] "
                                    "[CONNECTIONS=1] [--starttls=CAFILE] [--file=PATH]");
    }
    c.mode = positional[0];
    c.host = positional[1];
    c.port = static_cast<std::uint16_t>(std::stoul(positional[2]));
    c.count = std::stoul(positional[3]);
    c.size = std::stoul(positional[4]);
    c.rcpts = positional.size() > 5 ? std::stoul(positional[5]) : 1;
    c.connections = positional.size() > 6 ? std::stoul(positional[6]) : 1;
    return c;
}

double seconds(timeval tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

int run(int argc, char** argv) {
    const Config c = parse(argc, argv);
    Work work;
    work.envelope.from = "alice@example.org";
    for (std::size_t r = 0; r < c.rcpts; ++r) {
        work.envelope.to.push_back("bob" + std::to_string(r) + "@example.org");
    }
    work.file = c.file;
    if (c.file.empty()) {
        work.text = "Subject: throughput\r\n\r\n";
        while (work.text.size() < c.size) {
            work.text += "The quick brown fox jumps over the lazy dog.\r\n";
        }
    }
    work.options.local_name = "bench.missive.test";
    if (!c.ca_file.empty()) {
        work.options.tls = missive::net::TlsMode::starttls_required;
        work.options.tls_options.ca_file = c.ca_file;
    } else {
        work.options.tls = missive::net::TlsMode::none_insecure;
    }
    if (!c.file.empty() && c.mode != "send_all" && c.mode != "async") {
        throw std::invalid_argument("--file is for send_all and async");
    }
    const auto start = std::chrono::steady_clock::now();
    if (c.mode == "blocking") {
        run_blocking(c, work);
    } else if (c.mode == "send_all") {
        run_send_all(c, work);
    } else if (c.mode == "async") {
        run_async(c, work);
#ifdef MISSIVE_BENCH_HAVE_POOL
    } else if (c.mode == "pool") {
        run_pool(c, work);
#endif
    } else {
        std::cerr << "scale: no mode " << c.mode << " in this build\n";
        return 64;
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const auto n = static_cast<double>(c.count);
    std::printf("%.0f msg/s  %.4f CPU ms/msg  %ld KiB max RSS\n", n / took.count(),
                (seconds(usage.ru_utime) + seconds(usage.ru_stime)) * 1000 / n, usage.ru_maxrss);
    return work.refused == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "scale: " << e.what() << '\n';
        return 64;
    }
}
