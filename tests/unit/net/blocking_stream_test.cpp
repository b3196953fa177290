#include <missive/error.hpp>
#include <missive/net/blocking_stream.hpp>
#include <missive/testing/server.hpp>

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using missive::errc;
using missive::Error;
using missive::net::BlockingStream;
using missive::net::Clock;
using missive::testing::Conversation;
using missive::testing::Server;
using namespace std::chrono_literals;

namespace {

// Runs `f`, which must throw missive::Error, and returns that error.
template <typename F>
Error error_of(F&& f) {
    try {
        std::forward<F>(f)();
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "no missive::Error thrown";
    return Error(errc::config, "nothing thrown");
}

std::string read_all(BlockingStream& s) {
    std::string got;
    std::array<char, 64> buf{};
    for (std::size_t n = 0; (n = s.read_some(buf, Clock::now() + 5s)) != 0;) {
        got.append(buf.data(), n);
    }
    return got;
}

// A plain socket, closed on scope exit.
struct Fd {
    int fd = -1;

    explicit Fd(int f)
        : fd(f) {}

    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;

    Fd(Fd&& o) noexcept
        : fd(std::exchange(o.fd, -1)) {}

    Fd& operator=(Fd&&) = delete;

    ~Fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

// A listener on 127.0.0.1 that never accepts, whose queue is filled up: the kernel then drops
// further SYNs, so a connect to it hangs until its deadline (a deterministic connect timeout).
struct FullListener {
    Fd listener{::socket(AF_INET, SOCK_STREAM, 0)};
    std::vector<Fd> fillers;
    std::uint16_t port = 0;
    bool full = false;

    FullListener() {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        auto* sa = reinterpret_cast<sockaddr*>(&addr);
        if (::bind(listener.fd, sa, len) != 0 || ::listen(listener.fd, 0) != 0 ||
            ::getsockname(listener.fd, sa, &len) != 0) {
            return;
        }
        port = ntohs(addr.sin_port);
        for (int i = 0; i < 16 && !full; ++i) {
            Fd& c = fillers.emplace_back(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
            if (::connect(c.fd, sa, len) == 0) {
                continue;
            }
            std::array<pollfd, 1> p{{{c.fd, POLLOUT, 0}}};
            full = errno == EINPROGRESS && ::poll(p.data(), p.size(), 200) == 0;
        }
    }
};

}  // namespace

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
    EXPECT_EQ(read_all(s), "pong\r\n");
    // The end of the stream stays the end, and the stream is still open until closed.
    EXPECT_EQ(s.read_some(buf, Clock::now() + 5s), 0U);
    EXPECT_TRUE(s.is_open());
    s.close();
    EXPECT_FALSE(s.is_open());
    EXPECT_EQ(s.remote_endpoint(), "");
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_EQ(server.received(), "ping\r\n");
}

TEST(BlockingStream, WritesLargeBuffersWhole) {
    std::string big(3 * 1024 * 1024, 'x');
    big += "\r\n";
    Server server(
        [](Conversation& conv) { conv.send_line(std::to_string(conv.read_line().size())); });
    BlockingStream s;
    s.connect("127.0.0.1", server.port(), Clock::now() + 5s);
    s.write_all(big, Clock::now() + 10s);
    EXPECT_EQ(read_all(s), std::to_string(big.size() - 2) + "\r\n");
}

TEST(BlockingStream, ConnectsByNameTryingEachAddress) {
    // "localhost" may resolve to ::1 and 127.0.0.1; the server listens on IPv4 only, so an IPv6
    // attempt (where there is one) must fail over to the next address.
    Server server("S: 220 hi\n");
    BlockingStream s;
    s.connect("localhost", server.port(), Clock::now() + 5s);
    EXPECT_EQ(s.remote_endpoint(), "127.0.0.1:" + std::to_string(server.port()));
}

TEST(BlockingStream, ConnectsToAnIpv6Literal) {
    const Fd listener(::socket(AF_INET6, SOCK_STREAM, 0));
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_loopback;
    socklen_t len = sizeof addr;
    auto* sa = reinterpret_cast<sockaddr*>(&addr);
    if (listener.fd < 0 || ::bind(listener.fd, sa, len) != 0 || ::listen(listener.fd, 1) != 0 ||
        ::getsockname(listener.fd, sa, &len) != 0) {
        GTEST_SKIP() << "no IPv6 loopback here";
    }
    const std::uint16_t port = ntohs(addr.sin6_port);
    BlockingStream s;
    s.connect("::1", port, Clock::now() + 5s);
    EXPECT_EQ(s.remote_endpoint(), "[::1]:" + std::to_string(port));
}

TEST(BlockingStream, ReadTimeoutClosesWithExactMessage) {
    Server server("!delay 2000\n");
    BlockingStream s;
    s.connect("127.0.0.1", server.port(), Clock::now() + 5s);
    std::array<char, 16> buf{};
    const Error e = error_of([&] { (void)s.read_some(buf, Clock::now() + 150ms); });
    EXPECT_EQ(e.kind(), errc::timeout);
    EXPECT_STREQ(e.what(), ("timed out after 150 ms waiting to read from 127.0.0.1:" +
                            std::to_string(server.port()))
                               .c_str());
    EXPECT_TRUE(e.transient());
    EXPECT_FALSE(s.is_open());
}

TEST(BlockingStream, TimeoutsInWholeSeconds) {
    Server server("!delay 3000\n");
    BlockingStream s;
    s.connect("127.0.0.1", server.port(), Clock::now() + 5s);
    std::array<char, 16> buf{};
    const Error e = error_of([&] { (void)s.read_some(buf, Clock::now() + 1s); });
    EXPECT_STREQ(e.what(), ("timed out after 1 s waiting to read from 127.0.0.1:" +
                            std::to_string(server.port()))
                               .c_str());
}

TEST(BlockingStream, PassedDeadlineTimesOutAtOnce) {
    Server server("!delay 3000\n");
    BlockingStream s;
    s.connect("127.0.0.1", server.port(), Clock::now() + 5s);
    std::array<char, 16> buf{};
    const Error e = error_of([&] { (void)s.read_some(buf, Clock::now() - 1s); });
    EXPECT_EQ(e.kind(), errc::timeout);
    EXPECT_STREQ(e.what(), ("timed out after 0 ms waiting to read from 127.0.0.1:" +
                            std::to_string(server.port()))
                               .c_str());
}

TEST(BlockingStream, WriteTimeoutWhenThePeerDoesNotRead) {
    Server server([](Conversation& conv) { conv.delay(10s); });  // stop() ends the delay
    BlockingStream s;
    s.connect("127.0.0.1", server.port(), Clock::now() + 5s);
    // More than both kernels' buffers hold.
    const std::string big(64 * 1024 * 1024, 'x');
    const Error e = error_of([&] { s.write_all(big, Clock::now() + 300ms); });
    EXPECT_EQ(e.kind(), errc::timeout);
    EXPECT_STREQ(e.what(), ("timed out after 300 ms waiting to write to 127.0.0.1:" +
                            std::to_string(server.port()))
                               .c_str());
    EXPECT_FALSE(s.is_open());
}

TEST(BlockingStream, ConnectTimeout) {
    const FullListener full;
    if (!full.full) {
        GTEST_SKIP() << "could not fill the listen queue";
    }
    BlockingStream s;
    const auto start = Clock::now();
    const Error e = error_of([&] { s.connect("127.0.0.1", full.port, Clock::now() + 1s); });
    EXPECT_EQ(e.kind(), errc::timeout);
    EXPECT_STREQ(
        e.what(),
        ("timed out after 1 s connecting to 127.0.0.1:" + std::to_string(full.port)).c_str());
    EXPECT_LT(Clock::now() - start, 3s);
    EXPECT_FALSE(s.is_open());
}

TEST(BlockingStream, StopTokenCancelsConnect) {
    const FullListener full;
    if (!full.full) {
        GTEST_SKIP() << "could not fill the listen queue";
    }
    std::stop_source stop;
    std::thread t([&] {
        std::this_thread::sleep_for(100ms);
        stop.request_stop();
    });
    BlockingStream s;
    const auto start = Clock::now();
    const Error e =
        error_of([&] { s.connect("127.0.0.1", full.port, Clock::now() + 10s, stop.get_token()); });
    t.join();
    EXPECT_EQ(e.kind(), errc::cancelled);
    EXPECT_STREQ(e.what(),
                 ("cancelled connecting to 127.0.0.1:" + std::to_string(full.port)).c_str());
    EXPECT_FALSE(e.transient());
    EXPECT_LT(Clock::now() - start, 2s);
}

TEST(BlockingStream, ConnectRefusedMessage) {
    std::uint16_t port = 0;
    {
        const Server closed("S: x\n");
        port = closed.port();
    }
    BlockingStream s;
    const Error e = error_of([&] { s.connect("127.0.0.1", port, Clock::now() + 5s); });
    EXPECT_EQ(e.kind(), errc::connect_failed);
    EXPECT_STREQ(
        e.what(),
        ("connect to 127.0.0.1:" + std::to_string(port) + " failed: Connection refused").c_str());
    EXPECT_EQ(e.cause().value(), ECONNREFUSED);
    EXPECT_TRUE(e.transient());
    EXPECT_FALSE(s.is_open());
}

TEST(BlockingStream, UnknownHost) {
    BlockingStream s;
    const Error e = error_of([&] { s.connect("no-such-host.invalid", 25, Clock::now() + 10s); });
    EXPECT_EQ(e.kind(), errc::connect_failed);
    // The resolver's own words follow; they differ between NXDOMAIN and no DNS at all.
    const std::string prefix = "connect to no-such-host.invalid:25 failed: cannot resolve host: ";
    EXPECT_EQ(std::string(e.what()).substr(0, prefix.size()), prefix) << e.what();
    EXPECT_TRUE(e.cause());
}

TEST(BlockingStream, ResetByPeerIsConnectionLost) {
    Server server("!delay 50\n!reset\n");
    BlockingStream s;
    s.connect("127.0.0.1", server.port(), Clock::now() + 5s);
    std::array<char, 16> buf{};
    const Error e = error_of([&] { (void)s.read_some(buf, Clock::now() + 5s); });
    EXPECT_EQ(e.kind(), errc::connection_lost);
    EXPECT_STREQ(e.what(), ("reading from 127.0.0.1:" + std::to_string(server.port()) +
                            " failed: Connection reset by peer")
                               .c_str());
    EXPECT_EQ(e.cause().value(), ECONNRESET);
    EXPECT_FALSE(s.is_open());
}

TEST(BlockingStream, ClosedStreamRefusesReadsAndWrites) {
    BlockingStream s;
    std::array<char, 16> buf{};
    const Error r = error_of([&] { (void)s.read_some(buf, Clock::now() + 1s); });
    EXPECT_EQ(r.kind(), errc::connection_lost);
    EXPECT_STREQ(r.what(), "read from a closed connection");
    const Error w = error_of([&] { s.write_all("x", Clock::now() + 1s); });
    EXPECT_EQ(w.kind(), errc::connection_lost);
    EXPECT_STREQ(w.what(), "write to a closed connection");
    s.close();  // harmless when closed
}

TEST(BlockingStream, EmptyReadBufferIsInvalid) {
    Server server("S: 220 hi\n");
    BlockingStream s;
    s.connect("127.0.0.1", server.port(), Clock::now() + 5s);
    const Error e = error_of([&] { (void)s.read_some({}, Clock::now() + 1s); });
    EXPECT_EQ(e.kind(), errc::invalid_input);
    EXPECT_STREQ(e.what(), "read_some needs room for at least one byte");
    EXPECT_TRUE(s.is_open());
}

TEST(BlockingStream, StopTokenCancelsReadFromAnotherThread) {
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
    const Error e = error_of([&] { (void)s.read_some(buf, Clock::now() + 10s, stop.get_token()); });
    t.join();
    EXPECT_EQ(e.kind(), errc::cancelled);
    EXPECT_STREQ(e.what(),
                 ("cancelled reading from 127.0.0.1:" + std::to_string(server.port())).c_str());
    EXPECT_LT(Clock::now() - start, 2s);
    EXPECT_FALSE(s.is_open());
}

TEST(BlockingStream, AlreadyStoppedTokenCancelsAtOnce) {
    Server server("S: 220 hi\n");
    std::stop_source stop;
    stop.request_stop();
    BlockingStream s;
    const Error c = error_of(
        [&] { s.connect("127.0.0.1", server.port(), Clock::now() + 5s, stop.get_token()); });
    EXPECT_EQ(c.kind(), errc::cancelled);
    EXPECT_STREQ(c.what(),
                 ("cancelled connecting to 127.0.0.1:" + std::to_string(server.port())).c_str());
    EXPECT_FALSE(s.is_open());

    s.connect("127.0.0.1", server.port(), Clock::now() + 5s);
    const Error w = error_of([&] { s.write_all("x", Clock::now() + 5s, stop.get_token()); });
    EXPECT_EQ(w.kind(), errc::cancelled);
    EXPECT_STREQ(w.what(),
                 ("cancelled writing to 127.0.0.1:" + std::to_string(server.port())).c_str());
    EXPECT_FALSE(s.is_open());
}

TEST(BlockingStream, StopAfterTheCallChangesNothing) {
    Server server("S: 220 hi\nC: QUIT\nS: 221 bye\n!drop\n");
    BlockingStream s;
    std::stop_source stop;
    s.connect("127.0.0.1", server.port(), Clock::now() + 5s, stop.get_token());
    std::array<char, 64> buf{};
    EXPECT_GT(s.read_some(buf, Clock::now() + 5s, stop.get_token()), 0U);
    stop.request_stop();  // no call is running: nothing to cancel
    EXPECT_TRUE(s.is_open());
    s.write_all("QUIT\r\n", Clock::now() + 5s);
    EXPECT_EQ(read_all(s), "221 bye\r\n");
}

TEST(BlockingStream, MovedStreamKeepsTheConnection) {
    Server server("S: 220 hi\n!drop\n");
    BlockingStream a;
    a.connect("127.0.0.1", server.port(), Clock::now() + 5s);
    BlockingStream b(std::move(a));
    EXPECT_TRUE(b.is_open());
    EXPECT_FALSE(a.is_open());  // NOLINT(bugprone-use-after-move): moved-from is closed
    BlockingStream c;
    c = std::move(b);
    EXPECT_EQ(read_all(c), "220 hi\r\n");
}

TEST(BlockingStream, ConnectAgainClosesTheFirstConnection) {
    Server server(std::vector<std::string>{"S: 220 one\n", "S: 220 two\n!drop\n"});
    BlockingStream s;
    s.connect("127.0.0.1", server.port(), Clock::now() + 5s);
    s.connect("127.0.0.1", server.port(), Clock::now() + 5s);
    // The first connection ended (its script waits for the client to close); the second runs.
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_EQ(read_all(s), "220 two\r\n");
}
