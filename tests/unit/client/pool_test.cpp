// client::Pool against a concurrent testing::Server whose handler speaks enough SMTP to count
// what it accepted (by each message's X-Id), and injects faults by rule: a 421 or a drop at
// MAIL, a 451, a drop after the end of the data (outcome unknown), a close while idle.

#include <missive/client/async_pool.hpp>
#include <missive/client/pool.hpp>
#include <missive/testing/server.hpp>

#include "support/client_options.hpp"

#include <asio.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using missive::errc;
using missive::client::Letter;
using missive::client::Options;
using missive::client::Outcome;
using missive::client::Pool;
using missive::client::PoolOptions;
using missive::net::Url;
using missive::smtp::Envelope;
using missive::testing::Conversation;
using missive::testing::Server;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// What the server does at a step.
enum class Fault { none, reply_421, drop, reply_451, drop_after_data, refuse };

// What the server of a test does, beyond accepting everything.
struct Rules {
    std::vector<std::string> ehlo_extra{};
    std::function<Fault(std::size_t global, std::size_t on_connection)> at_mail{};
    std::function<Fault(std::size_t global)> at_end_of_data{};
    /// After a message's 250: the connection says 421 and stays open without reading
    /// (a server going away while the client thinks it idle).
    std::function<bool(std::size_t on_connection)> leave_after{};
    /// How long the server takes over each message's final reply.
    std::chrono::milliseconds verdict_delay{0};
};

// A small SMTP server for many connections at once; the rules see the count of MAILs so far
// (over all connections, from 0) and on this connection.
class Mta {
public:
    Mta()
        : Mta(Rules{}) {}

    explicit Mta(Rules rules)
        : rules_(std::move(rules))
        , server_([this](Conversation& c) { converse(c); }, server_options()) {}

    [[nodiscard]] Url url() const {
        return Url::parse("smtp://127.0.0.1:" + std::to_string(server_.port()));
    }

    Server& server() { return server_; }

    // How many times each X-Id was accepted.
    std::map<std::string, int> accepted() const {
        const std::lock_guard lock(mutex_);
        return ids_;
    }

    std::vector<Clock::time_point> accept_times() const {
        const std::lock_guard lock(mutex_);
        return times_;
    }

    std::size_t quits() const { return quits_; }

    std::size_t mails() const { return mails_; }

private:
    static Server::Options server_options() {
        Server::Options o;
        o.concurrent = true;
        o.io_timeout = 20s;
        return o;
    }

    void converse(Conversation& c) {
        c.send_line("220 mta.test ESMTP");
        std::size_t on_connection = 0;
        for (;;) {
            const std::string line = c.read_line();
            const std::string verb = line.substr(0, 4);
            if (verb == "EHLO") {
                c.send_line("250-mta.test");
                for (const auto& e : rules_.ehlo_extra) {
                    c.send_line("250-" + e);
                }
                c.send_line("250 PIPELINING");
            } else if (verb == "MAIL") {
                const std::size_t global = mails_++;
                switch (rules_.at_mail ? rules_.at_mail(global, on_connection++) : Fault::none) {
                    case Fault::reply_421:
                        c.send_line("421 4.3.2 mta.test going away");
                        c.close();
                        return;
                    case Fault::drop:
                        c.close();
                        return;
                    case Fault::reply_451:
                        c.send_line("451 4.3.0 try again later");
                        break;
                    default:
                        c.send_line("250 2.1.0 ok");
                }
            } else if (verb == "RCPT") {
                c.send_line(line.find("nobody@") != std::string::npos ? "550 5.1.1 no such user"
                                                                      : "250 2.1.5 ok");
            } else if (verb == "DATA") {
                c.send_line("354 go ahead");
                const std::string data = c.read_data();
                const std::size_t global = ends_++;
                if (rules_.at_end_of_data && rules_.at_end_of_data(global) == Fault::drop) {
                    record(data);  // the message arrived; the client never learns it
                    c.close();
                    return;
                }
                record(data);
                if (rules_.verdict_delay > 0ms) {
                    c.delay(rules_.verdict_delay);
                }
                c.send_line("250 2.0.0 queued");
                if (rules_.leave_after && rules_.leave_after(on_connection)) {
                    c.delay(50ms);  // apart from the 250, as a server's idle timer would
                    c.send_line("421 4.4.2 idle too long");
                    c.wait_eof();
                    return;
                }
            } else if (verb == "RSET" || verb == "NOOP") {
                c.send_line("250 2.0.0 ok");
            } else if (verb == "QUIT") {
                ++quits_;
                c.send_line("221 2.0.0 bye");
                c.close();
                return;
            } else {
                c.send_line("500 5.5.2 what?");
            }
        }
    }

    void record(const std::string& data) {
        const std::size_t at = data.find("X-Id: ");
        const std::string id = at == std::string::npos
                                   ? std::string("?")
                                   : data.substr(at + 6, data.find('\r', at) - at - 6);
        const std::lock_guard lock(mutex_);
        ++ids_[id];
        times_.push_back(Clock::now());
    }

    Rules rules_;
    mutable std::mutex mutex_;
    std::map<std::string, int> ids_;
    std::vector<Clock::time_point> times_;
    std::atomic<std::size_t> quits_{0};
    std::atomic<std::size_t> mails_{0};
    std::atomic<std::size_t> ends_{0};
    Server server_;  // last: it stops before the members its handler uses go
};

// Polls `done` for up to 3 s: for what the pool's thread does after the server has seen it.
template <typename Done>
bool eventually(Done done) {
    for (int i = 0; i < 300 && !done(); ++i) {
        std::this_thread::sleep_for(10ms);
    }
    return done();
}

Options options() {
    return missive::test::client_options();
}

PoolOptions fast(std::size_t connections = 4) {
    PoolOptions p;
    p.connections = connections;
    p.backoff = 10ms;
    p.max_backoff = 50ms;
    p.idle_timeout = 10s;
    return p;
}

Letter letter(std::size_t id, std::string to = "bob@example.org") {
    Envelope e;
    e.from = "alice@example.org";
    e.to.emplace_back(std::move(to));
    return {std::move(e), "X-Id: " + std::to_string(id) + "\r\nSubject: pool\r\n\r\nHello.\r\n"};
}

// Submits `n` letters from `threads` threads, half through submit and half through send;
// @return each letter's outcomes, by X-Id.
std::map<std::size_t, std::vector<Outcome>> send_many(Pool& pool, std::size_t n,
                                                      std::size_t threads) {
    std::mutex mutex;
    std::map<std::size_t, std::vector<Outcome>> outcomes;
    std::vector<std::thread> senders;
    for (std::size_t t = 0; t < threads; ++t) {
        senders.emplace_back([&, t] {
            for (std::size_t id = t; id < n; id += threads) {
                if (id % 2 == 0) {
                    pool.submit(letter(id), [&, id](Outcome o) {
                        const std::lock_guard lock(mutex);
                        outcomes[id].push_back(std::move(o));
                    });
                } else {
                    Outcome o = pool.send(letter(id));
                    const std::lock_guard lock(mutex);
                    outcomes[id].push_back(std::move(o));
                }
            }
        });
    }
    for (auto& s : senders) {
        s.join();
    }
    pool.drain();
    const std::lock_guard lock(mutex);
    return outcomes;
}

TEST(Pool, ManySendersWith421sAndDropsEachOutcomeOnceEachMessageOnce) {
    Mta mta({.at_mail = [](std::size_t global, std::size_t) {
        return global % 13 == 5 ? Fault::reply_421 : global % 17 == 8 ? Fault::drop : Fault::none;
    }});
    PoolOptions p = fast(4);
    p.max_attempts = 5;
    p.pipeline_depth = 4;
    Pool pool(mta.url(), options(), p);
    const std::size_t n = 300;
    const auto outcomes = send_many(pool, n, 6);

    ASSERT_EQ(outcomes.size(), n);
    std::size_t retried = 0;
    for (const auto& [id, list] : outcomes) {
        ASSERT_EQ(list.size(), 1U) << "letter " << id;
        EXPECT_TRUE(list[0].accepted()) << id << ": " << list[0].error->what();
        if (list[0].attempts > 1) {
            ++retried;
        }
    }
    EXPECT_GT(retried, 0U);  // the 421s cost attempts
    const auto got = mta.accepted();
    EXPECT_EQ(got.size(), n);
    for (const auto& [id, times] : got) {
        EXPECT_EQ(times, 1) << "X-Id " << id;
    }
    const auto s = pool.stats();
    EXPECT_EQ(s.submitted, n);
    EXPECT_EQ(s.accepted, n);
    EXPECT_EQ(s.failed, 0U);
    EXPECT_GT(s.retries, 0U);
    EXPECT_EQ(s.queued, 0U);
    EXPECT_EQ(s.in_flight, 0U);
    EXPECT_GT(s.connections_opened, 4U);  // reopened after the faults
    EXPECT_LE(s.open_connections, 4U);
}

TEST(Pool, SubmitIndexesAndCallbacksOnThePoolThread) {
    Mta mta;
    Pool pool(mta.url(), options(), fast(2));
    std::mutex mutex;
    std::vector<std::size_t> indexes;
    std::vector<std::thread::id> threads;
    for (std::size_t i = 0; i < 10; ++i) {
        EXPECT_EQ(pool.submit(letter(i),
                              [&](Outcome o) {
                                  const std::lock_guard lock(mutex);
                                  indexes.push_back(o.index);
                                  threads.push_back(std::this_thread::get_id());
                              }),
                  i);
    }
    pool.drain();
    std::sort(indexes.begin(), indexes.end());
    EXPECT_EQ(indexes, (std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    EXPECT_NE(threads[0], std::this_thread::get_id());
    EXPECT_EQ(std::count(threads.begin(), threads.end(), threads[0]), 10);
}

TEST(Pool, ReconnectsAfter421AndAfterADrop) {
    Mta mta({.at_mail = [](std::size_t global, std::size_t) {
        // MAIL 2 is letter 1's second attempt, MAIL 4 letter 2's free retry.
        return global == 1 ? Fault::reply_421 : global == 3 ? Fault::drop : Fault::none;
    }});
    PoolOptions p = fast(1);
    p.pipeline_depth = 1;
    Pool pool(mta.url(), options(), p);
    std::vector<Outcome> outcomes;
    for (std::size_t i = 0; i < 4; ++i) {
        outcomes.push_back(pool.send(letter(i)));
    }
    for (const auto& o : outcomes) {
        EXPECT_TRUE(o.accepted()) << o.error->what();
    }
    EXPECT_EQ(outcomes[1].attempts, 2U);  // the 421 is a reply: an attempt
    EXPECT_EQ(outcomes[2].attempts, 1U);  // dropped before any reply: again at once, uncounted
    EXPECT_EQ(outcomes[3].attempts, 1U);
    EXPECT_EQ(mta.server().connections(), 3U);
    EXPECT_EQ(pool.stats().connections_opened, 3U);
    EXPECT_EQ(mta.accepted().size(), 4U);
}

TEST(Pool, ADropBeforeAnyReplyIsRetriedOnlyOnceForFree) {
    Mta mta({.at_mail = [](std::size_t, std::size_t) { return Fault::drop; }});
    PoolOptions p = fast(1);
    p.max_attempts = 2;
    Pool pool(mta.url(), options(), p);
    const Outcome o = pool.send(letter(1));
    ASSERT_FALSE(o.accepted());
    EXPECT_EQ(o.error->code(), errc::connection_lost);
    EXPECT_EQ(o.attempts, 2U);
    // Two counted attempts and the free one.
    EXPECT_EQ(mta.mails(), 3U);
}

TEST(Pool, MessagesPerConnectionThenQuitAndANewOne) {
    Mta mta;
    PoolOptions p = fast(1);
    p.messages_per_connection = 3;
    p.pipeline_depth = 2;
    Pool pool(mta.url(), options(), p);
    for (std::size_t i = 0; i < 10; ++i) {
        pool.submit(letter(i), [](Outcome o) { EXPECT_TRUE(o.accepted()); });
    }
    pool.shutdown();
    EXPECT_EQ(mta.accepted().size(), 10U);
    EXPECT_EQ(mta.server().connections(), 4U);  // 3 + 3 + 3 + 1
    EXPECT_EQ(mta.quits(), 4U);
    EXPECT_EQ(pool.stats().connections_opened, 4U);
}

TEST(Pool, ServersMailMaxHonoured) {
    Mta mta({.ehlo_extra = {"LIMITS MAILMAX=2 RCPTMAX=10"}});
    PoolOptions p = fast(1);
    Pool pool(mta.url(), options(), p);
    for (std::size_t i = 0; i < 6; ++i) {
        pool.submit(letter(i), [](Outcome o) { EXPECT_TRUE(o.accepted()); });
    }
    pool.drain();
    EXPECT_EQ(mta.accepted().size(), 6U);
    EXPECT_EQ(mta.server().connections(), 3U);
    EXPECT_EQ(mta.quits(), 2U);  // the third connection is still open
}

TEST(Pool, ConnectionsOpenOnlyWhenNeededAndAtMostTheLimit) {
    // A server slow enough that letters wait for a connection, however busy the machine.
    Mta mta({.verdict_delay = 20ms});
    PoolOptions p = fast(3);
    p.pipeline_depth = 1;
    Pool pool(mta.url(), options(), p);
    EXPECT_EQ(pool.stats().connections_opened, 0U);
    EXPECT_TRUE(pool.send(letter(0)).accepted());
    EXPECT_TRUE(pool.send(letter(1)).accepted());
    EXPECT_EQ(pool.stats().connections_opened, 1U);  // reused
    for (std::size_t i = 2; i < 40; ++i) {
        pool.submit(letter(i), [](Outcome) {});
    }
    pool.drain();
    EXPECT_EQ(pool.stats().connections_opened, 3U);
    EXPECT_EQ(pool.stats().open_connections, 3U);
}

TEST(Pool, IdleConnectionClosedWithQuit) {
    Mta mta;
    PoolOptions p = fast(1);
    p.idle_timeout = 200ms;
    Pool pool(mta.url(), options(), p);
    EXPECT_TRUE(pool.send(letter(0)).accepted());
    EXPECT_EQ(pool.stats().open_connections, 1U);
    ASSERT_TRUE(mta.server().wait_for(1, 3s));
    EXPECT_EQ(mta.quits(), 1U);
    EXPECT_TRUE(eventually([&] { return pool.stats().open_connections == 0; }));
    EXPECT_TRUE(pool.send(letter(1)).accepted());
    EXPECT_EQ(mta.server().connections(), 2U);
}

TEST(Pool, ConnectionTheServerLeftWhileIdleIsNotUsed) {
    // After its message the server says 421 and reads nothing more: a MAIL sent on that
    // connection would be recorded in received(0) (the free retry would hide it otherwise).
    Mta mta({.leave_after = [](std::size_t) { return true; }});
    Pool pool(mta.url(), options(), fast(1));
    EXPECT_TRUE(pool.send(letter(0)).accepted());
    std::this_thread::sleep_for(100ms);
    const Outcome second = pool.send(letter(1));
    EXPECT_TRUE(second.accepted());
    EXPECT_EQ(second.attempts, 1U);
    EXPECT_EQ(mta.server().connections(), 2U);
    const std::string first = mta.server().received(0);
    std::size_t mails = 0;
    for (std::size_t at = first.find("MAIL FROM"); at != std::string::npos;
         at = first.find("MAIL FROM", at + 1)) {
        ++mails;
    }
    EXPECT_EQ(mails, 1U) << first;
}

TEST(Pool, TransientFailuresRetriedWithBackoffUpToMaxAttempts) {
    Mta mta({.at_mail = [](std::size_t global, std::size_t) {
        return global < 2 ? Fault::reply_451 : Fault::none;
    }});
    PoolOptions p = fast(1);
    p.backoff = 100ms;
    p.max_backoff = 1s;
    const auto start = Clock::now();
    {
        Pool pool(mta.url(), options(), p);
        const Outcome o = pool.send(letter(0));
        EXPECT_TRUE(o.accepted());
        EXPECT_EQ(o.attempts, 3U);
        EXPECT_EQ(pool.stats().retries, 2U);
    }
    // 100 ms then 200 ms, each at least 75% of it.
    EXPECT_GE(Clock::now() - start, 225ms);

    Mta always({.at_mail = [](std::size_t, std::size_t) { return Fault::reply_451; }});
    p.max_attempts = 2;
    Pool pool(always.url(), options(), p);
    const Outcome o = pool.send(letter(0));
    ASSERT_FALSE(o.accepted());
    EXPECT_EQ(o.error->code(), errc::reply_transient);
    EXPECT_EQ(o.attempts, 2U);
    EXPECT_EQ(always.mails(), 2U);
}

// A letter split over transactions (RCPTMAX) whose connection fails part way: the retry goes
// to the recipients not yet delivered to, and the outcome lists all of them.
TEST(Pool, RetryAfterAPartialDeliveryGoesToTheRestOnly) {
    Mta mta({.ehlo_extra = {"LIMITS RCPTMAX=2"}, .at_mail = [](std::size_t global, std::size_t) {
                 return global == 1 ? Fault::drop : Fault::none;
             }});
    Pool pool(mta.url(), options(), fast(1));
    Envelope e;
    e.from = "alice@example.org";
    for (const char* to : {"a@example.org", "b@example.org", "c@example.org", "d@example.org"}) {
        e.to.emplace_back(to);
    }
    const Outcome o = pool.send(Letter(e, std::string("X-Id: 9\r\n\r\nsplit\r\n")));
    ASSERT_TRUE(o.accepted()) << o.error->what();
    EXPECT_EQ(o.attempts, 2U);
    EXPECT_EQ(o.result.accepted(), (std::vector<std::string>{"a@example.org", "b@example.org",
                                                             "c@example.org", "d@example.org"}));
    pool.shutdown();
    ASSERT_GE(mta.server().connections(), 2U);
    const std::string retry = mta.server().received(1);
    EXPECT_EQ(retry.find("<a@example.org>"), std::string::npos) << retry;
    EXPECT_EQ(retry.find("<b@example.org>"), std::string::npos) << retry;
    EXPECT_NE(retry.find("RCPT TO:<c@example.org>"), std::string::npos) << retry;
    EXPECT_NE(retry.find("RCPT TO:<d@example.org>"), std::string::npos) << retry;
}

TEST(Pool, PermanentFailureReportedAtOnce) {
    Mta mta;
    Pool pool(mta.url(), options(), fast(1));
    const Outcome o = pool.send(letter(0, "nobody@example.org"));
    ASSERT_FALSE(o.accepted());
    EXPECT_TRUE(o.error->permanent());
    EXPECT_EQ(o.attempts, 1U);
    EXPECT_EQ(pool.stats().retries, 0U);
    EXPECT_EQ(pool.stats().failed, 1U);
}

TEST(Pool, OutcomeUnknownNotRetriedUnlessDuplicatesAllowed) {
    const auto once = [](std::size_t global) { return global == 0 ? Fault::drop : Fault::none; };
    {
        Mta mta({.at_end_of_data = once});
        Pool pool(mta.url(), options(), fast(1));
        const Outcome o = pool.send(letter(7));
        ASSERT_FALSE(o.accepted());
        EXPECT_TRUE(o.error->outcome_unknown());
        EXPECT_EQ(o.attempts, 1U);
        pool.shutdown();
        EXPECT_EQ(mta.accepted().at("7"), 1);
    }
    Mta mta({.at_end_of_data = once});
    PoolOptions p = fast(1);
    p.allow_duplicates = true;
    Pool pool(mta.url(), options(), p);
    const Outcome o = pool.send(letter(7));
    EXPECT_TRUE(o.accepted());
    EXPECT_EQ(o.attempts, 2U);
    EXPECT_EQ(mta.accepted().at("7"), 2);  // the duplicate that was allowed
}

TEST(Pool, ConnectFailureEndsInTheErrorAfterTheAttempts) {
    std::uint16_t port = 0;
    {
        const Mta gone;
        port = gone.url().port;
    }
    PoolOptions p = fast(2);
    p.max_attempts = 2;
    Pool pool(Url::parse("smtp://127.0.0.1:" + std::to_string(port)), options(), p);
    const Outcome o = pool.send(letter(0));
    ASSERT_FALSE(o.accepted());
    EXPECT_EQ(o.error->code(), errc::connect_failed);
    EXPECT_EQ(o.attempts, 2U);
}

TEST(Pool, ShutdownQuitsAndRefusesLaterLetters) {
    Mta mta;
    Pool pool(mta.url(), options(), fast(2));
    EXPECT_TRUE(pool.send(letter(0)).accepted());
    pool.shutdown();
    EXPECT_EQ(mta.quits(), 1U);
    EXPECT_EQ(pool.stats().open_connections, 0U);
    try {
        (void)pool.send(letter(1));
        ADD_FAILURE() << "no error";
    } catch (const missive::Error& e) {
        EXPECT_EQ(e.code(), errc::invalid_input);
        EXPECT_STREQ(e.what(), "the pool is shut down: it takes no more letters");
    }
    pool.shutdown();  // twice is fine
}

TEST(Pool, DestructorDeliversWhatWasSubmitted) {
    Mta mta;
    std::atomic<int> done{0};
    {
        Pool pool(mta.url(), options(), fast(2));
        for (std::size_t i = 0; i < 20; ++i) {
            pool.submit(letter(i), [&](Outcome o) { done += o.accepted() ? 1 : 0; });
        }
    }
    EXPECT_EQ(done, 20);
    EXPECT_EQ(mta.accepted().size(), 20U);
    EXPECT_EQ(mta.quits(), mta.server().connections());
}

TEST(Pool, BadOptionsAreAConfigError) {
    PoolOptions p;
    p.connections = 0;
    try {
        const Pool pool(Url::parse("smtp://127.0.0.1:25"), options(), p);
        ADD_FAILURE() << "no error";
    } catch (const missive::Error& e) {
        EXPECT_EQ(e.code(), errc::config);
    }
}

// Slow (about 10 s): 8 connections share 50 messages per second.
TEST(Pool, RateLimitHeldOverAllConnections) {
    Mta mta;
    PoolOptions p = fast(8);
    p.rate_per_second = 50;
    Pool pool(mta.url(), options(), p);
    const std::size_t n = 500;
    for (std::size_t i = 0; i < n; ++i) {
        pool.submit(letter(i), [](Outcome o) { EXPECT_TRUE(o.accepted()); });
    }
    pool.drain();
    auto times = mta.accept_times();
    ASSERT_EQ(times.size(), n);
    std::sort(times.begin(), times.end());
    // 499 intervals of 20 ms: 9.98 s, within 5%.
    const std::chrono::duration<double> span = times.back() - times.front();
    EXPECT_GT(span.count(), 9.98 * 0.95);
    EXPECT_LT(span.count(), 9.98 * 1.05);
    // No burst at the start (8 connections at once would be 8 times the rate): within the
    // first 200 ms, 11 slots and a batch that waited for its last slot.
    const auto early = std::count_if(times.begin(), times.end(),
                                     [&](auto t) { return t - times.front() <= 200ms; });
    EXPECT_LE(early, 11 + 6);
}

TEST(AsyncPool, CoAwaitFromACoroutineResumesOnItsExecutor) {
    Mta mta;
    Pool pool(mta.url(), options(), fast(2));
    asio::io_context io;
    const auto here = std::this_thread::get_id();
    std::vector<Outcome> outcomes;
    bool refused = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            for (std::size_t i = 0; i < 3; ++i) {
                outcomes.push_back(
                    co_await missive::client::async_send(pool, letter(i), asio::use_awaitable));
                EXPECT_EQ(std::this_thread::get_id(), here);
            }
            pool.shutdown();
            try {
                (void)co_await missive::client::async_send(pool, letter(9), asio::use_awaitable);
            } catch (const missive::Error& e) {
                refused = e.code() == errc::invalid_input;
            }
        },
        asio::detached);
    io.run();  // returns only when the coroutine is over: the operations keep it busy
    ASSERT_EQ(outcomes.size(), 3U);
    for (const auto& o : outcomes) {
        EXPECT_TRUE(o.accepted());
    }
    EXPECT_TRUE(refused);
    EXPECT_EQ(mta.accepted().size(), 3U);
}

TEST(AsyncPool, CoAwaitOnAThreadPoolsStrand) {
    Mta mta;
    Pool pool(mta.url(), options(), fast(2));
    asio::thread_pool threads(2);
    auto strand = asio::make_strand(threads.get_executor());
    std::promise<bool> on_strand;
    asio::co_spawn(
        strand,
        [&]() -> asio::awaitable<void> {
            const Outcome o =
                co_await missive::client::async_send(pool, letter(1), asio::use_awaitable);
            on_strand.set_value(o.accepted() && strand.running_in_this_thread());
        },
        asio::detached);
    auto result = on_strand.get_future();
    ASSERT_EQ(result.wait_for(10s), std::future_status::ready);
    EXPECT_TRUE(result.get());
    threads.join();
}

TEST(Pool, WaitingFromACallbackIsRefused) {
    Mta mta;
    Pool pool(mta.url(), options(), fast(1));
    std::promise<std::string> refused;
    pool.submit(letter(0), [&](const Outcome&) {
        try {
            (void)pool.send(letter(1));
            refused.set_value("no error");
        } catch (const missive::Error& e) {
            refused.set_value(e.what());
        }
    });
    EXPECT_EQ(refused.get_future().get(),
              "Pool::send called on the pool's thread (from a callback): it would wait for "
              "itself");
}

TEST(AsyncPool, CallbackTokenAndFuture) {
    Mta mta;
    Pool pool(mta.url(), options(), fast(2));
    std::future<Outcome> f = missive::client::async_send(pool, letter(1), asio::use_future);
    EXPECT_TRUE(f.get().accepted());
}

}  // namespace
