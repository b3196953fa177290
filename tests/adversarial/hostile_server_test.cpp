// A hostile or broken server against the blocking client: every case ends in a typed error
// within its deadline, with bounded memory, and never in a hang or a crash.
#include <missive/client/client.hpp>
#include <missive/testing/server.hpp>

#include "support/client_options.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

using missive::errc;
using missive::Error;
using missive::client::Client;
using missive::client::Options;
using missive::testing::Conversation;
using missive::testing::Server;
using namespace std::chrono_literals;

namespace {

Options options() {
    return missive::test::client_options(2s);
}

// Connects and says EHLO to a server whose handler misbehaves right after the greeting.
Error connect_and_hello(Server& server) {
    Client c(options());
    try {
        c.connect("127.0.0.1", server.port());
        c.hello();
        (void)c.noop();
    } catch (const Error& e) {
        EXPECT_FALSE(c.is_open());
        return e;
    }
    ADD_FAILURE() << "no error";
    return Error(errc::config, "none");
}

}  // namespace

TEST(HostileServer, EndlessLineIsAProtocolErrorNotAnAllocation) {
    std::size_t sent = 0;
    Server server([&](Conversation& conv) {
        conv.send_raw("220 ");
        const std::string junk(64 * 1024, 'A');
        try {
            for (int i = 0; i < 1600; ++i) {  // up to 100 MiB, never a line end
                conv.send_raw(junk);
                sent += junk.size();
            }
        } catch (...) {
        }
    });
    const Error e = connect_and_hello(server);
    EXPECT_EQ(e.kind(), errc::protocol);
    EXPECT_STREQ(e.what(), "protocol error: reply line longer than 4096 bytes");
    server.stop();
    EXPECT_LT(sent, std::size_t{100} << 20) << "the client stopped reading early";
}

TEST(HostileServer, EndlessMultiLineReply) {
    Server server([](Conversation& conv) {
        conv.send_line("220 hi");
        (void)conv.read_line();
        try {
            for (int i = 0; i < 100000; ++i) {
                conv.send_line("250-PIPELINING");
            }
        } catch (...) {
        }
    });
    const Error e = connect_and_hello(server);
    EXPECT_EQ(e.kind(), errc::protocol);
    EXPECT_STREQ(e.what(), "protocol error: reply longer than 4096 lines");
}

TEST(HostileServer, BinaryGarbage) {
    Server server(
        [](Conversation& conv) { conv.send_raw(std::string("\0\xff\x01garbage\r\n", 12)); });
    EXPECT_EQ(connect_and_hello(server).kind(), errc::protocol);
}

TEST(HostileServer, ReplyBeforeTheCommand) {
    // The server answers EHLO and NOOP before they were sent: the NOOP reply arrives while no
    // command is outstanding and must never be taken as the answer to a later command.
    Server server([](Conversation& conv) {
        conv.send_raw("220 hi\r\n250 mx\r\n250 early\r\n");
        conv.wait_eof();
    });
    const Error e = connect_and_hello(server);
    EXPECT_EQ(e.kind(), errc::protocol);
}

TEST(HostileServer, CodeChangesInsideReply) {
    Server server([](Conversation& conv) {
        conv.send_line("220 hi");
        (void)conv.read_line();
        conv.send_raw("250-mx\r\n550 gotcha\r\n");
        conv.wait_eof();
    });
    const Error e = connect_and_hello(server);
    EXPECT_EQ(e.kind(), errc::protocol);
    EXPECT_STREQ(e.what(),
                 "protocol error: reply code changed from 250 to 550 inside a multi-line reply");
}

TEST(HostileServer, SilentServerHitsTheGreetingDeadline) {
    Server server([](Conversation& conv) { conv.delay(5s); });
    Options o = options();
    o.command_timeout = 300ms;
    Client c(o);
    try {
        c.connect("127.0.0.1", server.port());
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::timeout);
        EXPECT_NE(std::string(e.what()).find("while waiting for the server's greeting"),
                  std::string::npos)
            << e.what();
    }
}

TEST(HostileServer, ServerThatStopsReadingDuringData) {
    // The server accepts DATA and then never reads: the client's writes block until the data
    // deadline, and the send fails as a timeout with the report of who had been accepted.
    Server server([](Conversation& conv) {
        conv.send_line("220 hi");
        (void)conv.read_line();
        conv.send_line("250-mx");
        conv.send_line("250 PIPELINING");
        for (int i = 0; i < 3; ++i) {
            (void)conv.read_line();
        }
        conv.send_line("250 ok");
        conv.send_line("250 ok");
        conv.send_line("354 go");
        conv.delay(5s);
    });
    Options o = options();
    o.data_block_timeout = o.final_reply_timeout = 500ms;
    Client c(o);
    c.connect("127.0.0.1", server.port());
    try {
        (void)c.send({.from = "a@example.org", .to = {"b@example.org"}},
                     std::string(64 << 20, 'x'));
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::timeout);
        ASSERT_TRUE(e.report());
        EXPECT_EQ(e.report()->accepted(), std::vector<std::string>{"b@example.org"});
        EXPECT_FALSE(e.report()->message_sent);
    }
}

// Real servers can list hundreds of extensions in EHLO: a reply of 800 lines and 70 KiB is
// taken whole, and the connection goes on.
TEST(HostileServer, LongEhloReplyIsAccepted) {
    Server server([](Conversation& conv) {
        conv.send_line("220 hi");
        (void)conv.read_line();
        std::string reply = "250-mx.example.org\r\n";
        for (int i = 0; i < 800; ++i) {
            reply += "250-X-EXTENSION-" + std::to_string(i) + " " + std::string(70, 'v') + "\r\n";
        }
        reply += "250 SIZE 1000000\r\n";
        conv.send_raw(reply);
        (void)conv.read_line();  // NOOP
        conv.send_line("250 ok");
        conv.wait_eof();
    });
    Client c(options());
    c.connect("127.0.0.1", server.port());
    EXPECT_TRUE(c.capabilities().has("X-EXTENSION-799"));
    EXPECT_EQ(c.capabilities().max_size(), 1000000U);
    EXPECT_EQ(c.noop().code, 250);
}
