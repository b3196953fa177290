#include <missive/error.hpp>
#include <missive/net/blocking_stream.hpp>
#include <missive/testing/server.hpp>

#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <thread>

using missive::errc;
using missive::Error;
using missive::net::BlockingStream;
using missive::net::Clock;
using missive::testing::Server;
using namespace std::chrono_literals;

TEST(BlockingStream, ReadsWritesAndSeesEof) {
    Server server("S: 220 hi\nC: ping\nS: pong\n!drop\n");
    BlockingStream s;
    s.connect("127.0.0.1", server.port(), Clock::now() + 5s);
    EXPECT_TRUE(s.is_open());
    EXPECT_EQ(s.remote_endpoint(), "127.0.0.1:" + std::to_string(server.port()));
    std::array<char, 64> buf{};
    std::string got;
    while (got.size() < 8) {
        got.append(buf.data(), s.read_some(buf, Clock::now() + 5s));
    }
    EXPECT_EQ(got, "220 hi\r\n");
    s.write_all("ping\r\n", Clock::now() + 5s);
    got.clear();
    for (std::size_t n; (n = s.read_some(buf, Clock::now() + 5s)) != 0;) {
        got.append(buf.data(), n);
    }
    EXPECT_EQ(got, "pong\r\n");
}

TEST(BlockingStream, ConnectsByNameTryingEachAddress) {
    // "localhost" resolves to ::1 and 127.0.0.1; the server listens on IPv4 only, so an IPv6
    // attempt (where there is one) must fail over to the next address.
    Server server("S: 220 hi\n");
    BlockingStream s;
    s.connect("localhost", server.port(), Clock::now() + 5s);
    EXPECT_EQ(s.remote_endpoint(), "127.0.0.1:" + std::to_string(server.port()));
}

TEST(BlockingStream, ReadTimeoutClosesWithExactMessage) {
    Server server("!delay 2000\n");
    BlockingStream s;
    s.connect("127.0.0.1", server.port(), Clock::now() + 5s);
    std::array<char, 16> buf{};
    try {
        (void)s.read_some(buf, Clock::now() + 150ms);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::timeout);
        EXPECT_STREQ(e.what(), ("timed out after 150 ms waiting to read from 127.0.0.1:" +
                                std::to_string(server.port()))
                                   .c_str());
    }
    EXPECT_FALSE(s.is_open());
}

TEST(BlockingStream, ConnectRefusedMessage) {
    std::uint16_t port = 0;
    {
        Server closed("S: x\n");
        port = closed.port();
    }
    BlockingStream s;
    try {
        s.connect("127.0.0.1", port, Clock::now() + 5s);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::connect_failed);
        EXPECT_STREQ(e.what(), ("connect to 127.0.0.1:" + std::to_string(port) +
                                " failed: Connection refused")
                                   .c_str());
        EXPECT_EQ(e.cause().value(), ECONNREFUSED);
        EXPECT_TRUE(e.transient());
    }
}

TEST(BlockingStream, UnknownHost) {
    BlockingStream s;
    try {
        s.connect("no-such-host.invalid", 25, Clock::now() + 10s);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::connect_failed);
        EXPECT_NE(std::string(e.what()).find("cannot resolve host"), std::string::npos) << e.what();
    }
}

TEST(BlockingStream, StopTokenCancelsFromAnotherThread) {
    Server server("!delay 3000\n");
    BlockingStream s;
    s.connect("127.0.0.1", server.port(), Clock::now() + 5s);
    std::stop_source stop;
    std::thread t([&] {
        std::this_thread::sleep_for(100ms);
        stop.request_stop();
    });
    std::array<char, 16> buf{};
    const auto start = Clock::now();
    try {
        (void)s.read_some(buf, Clock::now() + 10s, stop.get_token());
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::cancelled);
    }
    t.join();
    EXPECT_LT(Clock::now() - start, 2s);
    EXPECT_FALSE(s.is_open());
}

TEST(BlockingStream, AlreadyStoppedTokenCancelsAtOnce) {
    Server server("S: 220 hi\n");
    std::stop_source stop;
    stop.request_stop();
    BlockingStream s;
    try {
        s.connect("127.0.0.1", server.port(), Clock::now() + 5s, stop.get_token());
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::cancelled);
    }
}
