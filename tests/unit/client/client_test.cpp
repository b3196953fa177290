#include <missive/client/client.hpp>
#include <missive/sasl/mechanism.hpp>
#include <missive/send.hpp>
#include <missive/testing/server.hpp>

#include "support/client_options.hpp"
#include "support/clients.hpp"
#include "support/throws.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

using missive::errc;
using missive::Error;
using missive::client::Client;
using missive::client::Event;
using missive::client::EventKind;
using missive::client::Options;
using missive::smtp::Envelope;
using missive::test::kind_of;
using missive::testing::Conversation;
using missive::testing::Server;
using namespace std::chrono_literals;

namespace {

constexpr const char* greeting_ehlo_pipelining = R"(
S: 220 mx.test ESMTP
C: EHLO client.test
S: 250-mx.test
S: 250-PIPELINING
S: 250-SIZE 100000
S: 250 ENHANCEDSTATUSCODES
)";

constexpr const char* greeting_ehlo_plain = R"(
S: 220 mx.test ESMTP
C: EHLO client.test
S: 250-mx.test
S: 250 ENHANCEDSTATUSCODES
)";

Options options() {
    return missive::test::client_options();
}

Envelope envelope(std::vector<std::string> to = {"bob@example.org"}) {
    Envelope e;
    e.from = "alice@example.org";
    for (auto& t : to) {
        e.to.emplace_back(std::move(t));
    }
    return e;
}

const std::string message = "Subject: test\r\n\r\nHello.\r\n";

}  // namespace

template <typename T>
class BothClient : public ::testing::Test {};

TYPED_TEST_SUITE(BothClient, missive::test::BothClients, missive::test::ClientNames);

template <typename T>
class BothClientTls : public ::testing::Test {};

TYPED_TEST_SUITE(BothClientTls, missive::test::BothClients, missive::test::ClientNames);

template <typename T>
class BothClientUrl : public ::testing::Test {};

TYPED_TEST_SUITE(BothClientUrl, missive::test::BothClients, missive::test::ClientNames);

template <typename T>
class BothClientAuth : public ::testing::Test {};

TYPED_TEST_SUITE(BothClientAuth, missive::test::BothClients, missive::test::ClientNames);

TYPED_TEST(BothClient, SendsPipelinedMessage) {
    Server server(std::string(greeting_ehlo_pipelining) + R"(
C: MAIL FROM:<alice@example.org> SIZE=25
C: RCPT TO:<bob@example.org>
C: RCPT TO:<carol@example.org>
C: DATA
S: 250 2.1.0 Ok
S: 250 2.1.5 Ok
S: 550 5.1.1 <carol@example.org>: Recipient address rejected
S: 354 End data with <CR><LF>.<CR><LF>
!data
S: 250 2.0.0 Ok: queued as 3F1A2B
C: QUIT
S: 221 2.0.0 Bye
)");
    TypeParam c(options());
    c.connect("127.0.0.1", server.port());
    auto result = c.send(envelope({"bob@example.org", "carol@example.org"}), message);
    c.quit();
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_EQ(server.mismatches(), std::vector<std::string>{});
    EXPECT_EQ(result.queue_id, "3F1A2B");
    EXPECT_EQ(result.accepted(), std::vector<std::string>{"bob@example.org"});
    EXPECT_EQ(result.refused(), std::vector<std::string>{"carol@example.org"});
    EXPECT_EQ(result.recipients[1].reply.enhanced->to_string(), "5.1.1");
    EXPECT_EQ(server.received(),
              "EHLO client.test\r\n"
              "MAIL FROM:<alice@example.org> SIZE=25\r\nRCPT TO:<bob@example.org>\r\n"
              "RCPT TO:<carol@example.org>\r\nDATA\r\n"
              "Subject: test\r\n\r\nHello.\r\n.\r\nQUIT\r\n");
    EXPECT_FALSE(c.is_open());
}

TYPED_TEST(BothClient, WithoutPipeliningWaitsForEachReply) {
    // The server checks each line before it answers; a client that ran ahead would make the
    // script read a line it did not expect.
    Server server(std::string(greeting_ehlo_plain) + R"(
C: MAIL FROM:<alice@example.org>
S: 250 2.1.0 Ok
C: RCPT TO:<bob@example.org>
S: 250 2.1.5 Ok
C: DATA
S: 354 go
!data
S: 250 2.0.0 Ok
)");
    TypeParam c(options());
    c.connect("127.0.0.1", server.port());
    auto result = c.send(envelope(), message);
    EXPECT_TRUE(result.all_accepted());
    c.close();
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_EQ(server.mismatches(), std::vector<std::string>{});
}

TYPED_TEST(BothClient, ReusesConnectionForSeveralMessages) {
    std::string script = greeting_ehlo_pipelining;
    for (int i = 0; i < 3; ++i) {
        script += R"(
C: MAIL FROM:<alice@example.org> SIZE=25
C: RCPT TO:<bob@example.org>
C: DATA
S: 250 Ok
S: 250 Ok
S: 354 go
!data
S: 250 Ok: queued as Q)" +
                  std::to_string(i) + "\n";
    }
    Server server(script);
    TypeParam c(options());
    c.connect("127.0.0.1", server.port());
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(c.send(envelope(), message).queue_id, "Q" + std::to_string(i));
    }
    c.close();
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_EQ(server.connections(), 1U);
    EXPECT_EQ(server.mismatches(), std::vector<std::string>{});
}

TYPED_TEST(BothClient, RepliesSplitIntoSingleBytes) {
    Server server(std::string("!split\n") + greeting_ehlo_pipelining + R"(
C: MAIL FROM:<alice@example.org> SIZE=25
C: RCPT TO:<bob@example.org>
C: DATA
S: 250 2.1.0 Ok
S: 250 2.1.5 Ok
S: 354 go
!data
S: 250 2.0.0 Ok: queued as SPLIT
)");
    TypeParam c(options());
    c.connect("127.0.0.1", server.port());
    EXPECT_EQ(c.send(envelope(), message).queue_id, "SPLIT");
}

TYPED_TEST(BothClient, HeloFallback) {
    Server server(R"(
S: 220 old
C: EHLO client.test
S: 502 5.5.2 Error: command not recognized
C: HELO client.test
S: 250 old
C: MAIL FROM:<alice@example.org>
S: 250 Ok
C: RCPT TO:<bob@example.org>
S: 250 Ok
C: DATA
S: 354 go
!data
S: 250 Ok
)");
    TypeParam c(options());
    c.connect("127.0.0.1", server.port());
    EXPECT_TRUE(c.send(envelope(), message).all_accepted());
    EXPECT_FALSE(c.session().extended());
}

TYPED_TEST(BothClient, AllRecipientsRefusedIsErrorWithReport) {
    Server server(std::string(greeting_ehlo_pipelining) + R"(
C: *
C: *
C: DATA
S: 250 Ok
S: 550 5.1.1 unknown
S: 554 5.5.1 Error: no valid recipients
C: RSET
S: 250 2.0.0 Ok
C: NOOP
S: 250 2.0.0 Ok
)");
    TypeParam c(options());
    c.connect("127.0.0.1", server.port());
    try {
        (void)c.send(envelope(), message);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::all_recipients_refused);
        EXPECT_STREQ(e.what(), "all 1 recipient refused: <bob@example.org>: 550 5.1.1 unknown");
        EXPECT_TRUE(e.connection_usable());
        ASSERT_TRUE(e.report());
        EXPECT_EQ(e.report()->recipients.at(0).reply.code, 550);
    }
    EXPECT_TRUE(c.is_open());
    EXPECT_EQ(c.noop().code, 250);
}

TYPED_TEST(BothClient, DropAfterFinalDotIsOutcomeUnknown) {
    Server server(std::string(greeting_ehlo_pipelining) + R"(
C: *
C: *
C: DATA
S: 250 Ok
S: 250 Ok
S: 354 go
!data
!drop
)");
    TypeParam c(options());
    c.connect("127.0.0.1", server.port());
    try {
        (void)c.send(envelope(), message);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::outcome_unknown);
        ASSERT_TRUE(e.report());
        EXPECT_TRUE(e.report()->message_sent);
        EXPECT_EQ(e.report()->accepted(), std::vector<std::string>{"bob@example.org"});
    }
    EXPECT_FALSE(c.is_open());
}

TYPED_TEST(BothClient, DropMidDataIsConnectionLost) {
    Server server([](Conversation& conv) {
        conv.send_line("220 mx");
        (void)conv.read_line();
        conv.send_line("250-mx");
        conv.send_line("250 PIPELINING");
        for (int i = 0; i < 3; ++i) {
            (void)conv.read_line();
        }
        conv.send_line("250 Ok");
        conv.send_line("250 Ok");
        conv.send_line("354 go");
        (void)conv.read_exact(1000);
        conv.close(true);
    });
    TypeParam c(options());
    c.connect("127.0.0.1", server.port());
    const std::string big(32 << 20, 'x');  // far more than the socket buffers hold
    try {
        (void)c.send(envelope(), big);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::connection_lost) << e.what();
        ASSERT_TRUE(e.report());
        EXPECT_FALSE(e.report()->message_sent);
        EXPECT_TRUE(e.cause()) << "the OS error is kept";
    }
    EXPECT_FALSE(c.is_open());
}

TYPED_TEST(BothClient, SlowServerHitsTheDeadline) {
    Server server(std::string(greeting_ehlo_pipelining) + R"(
C: NOOP
!delay 2000
S: 250 Ok
)");
    Options o = options();
    o.command_timeout = 200ms;
    TypeParam c(o);
    c.connect("127.0.0.1", server.port());
    const auto start = std::chrono::steady_clock::now();
    std::string what;
    EXPECT_EQ(kind_of([&] { c.noop(); }, &what), errc::timeout);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
    EXPECT_EQ(what, "timed out after 200 ms (command_timeout) talking to 127.0.0.1:" +
                        std::to_string(server.port()) + " while waiting for the reply to NOOP");
    EXPECT_FALSE(c.is_open());
    EXPECT_EQ(kind_of([&] { c.noop(); }), errc::invalid_input);  // closed, in a defined state
}

TYPED_TEST(BothClient, SlowFinalReplyIsOutcomeUnknown) {
    Server server(std::string(greeting_ehlo_pipelining) + R"(
C: *
C: *
C: DATA
S: 250 Ok
S: 250 Ok
S: 354 go
!data
!delay 2000
S: 250 Ok
)");
    Options o = options();
    o.data_block_timeout = o.final_reply_timeout = 300ms;
    TypeParam c(o);
    c.connect("127.0.0.1", server.port());
    EXPECT_EQ(kind_of([&] { (void)c.send(envelope(), message); }), errc::outcome_unknown);
}

TYPED_TEST(BothClient, CancellationLeavesClientClosed) {
    Server server(std::string(greeting_ehlo_pipelining) + R"(
C: NOOP
!delay 3000
S: 250 Ok
)");
    std::stop_source stop;
    Options o = options();
    o.stop = stop.get_token();
    TypeParam c(o);
    c.connect("127.0.0.1", server.port());
    std::thread canceller([&] {
        std::this_thread::sleep_for(100ms);
        stop.request_stop();
    });
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(kind_of([&] { c.noop(); }), errc::cancelled);
    canceller.join();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2000ms);
    EXPECT_FALSE(c.is_open());
}

TYPED_TEST(BothClient, Reply421AtEveryStep) {
    // A pipelined send has these server lines; replace the i-th reply with 421 and stop there.
    const std::vector<std::string> replies = {
        "220 mx", "250-mx\nS: 250 PIPELINING", "250 Ok", "250 Ok", "354 go", "250 Ok"};
    for (std::size_t i = 0; i < replies.size(); ++i) {
        std::string script;
        const std::vector<std::string> reads = {"", "C: EHLO client.test", "", "", "", "!data"};
        // Client lines of the pipelined group arrive together before any reply.
        for (std::size_t j = 0; j <= i; ++j) {
            if (j == 2) {
                script += "C: *\nC: *\nC: DATA\n";
            } else if (!reads[j].empty()) {
                script += reads[j] + "\n";
            }
            script += "S: " + (j == i ? std::string("421 4.3.2 closing") : replies[j]) + "\n";
        }
        script += "!drop\n";
        Server server(script);
        TypeParam c(options());
        std::string what;
        const errc got = kind_of(
            [&] {
                c.connect("127.0.0.1", server.port());
                (void)c.send(envelope(), message);
            },
            &what);
        EXPECT_EQ(got, errc::reply_transient) << i << ": " << what;
        EXPECT_NE(what.find("421 4.3.2 closing"), std::string::npos) << what;
        EXPECT_FALSE(c.is_open()) << i;
    }
}

TYPED_TEST(BothClient, DropAtEveryStep) {
    const std::vector<std::string> steps = {"S: 220 mx",
                                            "C: EHLO client.test\nS: 250-mx\nS: 250 PIPELINING",
                                            "C: *\nC: *\nC: DATA\nS: 250 Ok",
                                            "S: 250 Ok",
                                            "S: 354 go",
                                            "!data"};
    for (std::size_t i = 0; i <= steps.size(); ++i) {
        std::string script;
        for (std::size_t j = 0; j < i; ++j) {
            script += steps[j] + "\n";
        }
        script += "!drop\n";
        Server server(script);
        TypeParam c(options());
        const errc got = kind_of([&] {
            c.connect("127.0.0.1", server.port());
            (void)c.send(envelope(), message);
        });
        if (i == steps.size() - 1) {
            // The server vanished right after 354: the client may have written the whole
            // message and its end into the socket before it noticed, so both are correct.
            EXPECT_TRUE(got == errc::connection_lost || got == errc::outcome_unknown) << i;
        } else {
            const errc want = i == steps.size() ? errc::outcome_unknown : errc::connection_lost;
            EXPECT_EQ(got, want) << "drop before step " << i;
        }
        EXPECT_FALSE(c.is_open());
    }
}

TYPED_TEST(BothClient, ConnectRefused) {
    std::uint16_t port = 0;
    {
        Server closed("S: 220 x\n");
        port = closed.port();
    }
    TypeParam c(options());
    std::string what;
    EXPECT_EQ(kind_of([&] { c.connect("127.0.0.1", port); }, &what), errc::connect_failed);
    EXPECT_NE(what.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << what;
}

TYPED_TEST(BothClient, GreetingRefused) {
    Server server("S: 554 5.3.2 no service\n");
    TypeParam c(options());
    std::string what;
    EXPECT_EQ(kind_of([&] { c.connect("127.0.0.1", server.port()); }, &what),
              errc::reply_permanent);
    EXPECT_EQ(what, "server refused the connection: 554 5.3.2 no service");
}

TYPED_TEST(BothClient, StreamsMessageFromIstream) {
    const std::string big = std::string(3 << 20, 'a') + "\r\n";
    Server server([&](Conversation& conv) {
        conv.send_line("220 mx");
        (void)conv.read_line();
        conv.send_line("250-mx");
        conv.send_line("250-PIPELINING");
        conv.send_line("250 SIZE 100000000");
        const std::string mail = conv.read_line();  // MAIL FROM:<…> SIZE=…
        (void)conv.read_line();
        (void)conv.read_line();
        conv.send_line("250 Ok");
        conv.send_line("250 Ok");
        conv.send_line("354 go");
        const std::string data = conv.read_data();
        conv.send_line(data.size() == big.size() ? "250 Ok: queued as BIG" : "554 wrong size");
        (void)mail;
    });
    std::istringstream in(big);
    TypeParam c(options());
    c.connect("127.0.0.1", server.port());
    EXPECT_EQ(c.send(envelope(), in).queue_id, "BIG");
    c.close();
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_NE(server.received().find("SIZE=" + std::to_string(big.size())), std::string::npos);
}

TYPED_TEST(BothClient, BdatWhenChunkingOffered) {
    Server server(R"(
S: 220 mx
C: EHLO client.test
S: 250-mx
S: 250-PIPELINING
S: 250 CHUNKING
C: MAIL FROM:<alice@example.org>
C: RCPT TO:<bob@example.org>
S: 250 Ok
S: 250 Ok
C: BDAT 25 LAST
!bdat
S: 250 2.0.0 Ok: queued as CHUNK
)");
    TypeParam c(options());
    c.connect("127.0.0.1", server.port());
    EXPECT_EQ(c.send(envelope(), message).queue_id, "CHUNK");
    c.close();
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_EQ(server.mismatches(), std::vector<std::string>{});
}

TYPED_TEST(BothClient, LowLevelCommands) {
    Server server(std::string(greeting_ehlo_plain) + R"(
C: MAIL FROM:<alice@example.org>
S: 250 2.1.0 Ok
C: RCPT TO:<bob@example.org>
S: 250 2.1.5 Ok
C: DATA
S: 354 go
!data
S: 250 2.0.0 Ok
C: VRFY bob
S: 252 2.0.0 bob
C: XFOO bar
S: 250 2.0.0 foo
C: RSET
S: 250 2.0.0 Ok
C: QUIT
S: 221 2.0.0 Bye
)");
    TypeParam c(options());
    c.connect("127.0.0.1", server.port());
    EXPECT_EQ(c.extension("ENHANCEDSTATUSCODES"), "");
    EXPECT_EQ(c.extension("PIPELINING"), std::nullopt);
    EXPECT_EQ(c.mail("alice@example.org").code, 250);
    EXPECT_EQ(c.rcpt("bob@example.org").code, 250);
    auto w = c.data();
    w.write("Subject: x\r\n\r\n");
    w.write(".dot\r\n");
    EXPECT_EQ(w.finish().code, 250);
    EXPECT_EQ(c.verify("bob").code, 252);
    EXPECT_EQ(c.command("XFOO bar").text(), "foo");
    EXPECT_EQ(c.reset().code, 250);
    c.quit();
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_EQ(server.mismatches(), std::vector<std::string>{});
    EXPECT_NE(server.received().find("Subject: x\r\n\r\n..dot\r\n.\r\n"), std::string::npos);
}

TYPED_TEST(BothClient, TraceAndObserver) {
    Server server(std::string(greeting_ehlo_plain) + "C: NOOP\nS: 250 2.0.0 Ok\n");
    std::vector<std::string> trace;
    std::vector<EventKind> events;
    std::size_t sent = 0;
    Options o = options();
    o.trace = [&](missive::smtp::Direction d, std::string_view line) {
        trace.push_back((d == missive::smtp::Direction::client ? "C: " : "S: ") +
                        std::string(line));
    };
    o.observer = [&](const Event& e) {
        events.push_back(e.kind);
        if (e.kind == EventKind::bytes_sent) {
            sent += e.bytes;
        }
    };
    TypeParam c(o);
    c.connect("127.0.0.1", server.port());
    c.noop();
    c.close();
    EXPECT_EQ(trace, (std::vector<std::string>{"S: 220 mx.test ESMTP", "C: EHLO client.test",
                                               "S: 250-mx.test", "S: 250 ENHANCEDSTATUSCODES",
                                               "C: NOOP", "S: 250 2.0.0 Ok"}));
    EXPECT_EQ(events.front(), EventKind::connecting);
    EXPECT_EQ(events[1], EventKind::connected);
    EXPECT_EQ(events.back(), EventKind::closed);
    EXPECT_EQ(std::count(events.begin(), events.end(), EventKind::reply), 3);
    EXPECT_EQ(sent, std::string("EHLO client.test\r\nNOOP\r\n").size());
}

TEST(Client, OneCallSend) {
    Server server(std::string(greeting_ehlo_pipelining) + R"(
C: *
C: *
C: DATA
S: 250 Ok
S: 250 Ok
S: 354 go
!data
S: 250 Ok: queued as ONE
C: QUIT
S: 221 Bye
)");
    Options o = options();
    auto result =
        missive::send("127.0.0.1:" + std::to_string(server.port()), envelope(), message, o);
    EXPECT_EQ(result.queue_id, "ONE");
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_EQ(server.mismatches(), std::vector<std::string>{});
}

TEST(Client, OneCallSendRejectsBadServer) {
    for (const char* bad : {"", ":25", "host:", "host:0", "host:65536", "host:x", "[::1"}) {
        EXPECT_EQ(kind_of([&] { (void)missive::send(bad, envelope(), message); }),
                  errc::invalid_input)
            << bad;
    }
}

TYPED_TEST(BothClient, OperationsBeforeConnectThrow) {
    TypeParam c(options());
    EXPECT_EQ(kind_of([&] { c.noop(); }), errc::invalid_input);
    EXPECT_EQ(kind_of([&] { (void)c.send(envelope(), message); }), errc::invalid_input);
    c.quit();  // nothing to quit: no error
}

TYPED_TEST(BothClient, SurplusAfterFinalReplyKeepsResultButClosesConnection) {
    // The message was accepted; junk after the reply must not turn that into a failure (the
    // caller would send it twice), but the connection cannot be trusted any more.
    Server server(std::string(greeting_ehlo_pipelining) + R"(
C: *
C: *
C: DATA
S: 250 Ok
S: 250 Ok
S: 354 go
!data
!raw 250 Ok: queued as X1\r\n250 surplus\r\n
)");
    TypeParam c(options());
    c.connect("127.0.0.1", server.port());
    EXPECT_EQ(c.send(envelope(), message).queue_id, "X1");
    EXPECT_FALSE(c.is_open());
    ASSERT_TRUE(c.session().failed());
    EXPECT_EQ(c.session().error()->kind(), errc::protocol);
}

TYPED_TEST(BothClient, ReplyDribbledByteByByteStillTimesOut) {
    // Each byte arrives well within the timeout, but the reply as a whole does not.
    Server server([](Conversation& conv) {
        conv.send_line("220 mx");
        (void)conv.read_line();
        conv.send_line("250 mx");
        (void)conv.read_line();  // NOOP
        for (char ch : std::string("250 this reply takes far too long\r\n")) {
            conv.send_raw(std::string(1, ch));
            conv.delay(50ms);
        }
    });
    Options o = options();
    o.command_timeout = 400ms;
    TypeParam c(o);
    c.connect("127.0.0.1", server.port());
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(kind_of([&] { c.noop(); }), errc::timeout);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1200ms);
}

// ---- TLS policy (the handshakes themselves run against real Postfix in the integration tests)

TYPED_TEST(BothClientTls, RequiredButNotOfferedSendsNothingMore) {
    Server server(greeting_ehlo_pipelining);
    Options o = options();
    o.tls = missive::client::TlsMode::starttls_required;
    TypeParam c(o);
    std::string what;
    EXPECT_EQ(kind_of([&] { c.connect("127.0.0.1", server.port()); }, &what),
              errc::starttls_unavailable);
    EXPECT_EQ(what, "127.0.0.1:" + std::to_string(server.port()) +
                        " does not offer STARTTLS, and TLS is required");
    EXPECT_FALSE(c.is_open());
    ASSERT_TRUE(server.wait_for(1));
    // RFC 3207 4: nothing but EHLO and STARTTLS in clear text; no MAIL, no AUTH
    EXPECT_EQ(server.received(), "EHLO client.test\r\nQUIT\r\n");
}

TYPED_TEST(BothClientTls, RequiredAndRefusedFails) {
    Server server(R"(
S: 220 mx
C: EHLO client.test
S: 250-mx
S: 250 STARTTLS
C: STARTTLS
S: 454 4.7.0 TLS not available due to local problem
)");
    Options o = options();
    o.tls = missive::client::TlsMode::starttls_required;
    TypeParam c(o);
    std::string what;
    EXPECT_EQ(kind_of([&] { c.connect("127.0.0.1", server.port()); }, &what),
              errc::starttls_unavailable);
    EXPECT_EQ(what,
              "STARTTLS refused: 454 4.7.0 TLS not available due to local problem, and TLS is "
              "required");
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_EQ(server.received(), "EHLO client.test\r\nSTARTTLS\r\nQUIT\r\n");
}

TYPED_TEST(BothClientTls, OpportunisticGoesOnAfterRefusal) {
    Server server(R"(
S: 220 mx
C: EHLO client.test
S: 250-mx
S: 250 STARTTLS
C: STARTTLS
S: 454 4.7.0 TLS not available
C: NOOP
S: 250 Ok
)");
    TypeParam c(options());  // opportunistic is the default
    c.connect("127.0.0.1", server.port());
    EXPECT_EQ(c.noop().code, 250);
    EXPECT_EQ(c.tls(), nullptr);
}

TYPED_TEST(BothClientTls, AlwaysSendsStarttlsEvenWhenNotOffered) {
    Server server(R"(
S: 220 mx
C: EHLO client.test
S: 250 mx
C: STARTTLS
S: 502 5.5.1 not implemented
)");
    Options o = options();
    o.tls = missive::client::TlsMode::starttls_always;
    TypeParam c(o);
    EXPECT_EQ(kind_of([&] { c.connect("127.0.0.1", server.port()); }), errc::starttls_unavailable);
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_EQ(server.mismatches(), std::vector<std::string>{});
}

TYPED_TEST(BothClientTls, HandshakeWithANonTlsPeerFails) {
    // The server says 220 to STARTTLS, then answers the ClientHello with SMTP text. (The delay
    // keeps the text out of the 220's packet: bytes arriving with it are dropped as an injection.)
    Server server(R"(
S: 220 mx
C: EHLO client.test
S: 250-mx
S: 250 STARTTLS
C: STARTTLS
S: 220 go ahead
!delay 200
S: 250 this is not TLS
)");
    TypeParam c(options());
    std::string what;
    EXPECT_EQ(kind_of([&] { c.connect("127.0.0.1", server.port()); }, &what), errc::tls);
    EXPECT_NE(what.find("TLS handshake with 127.0.0.1:"), std::string::npos) << what;
    EXPECT_FALSE(c.is_open());
}

TYPED_TEST(BothClientTls, NoneInsecureNeverStartsTls) {
    Server server(R"(
S: 220 mx
C: EHLO client.test
S: 250-mx
S: 250 STARTTLS
C: NOOP
S: 250 Ok
)");
    Options o = options();
    o.tls = missive::client::TlsMode::none_insecure;
    TypeParam c(o);
    c.connect("127.0.0.1", server.port());
    EXPECT_EQ(c.noop().code, 250);
}

TYPED_TEST(BothClientUrl, SchemeAndOptionsApply) {
    Server server(R"(
S: 220 lmtp
C: LHLO from-url.test
S: 250 lmtp
)");
    TypeParam c(options());
    c.connect(missive::net::Url::parse("lmtp://127.0.0.1:" + std::to_string(server.port()) +
                                       "?helo=from-url.test&timeout=5"));
    c.close();
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_EQ(server.mismatches(), std::vector<std::string>{});
}

TEST(ClientUrl, SubmissionRequiresTls) {
    Server server(greeting_ehlo_plain);
    std::string what;
    EXPECT_EQ(kind_of(
                  [&] {
                      (void)missive::send("submission://127.0.0.1:" +
                                              std::to_string(server.port()) + "?helo=c.test",
                                          envelope(), message);
                  },
                  &what),
              errc::starttls_unavailable)
        << what;
}

TYPED_TEST(BothClientUrl, BadOptionsAndCredentials) {
    TypeParam c(options());
    EXPECT_EQ(kind_of([&] { c.connect(missive::net::Url::parse("smtp://h?colour=blue")); }),
              errc::config);
    EXPECT_EQ(kind_of([&] { c.connect(missive::net::Url::parse("smtp://h?verify=maybe")); }),
              errc::config);
    std::string what;
    EXPECT_EQ(kind_of([&] { c.connect(missive::net::Url::parse("smtp://:secret@h")); }, &what),
              errc::config);
    EXPECT_EQ(what.find("secret"), std::string::npos) << what;
}

// ---- AUTH policy (the mechanisms run against real Dovecot in the integration tests)

namespace {

constexpr const char* auth_server = R"(
S: 220 mx
C: EHLO client.test
S: 250-mx
S: 250 AUTH PLAIN LOGIN
)";

}  // namespace

TYPED_TEST(BothClientAuth, LoopbackOrExplicitlyAllowed) {
    for (bool allow : {false, true}) {
        Server server(std::string(auth_server) +
                      "C: AUTH PLAIN AGFsaWNlAFNlY3JldDEyMw==\nS: 235 ok\n");
        Options o = options();
        o.credentials = missive::sasl::Credentials{"alice", "Secret123", ""};
        if (allow) {
            o.tls_options.peer_name = "mail.example.org";
            o.allow_plaintext_auth = true;
        }
        TypeParam c(o);
        c.connect("127.0.0.1", server.port());
        EXPECT_TRUE(c.session().authenticated()) << allow;
        c.close();
        ASSERT_TRUE(server.wait_for(1));
        EXPECT_EQ(server.mismatches(), std::vector<std::string>{});
    }
}

TYPED_TEST(BothClientAuth, NoCommonMechanism) {
    Server server(auth_server);
    Options o = options();
    o.credentials = missive::sasl::Credentials{"alice", "Secret123", ""};
    o.auth_mechanisms = {"SCRAM-SHA-256"};
    TypeParam c(o);
    std::string what;
    EXPECT_EQ(kind_of([&] { c.connect("127.0.0.1", server.port()); }, &what),
              errc::auth_unavailable);
    EXPECT_EQ(what, "127.0.0.1:" + std::to_string(server.port()) +
                        " offers no usable authentication mechanism (it offers: PLAIN LOGIN)");
}

TYPED_TEST(BothClientAuth, XOauth2ErrorJsonIsReported) {
    // Gmail's way: the refusal's reason comes as a base64 JSON challenge first.
    Server server(std::string(R"(
S: 220 mx
C: EHLO client.test
S: 250-mx
S: 250 AUTH XOAUTH2 OAUTHBEARER
C: AUTH XOAUTH2 dXNlcj1hbGljZUBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB0b2tlbgEB
S: 334 eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIn0=
C: 
S: 535 5.7.8 Username and Password not accepted
)"));
    Options o = options();
    o.credentials = missive::sasl::Credentials{"alice@example.com", "token", ""};
    o.auth_mechanisms = {"XOAUTH2"};
    TypeParam c(o);
    std::string what;
    EXPECT_EQ(kind_of([&] { c.connect("127.0.0.1", server.port()); }, &what), errc::auth_failed);
    c.close();
    EXPECT_EQ(what,
              "AUTH XOAUTH2 refused: 535 5.7.8 Username and Password not accepted (server said: "
              "{\"status\":\"400\",\"schemes\":\"Bearer\"})");
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_EQ(server.mismatches(), std::vector<std::string>{});
}

TYPED_TEST(BothClientAuth, OauthBearerSucceeds) {
    Server server(R"(
S: 220 mx
C: EHLO client.test
S: 250-mx
S: 250 AUTH OAUTHBEARER
C: *
S: 235 2.7.0 ok
C: NOOP
S: 250 ok
)");
    Options o = options();
    o.credentials = missive::sasl::Credentials{"alice@example.com", "token", ""};
    o.auth_mechanisms = {"oauthbearer"};
    TypeParam c(o);
    c.connect("127.0.0.1", server.port());
    EXPECT_TRUE(c.session().authenticated());
    c.noop();
    c.close();
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_NE(
        server.received().find("AUTH OAUTHBEARER bixhPWFsaWNlQGV4YW1wbGUuY29tLAFob3N0PTEyNy4wLjAu"),
        std::string::npos)
        << server.received();
}

TYPED_TEST(BothClient, EightBitTextGoesAsEightBitMimeOrNotAtAll) {
    const std::string text =
        "Subject: 8bit\r\n\r\nGr\xc3\xbc\xc3\x9f"
        "e\r\n";
    Server with(R"(
S: 220 mx.test ESMTP
C: EHLO client.test
S: 250-mx.test
S: 250 8BITMIME
C: MAIL FROM:<alice@example.org> BODY=8BITMIME
S: 250 ok
C: RCPT TO:<bob@example.org>
S: 250 ok
C: DATA
S: 354 go
!data
S: 250 queued
)");
    TypeParam c(options());
    c.connect("127.0.0.1", with.port());
    EXPECT_TRUE(c.send(envelope(), text).all_accepted());
    c.close();
    ASSERT_TRUE(with.wait_for(1));
    EXPECT_EQ(with.mismatches(), std::vector<std::string>{});

    // RFC 6152: no 8-bit octets to a server that does not offer 8BITMIME; nothing is sent.
    Server without(std::string(greeting_ehlo_plain) + R"(
C: NOOP
S: 250 ok
)");
    TypeParam d(options());
    d.connect("127.0.0.1", without.port());
    std::string what;
    EXPECT_EQ(kind_of([&] { (void)d.send(envelope(), text); }, &what), errc::invalid_input);
    EXPECT_NE(what.find("8BITMIME"), std::string::npos) << what;
    EXPECT_EQ(d.noop().code, 250);  // still usable
    d.close();
    ASSERT_TRUE(without.wait_for(1));
    EXPECT_EQ(without.mismatches(), std::vector<std::string>{});
}
