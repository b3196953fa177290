// client::Pool against real Postfix (smtpd with STARTTLS, started by the ctest fixture): many
// messages over several connections, each delivered exactly once; TLS sessions resumed across
// the pool's connections.
#include <missive/client/pool.hpp>

#include "support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <string>

using namespace missive::integration;
using missive::client::Letter;
using missive::client::Options;
using missive::client::Outcome;
using missive::client::Pool;
using missive::client::PoolOptions;
using missive::net::Url;
using namespace std::chrono_literals;

namespace {

Options options() {
    Options o;
    o.local_name = "client.missive.test";
    o.command_timeout = 10s;
    o.data_block_timeout = o.final_reply_timeout = 20s;
    o.tls_options.ca_file = setting("MISSIVE_TEST_CA_FILE");  // the fixture's CA
    return o;
}

Letter letter(const std::string& token, std::size_t i) {
    return {{.from = "alice@example.org", .to = {"bob@example.com"}},
            "From: alice@example.org\r\nTo: bob@example.com\r\nSubject: " + token +
                "\r\nX-Pool-Id: " + token + "-" + std::to_string(i) + "\r\n\r\nHello.\r\n"};
}

// How many delivered files carry each X-Pool-Id of `token`.
std::map<std::string, int> delivered_ids(const std::string& token, std::size_t count) {
    std::map<std::string, int> ids;
    for (const auto& file :
         find_delivered(setting("MISSIVE_TEST_DIR") + "/mail", token, count, 60s)) {
        const std::string text = read_file(file);
        const std::size_t at = text.find("X-Pool-Id: ");
        if (at != std::string::npos) {
            ++ids[text.substr(at + 11, text.find('\n', at) - at - 11)];
        }
    }
    return ids;
}

TEST(PostfixPool, TwoHundredMessagesOverFourConnectionsEachDeliveredOnce) {
    const std::uint16_t port = port_of("MISSIVE_TEST_POSTFIX_PORT");
    REQUIRE_SERVER(port);
    const std::string token = unique_token();
    const std::size_t n = 200;
    PoolOptions p;
    p.connections = 4;
    std::atomic<std::size_t> accepted{0};
    {
        Pool pool(Url::parse("smtp://127.0.0.1:" + std::to_string(port)), options(), p);
        for (std::size_t i = 0; i < n; ++i) {
            pool.submit(letter(token, i), [&](const Outcome& o) {
                EXPECT_TRUE(o.accepted()) << o.error->what();
                EXPECT_EQ(o.attempts, 1U);
                accepted += o.accepted() ? 1 : 0;
            });
        }
        pool.drain();
        const auto s = pool.stats();
        EXPECT_EQ(s.accepted, n);
        EXPECT_LE(s.connections_opened, 4U);
        EXPECT_GE(s.connections_opened, 2U);
    }
    EXPECT_EQ(accepted, n);
    const auto ids = delivered_ids(token, n);
    EXPECT_EQ(ids.size(), n);
    for (const auto& [id, times] : ids) {
        EXPECT_EQ(times, 1) << id;
    }
}

TEST(PostfixPool, LaterConnectionsResumeTheTlsSession) {
    const std::uint16_t port = port_of("MISSIVE_TEST_POSTFIX_PORT");
    REQUIRE_SERVER(port);
    const std::string token = unique_token();
    PoolOptions p;
    p.connections = 1;
    p.messages_per_connection = 2;
    Pool pool(Url::parse("smtp://127.0.0.1:" + std::to_string(port)), options(), p);
    for (std::size_t i = 0; i < 6; ++i) {
        EXPECT_TRUE(pool.send(letter(token, i)).accepted());
    }
    const auto s = pool.stats();
    EXPECT_EQ(s.connections_opened, 3U);
    EXPECT_EQ(s.tls_sessions_resumed, 2U);
    EXPECT_EQ(delivered_ids(token, 6).size(), 6U);
}

}  // namespace
