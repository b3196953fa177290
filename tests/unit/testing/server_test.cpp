#include <missive/error.hpp>
#include <missive/net/blocking_stream.hpp>
#include <missive/testing/server.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <stdexcept>
#include <string>

using missive::net::BlockingStream;
using missive::net::Clock;
using missive::testing::Conversation;
using missive::testing::Server;
using namespace std::chrono_literals;

namespace {

// A raw client: connects, then reads until it has `want` bytes or the server closes.
struct RawClient {
    BlockingStream s;

    explicit RawClient(const Server& server) {
        s.connect("127.0.0.1", server.port(), Clock::now() + 5s);
    }

    std::string read(std::size_t want) {
        std::string out;
        std::array<char, 4096> buf{};
        while (out.size() < want) {
            const std::size_t n = s.read_some(buf, Clock::now() + 5s);
            if (n == 0) {
                break;
            }
            out.append(buf.data(), n);
        }
        return out;
    }

    // Counts the reads needed for `want` bytes.
    std::size_t reads_for(std::size_t want) {
        std::size_t reads = 0;
        std::size_t got = 0;
        std::array<char, 4096> buf{};
        while (got < want) {
            got += s.read_some(buf, Clock::now() + 5s);
            ++reads;
        }
        return reads;
    }

    void write(std::string_view bytes) { s.write_all(bytes, Clock::now() + 5s); }
};

}  // namespace

TEST(TestingServer, RunsScriptAndRecordsEveryByte) {
    Server server(R"(
# a comment
S: 220 hi
C: EHLO x
S: 250 ok
C: DATA
S: 354 go
!data
S: 250 queued
C: BDAT 3 LAST
!bdat
S: 250 chunk
)");
    RawClient c(server);
    EXPECT_EQ(c.read(8), "220 hi\r\n");
    c.write("EHLO x\r\n");
    EXPECT_EQ(c.read(8), "250 ok\r\n");
    c.write("DATA\r\n");
    EXPECT_EQ(c.read(8), "354 go\r\n");
    c.write("a\r\n..b\r\n.\r\n");
    EXPECT_EQ(c.read(12), "250 queued\r\n");
    c.write("BDAT 3 LAST\r\nxyz");
    EXPECT_EQ(c.read(11), "250 chunk\r\n");
    c.s.close();
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_EQ(server.received(), "EHLO x\r\nDATA\r\na\r\n..b\r\n.\r\nBDAT 3 LAST\r\nxyz");
    EXPECT_TRUE(server.mismatches().empty());
    EXPECT_EQ(server.connections(), 1U);
}

TEST(TestingServer, RecordsMismatches) {
    Server server("S: 220 hi\nC: EHLO x\nC: *\n");
    RawClient c(server);
    (void)c.read(8);
    c.write("HELO y\r\nanything\r\n");
    c.s.close();
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_EQ(server.mismatches(), std::vector<std::string>{"expected 'EHLO x', got 'HELO y'"});
}

TEST(TestingServer, SplitSendsOneBytePerWrite) {
    Server server("!split\nS: 250-abc\nS: 250 def\n");
    RawClient c(server);
    // Each byte is its own write with a pause between: the client sees many reads.
    EXPECT_GT(c.reads_for(18), 10U);
}

TEST(TestingServer, RawEscapes) {
    Server server("!raw 250 a\\n250 b\\r\\n\n");
    RawClient c(server);
    EXPECT_EQ(c.read(11), "250 a\n250 b\r\n");
}

TEST(TestingServer, DropAndReset) {
    Server drop("S: 220 hi\n!drop\n");
    RawClient a(drop);
    EXPECT_EQ(a.read(100), "220 hi\r\n");  // then EOF
    Server reset("!delay 50\n!reset\n");
    RawClient b(reset);
    try {
        (void)b.read(1);
        FAIL() << "a reset connection reads neither data nor a clean EOF";
    } catch (const missive::Error& e) {
        EXPECT_EQ(e.kind(), missive::errc::connection_lost);
    }
}

TEST(TestingServer, ScriptPerConnection) {
    Server server(std::vector<std::string>{"S: 220 one\n", "S: 220 two\n"});
    for (const char* want : {"220 one\r\n", "220 two\r\n", "220 two\r\n"}) {
        RawClient c(server);
        EXPECT_EQ(c.read(9), want);
    }
    EXPECT_TRUE(server.wait_for(3));
    EXPECT_EQ(server.connections(), 3U);
}

TEST(TestingServer, HandlerMode) {
    Server server([](Conversation& conv) {
        conv.send_line("220 handler");
        conv.send_line("echo " + conv.read_line());
    });
    RawClient c(server);
    (void)c.read(13);
    c.write("hello\r\n");
    EXPECT_EQ(c.read(12), "echo hello\r\n");
}

TEST(TestingServer, BadScriptIsRejected) {
    try {
        Server server("S: 220 x\nX: what\n");
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "script line 2: 'X: what' is not a step");
    }
    EXPECT_THROW(Server("!delay soon\n"), std::invalid_argument);
}

TEST(TestingServer, StopsWhileClientIsConnected) {
    const auto start = std::chrono::steady_clock::now();
    {
        Server server("S: 220 hi\nC: never sent\n");
        RawClient c(server);
        (void)c.read(8);
    }  // the destructor must not wait for io_timeout
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

// With `concurrent`, a second client is greeted while the first still holds its connection;
// one after another (the default), it would wait for the first to finish.
TEST(TestingServer, ConcurrentServesConnectionsAtOnce) {
    Server::Options o;
    o.concurrent = true;
    Server server("S: 220 hi\n!eof\n", o);
    RawClient first(server);
    EXPECT_EQ(first.read(8), "220 hi\r\n");
    RawClient second(server);
    EXPECT_EQ(second.read(8), "220 hi\r\n");
    EXPECT_EQ(server.connections(), 2U);
}
