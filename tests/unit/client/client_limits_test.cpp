// Every wait the client makes has the caller's limit: each write of message data, the reply to
// the final dot, and an overall deadline; SIZE keeps an oversized message from being sent at all;
// a message source that fails half way never goes out as a whole message.
#include <missive/client/client.hpp>
#include <missive/mime/builder.hpp>
#include <missive/testing/server.hpp>

#include "support/clients.hpp"
#include "support/failing_buf.hpp"
#include "support/throws.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <istream>
#include <stdexcept>
#include <streambuf>
#include <string>

using missive::errc;
using missive::Error;
using missive::client::Client;
using missive::client::Options;
using missive::smtp::Envelope;
using missive::test::FailingBuf;
using missive::testing::Conversation;
using missive::testing::Server;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

Options options() {
    Options o;
    o.local_name = "client.test";
    o.command_timeout = 30s;
    o.data_block_timeout = o.final_reply_timeout = 30s;
    return o;
}

Envelope envelope() {
    Envelope e;
    e.from = "alice@example.org";
    e.to.emplace_back("bob@example.org");
    return e;
}

// Greets, accepts MAIL, RCPT and DATA one by one, then hands over to `after_354`.
Server until_data(const std::string& extensions, std::function<void(Conversation&)> after_354) {
    return Server([extensions, after_354](Conversation& c) {
        c.send_line("220 mx.test");
        for (;;) {
            const std::string line = c.read_line();
            if (line.rfind("EHLO", 0) == 0) {
                c.send_line(extensions.empty() ? "250 mx.test" : "250-mx.test\r\n" + extensions);
            } else if (line == "DATA") {
                c.send_line("354 go");
                after_354(c);
                return;
            } else {
                c.send_line("250 ok");
            }
        }
    });
}

// Runs `send`, expects errc::timeout, and returns its message and how long it took.
std::pair<std::string, Clock::duration> time_out(const std::function<void()>& send) {
    const auto start = Clock::now();
    try {
        send();
        ADD_FAILURE() << "no timeout";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::timeout) << e.what();
        return {e.what(), Clock::now() - start};
    }
    return {"", Clock::now() - start};
}

}  // namespace

template <typename T>
class BothClientLimits : public ::testing::Test {};

TYPED_TEST_SUITE(BothClientLimits, missive::test::BothClients, missive::test::ClientNames);

// A server that stops reading in the middle of the message: each write must progress within
// data_block_timeout, so the client gives up after about that long, not after the whole
// message's allowance.
TYPED_TEST(BothClientLimits, ServerThatStopsReadingMidMessage) {
    Server server = until_data("", [](Conversation& c) {
        (void)c.read_exact(1024);
        c.delay(20s);  // reads nothing more; the kernel's buffers fill up
    });
    Options o = options();
    o.data_block_timeout = 1s;
    TypeParam c(o);
    c.connect("127.0.0.1", server.port());
    const std::string big(64u << 20, 'x');  // more than any socket buffer holds
    const auto [what, took] = time_out([&] { (void)c.send(envelope(), big); });
    EXPECT_LT(took, 8s);
    EXPECT_NE(what.find("timed out after 1 s (data_block_timeout)"), std::string::npos) << what;
    EXPECT_FALSE(c.is_open());
    server.stop();
}

// A server that takes the whole message and never answers the final dot: the wait for that
// reply has its own limit, and the error says the outcome is unknown (the server may have it).
TYPED_TEST(BothClientLimits, ServerThatNeverAnswersTheFinalDot) {
    Server server = until_data("", [](Conversation& c) {
        (void)c.read_data();
        c.delay(20s);
    });
    Options o = options();
    o.final_reply_timeout = 1s;
    TypeParam c(o);
    c.connect("127.0.0.1", server.port());
    const auto start = Clock::now();
    try {
        (void)c.send(envelope(), "Subject: x\r\n\r\nbody\r\n");
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::outcome_unknown) << e.what();
        EXPECT_NE(std::string(e.what()).find("timed out after 1 s (final_reply_timeout)"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_LT(Clock::now() - start, 8s);
    server.stop();
}

// Each wait has its own limit however many go by in one operation: the one timer that watches
// them is set for an earlier step's deadline and must wait on for the step in progress.
TYPED_TEST(BothClientLimits, EachStepGetsItsWholeLimit) {
    Server server([](Conversation& c) {
        c.send_line("220 mx.test");
        for (;;) {
            const std::string line = c.read_line();
            c.delay(250ms);  // each reply within the 600 ms limit, all of them far beyond it
            if (line == "DATA") {
                c.send_line("354 go");
                (void)c.read_data();
                c.delay(250ms);
            }
            c.send_line(line.rfind("EHLO", 0) == 0 ? "250 mx.test" : "250 ok");
        }
    });
    Options o = options();
    o.command_timeout = o.final_reply_timeout = 600ms;
    TypeParam c(o);
    c.connect("127.0.0.1", server.port());
    Envelope e = envelope();
    e.to.emplace_back("carol@example.org");
    const auto start = Clock::now();
    const auto result = c.send(e, "Subject: x\r\n\r\nbody\r\n");
    EXPECT_TRUE(result.all_accepted());
    EXPECT_GT(Clock::now() - start, 1s);  // five replies of 250 ms: longer than any one limit
    server.stop();
}

// Options::deadline bounds everything, whatever the per-step limits allow.
TYPED_TEST(BothClientLimits, OverallDeadline) {
    Server server([](Conversation& c) {
        c.send_line("220 mx.test");
        for (;;) {
            (void)c.read_line();
            c.delay(400ms);  // slow, but each reply well within command_timeout
            c.send_line("250 ok");
        }
    });
    Options o = options();
    o.deadline = Clock::now() + 1500ms;
    TypeParam c(o);
    const auto [what, took] = time_out([&] {
        c.connect("127.0.0.1", server.port());
        for (int i = 0; i < 20; ++i) {
            (void)c.noop();
        }
    });
    EXPECT_LT(took, 4s);
    EXPECT_NE(what.find("timed out after the deadline (Options::deadline)"), std::string::npos)
        << what;
    server.stop();
}

// set_deadline(nullopt) lifts it again for later operations.
TYPED_TEST(BothClientLimits, SetDeadlineBetweenOperations) {
    Server server(R"(
S: 220 mx.test
C: EHLO client.test
S: 250 mx.test
C: NOOP
!delay 300
S: 250 ok
C: NOOP
!delay 300
S: 250 ok
)");
    TypeParam c(options());
    c.connect("127.0.0.1", server.port());
    c.set_deadline(Clock::now() + 100ms);
    EXPECT_EQ(time_out([&] { (void)c.noop(); }).second < 2s, true);
    c.set_deadline(std::nullopt);
    Server again(R"(
S: 220 mx.test
C: EHLO client.test
S: 250 mx.test
C: NOOP
!delay 300
S: 250 ok
)");
    c.connect("127.0.0.1", again.port());
    EXPECT_EQ(c.noop().code, 250);
}

// RFC 1870: a message larger than the server's SIZE is refused before MAIL, so none of it is
// uploaded; a smaller one carries its exact size.
TYPED_TEST(BothClientLimits, SizeRefusesAnOversizedBuiltMessageBeforeMail) {
    Server server("S: 220 mx.test\nC: EHLO client.test\nS: 250-mx.test\nS: 250 SIZE 1000\n");
    const auto message = missive::mime::Builder()
                             .from("alice@example.org")
                             .to("bob@example.org")
                             .subject("big")
                             .text(std::string(5000, 'a') + "\n")
                             .build();
    TypeParam c(options());
    c.connect("127.0.0.1", server.port());
    try {
        (void)c.send(message);
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::message_too_large) << e.what();
    }
    c.close();
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_EQ(server.received(), "EHLO client.test\r\n");  // no MAIL, no data
}

TYPED_TEST(BothClientLimits, SizeParameterIsTheExactLengthOfABuiltMessage) {
    std::string mail;
    std::string data;
    Server server = until_data("250 SIZE 100000", [&](Conversation& c) {
        data = c.read_data();
        c.send_line("250 queued");
        (void)c.read_line();
        c.send_line("221 bye");
    });
    const auto message = missive::mime::Builder()
                             .from("alice@example.org")
                             .to("bob@example.org")
                             .subject("Grüße")
                             .text("Hello\nsecond line\n")
                             .attach(std::string(3000, '\x01'), "blob.bin")
                             .build();
    TypeParam c(options());
    c.connect("127.0.0.1", server.port());
    (void)c.send(message);
    c.quit();
    ASSERT_TRUE(server.wait_for(1));
    const std::string sent = server.received();
    const auto at = sent.find("MAIL FROM:<alice@example.org> SIZE=");
    ASSERT_NE(at, std::string::npos) << sent;
    const std::string size = sent.substr(at + 35, sent.find('\r', at) - at - 35);
    EXPECT_EQ(size, std::to_string(data.size()));  // no line starts with a dot: no stuffing
}

// A source that fails half way aborts the transaction: the final dot is never sent (the server
// discards the partial message when the connection drops), and the caller learns why and who
// had been accepted.
TYPED_TEST(BothClientLimits, SourceThatFailsHalfWayIsNeverSentAsWhole) {
    std::string data;
    bool ended = false;
    Server server = until_data("", [&](Conversation& c) {
        try {
            data = c.read_data();
            ended = true;
        } catch (...) {
        }
    });
    TypeParam c(options());
    c.connect("127.0.0.1", server.port());
    FailingBuf buf(200000, 'y', 4096);
    std::istream in(&buf);
    // With a body type given there is no reading pass before the send: the failure comes in
    // the middle of the data.
    Envelope seven_bit = envelope();
    seven_bit.params.body = missive::smtp::BodyType::seven_bit;
    try {
        (void)c.send(seven_bit, in);
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::invalid_input);
        EXPECT_NE(std::string(e.what()).find("reading the message failed after"), std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("partial message is not delivered"), std::string::npos)
            << e.what();
        ASSERT_TRUE(e.report());
        ASSERT_EQ(e.report()->recipients.size(), 1U);
        EXPECT_TRUE(e.report()->recipients[0].accepted);
    }
    EXPECT_FALSE(c.is_open());
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_FALSE(ended) << "the server saw the end of the data";
    EXPECT_EQ(server.received().find("\r\n.\r\n"), std::string::npos);
}

TYPED_TEST(BothClientLimits, SourceThatFailsBeforeTheSendLeavesTheConnectionAsItWas) {
    // Without a body type the message is read once before MAIL (to find 8-bit octets): a
    // source that fails then costs nothing, and the connection stays usable.
    Server server(R"(
S: 220 mx.test
C: EHLO client.test
S: 250 mx.test
C: NOOP
S: 250 ok
)");
    TypeParam c(options());
    c.connect("127.0.0.1", server.port());
    FailingBuf buf(200000, 'y', 4096);
    std::istream in(&buf);
    std::string what;
    EXPECT_EQ(missive::test::kind_of([&] { (void)c.send(envelope(), in); }, &what),
              errc::invalid_input);
    EXPECT_NE(what.find("reading the message failed after"), std::string::npos) << what;
    EXPECT_EQ(c.noop().code, 250);
    c.close();
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_EQ(server.mismatches(), std::vector<std::string>{});
}
