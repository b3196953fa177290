// Client::send_all and AsyncClient::async_send_all: a stream of messages on one connection, one
// round trip each, every letter's outcome reported once, recipients split as the server asks.

#include <missive/client/client.hpp>
#include <missive/mime/builder.hpp>
#include <missive/testing/server.hpp>

#include "support/clients.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

using missive::errc;
using missive::client::EventKind;
using missive::client::Letter;
using missive::client::Options;
using missive::client::Outcome;
using missive::smtp::Envelope;
using missive::testing::Conversation;
using missive::testing::Server;
using namespace std::chrono_literals;

namespace {

Options options() {
    Options o;
    o.local_name = "client.test";
    o.command_timeout = 20s;
    o.data_block_timeout = o.final_reply_timeout = 20s;
    return o;
}

Letter letter(int n, std::vector<std::string> to = {"bob@example.org"}) {
    Envelope e;
    e.from = "alice@example.org";
    for (auto& t : to) {
        e.to.emplace_back(std::move(t));
    }
    return {e, "Subject: " + std::to_string(n) + "\r\n\r\nmessage " + std::to_string(n) + "\r\n"};
}

// How the sink answers; by default it accepts everything.
struct Behaviour {
    std::string extensions = "PIPELINING";
    // The final reply to message `n` (counted from 0 over the connection).
    std::function<std::string(int n)> verdict = [](int n) {
        return "250 2.0.0 queued as Q" + std::to_string(n);
    };
    // The reply to the `i`th RCPT of a transaction.
    std::function<std::string(int i)> rcpt = [](int) { return std::string("250 ok"); };
    int drop_after_data = -1;  // close instead of answering this message's data
};

// A small SMTP server that answers every line as it comes (so it pipelines), counts the
// transactions it saw and the messages it took.
struct Sink {
    std::atomic<int> transactions{0};
    std::atomic<int> taken{0};
    Server server;

    explicit Sink(Behaviour b)
        : server([this, b](Conversation& c) {
            c.send_line("220 mx.test");
            int messages = 0;
            int rcpts = 0;
            bool any_rcpt = false;
            auto verdict = [&](Conversation& conv) {
                const int n = messages++;
                if (n == b.drop_after_data) {
                    conv.close();
                    throw std::runtime_error("dropped");
                }
                const std::string v = any_rcpt ? b.verdict(n) : "554 5.5.1 no valid recipients";
                if (v[0] == '2') {
                    ++taken;
                }
                conv.send_line(v);
            };
            for (;;) {
                const std::string line = c.read_line();
                if (line.rfind("EHLO", 0) == 0) {
                    std::string reply = "250-mx.test";
                    std::string rest = b.extensions;
                    for (std::size_t nl; (nl = rest.find('\n')) != std::string::npos;) {
                        reply += "\r\n250-" + rest.substr(0, nl);
                        rest.erase(0, nl + 1);
                    }
                    c.send_line(reply + "\r\n250 " + rest);
                } else if (line.rfind("MAIL", 0) == 0) {
                    ++transactions;
                    rcpts = 0;
                    any_rcpt = false;
                    c.send_line("250 ok");
                } else if (line.rfind("RCPT", 0) == 0) {
                    const std::string r = b.rcpt(rcpts++);
                    any_rcpt = any_rcpt || r[0] == '2';
                    c.send_line(r);
                } else if (line == "DATA") {
                    if (!any_rcpt) {
                        c.send_line("554 5.5.1 no valid recipients");
                        continue;
                    }
                    c.send_line("354 go");
                    (void)c.read_data();
                    verdict(c);
                } else if (line.rfind("BDAT ", 0) == 0) {
                    (void)c.read_exact(std::stoul(line.substr(5)));
                    verdict(c);
                } else if (line == "RSET") {
                    c.send_line("250 ok");
                } else if (line == "QUIT") {
                    c.send_line("221 bye");
                    return;
                } else {
                    c.send_line("500 what");
                }
            }
        }) {}
};

template <typename T>
class SendAll : public ::testing::Test {};

TYPED_TEST_SUITE(SendAll, missive::test::BothClients, missive::test::ClientNames);

template <typename C>
std::vector<Outcome> send_all(C& client, const std::vector<Letter>& letters) {
    std::vector<Outcome> out;
    client.send_all(letters, [&](Outcome o) { out.push_back(std::move(o)); });
    return out;
}

}  // namespace

TYPED_TEST(SendAll, OneWritePerMessage) {
    for (const char* ext : {"PIPELINING", "PIPELINING\nCHUNKING"}) {
        SCOPED_TRACE(ext);
        Behaviour b;
        b.extensions = ext;
        Sink sink(b);
        Options o = options();
        int writes = 0;
        o.observer = [&](const missive::client::Event& e) {
            writes += e.kind == EventKind::bytes_sent ? 1 : 0;
        };
        TypeParam client(o);
        client.connect("127.0.0.1", sink.server.port());
        client.hello();
        writes = 0;
        std::vector<Letter> letters;
        for (int i = 0; i < 5; ++i) {
            letters.push_back(letter(i));
        }
        const auto out = send_all(client, letters);
        ASSERT_EQ(out.size(), 5U);
        for (std::size_t i = 0; i < out.size(); ++i) {
            EXPECT_EQ(out[i].index, i);
            EXPECT_TRUE(out[i].accepted()) << out[i].error->what();
            EXPECT_EQ(out[i].result.queue_id, "Q" + std::to_string(i));
            EXPECT_EQ(out[i].attempts, 1U);
        }
        // DATA: the first commands, then each message's data with the next one's commands.
        // BDAT: each message's commands and data together, two messages at a time when the
        // first one's replies are still due.
        if (std::string(ext) == "PIPELINING") {
            EXPECT_EQ(writes, 6);
        } else {
            EXPECT_LE(writes, 5);
        }
        EXPECT_EQ(sink.taken, 5);
        client.quit();
    }
}

TYPED_TEST(SendAll, RefusalStaysWithItsMessage) {
    Behaviour b;
    b.verdict = [](int n) {
        return n == 1 ? std::string("554 5.7.1 spam") : "250 queued as Q" + std::to_string(n);
    };
    Sink sink(b);
    TypeParam client(options());
    client.connect("127.0.0.1", sink.server.port());
    const auto out = send_all(client, {letter(0), letter(1), letter(2)});
    ASSERT_EQ(out.size(), 3U);
    EXPECT_TRUE(out[0].accepted());
    ASSERT_FALSE(out[1].accepted());
    EXPECT_EQ(out[1].error->kind(), errc::reply_permanent);
    EXPECT_TRUE(out[2].accepted());
    EXPECT_EQ(out[2].result.queue_id, "Q2");
    EXPECT_TRUE(client.is_open());
}

TYPED_TEST(SendAll, DropAfterADotReportsEachLetterOnce) {
    Behaviour b;
    b.drop_after_data = 1;
    Sink sink(b);
    TypeParam client(options());
    client.connect("127.0.0.1", sink.server.port());
    const auto out = send_all(client, {letter(0), letter(1), letter(2), letter(3), letter(4)});
    ASSERT_EQ(out.size(), 5U);
    std::vector<std::size_t> seen;
    for (const auto& o : out) {
        seen.push_back(o.index);
    }
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, (std::vector<std::size_t>{0, 1, 2, 3, 4}));
    EXPECT_TRUE(out[0].accepted());
    ASSERT_FALSE(out[1].accepted());
    EXPECT_EQ(out[1].error->kind(), errc::outcome_unknown);
    for (std::size_t i = 2; i < out.size(); ++i) {
        ASSERT_FALSE(out[i].accepted());
        EXPECT_TRUE(out[i].error->transient()) << out[i].error->what();
        EXPECT_FALSE(out[i].error->outcome_unknown());
    }
    EXPECT_FALSE(client.is_open());
}

TYPED_TEST(SendAll, RecipientsBeyondRcptMaxGoInFurtherTransactions) {
    Behaviour b;
    b.extensions = "PIPELINING\nLIMITS RCPTMAX=2";
    Sink sink(b);
    TypeParam client(options());
    client.connect("127.0.0.1", sink.server.port());
    const auto out = send_all(client, {letter(0, {"a@example.org", "b@example.org", "c@example.org",
                                                  "d@example.org", "e@example.org"}),
                                       letter(1)});
    ASSERT_EQ(out.size(), 2U);
    EXPECT_TRUE(out[0].accepted());
    EXPECT_EQ(out[0].result.accepted().size(), 5U);
    EXPECT_TRUE(out[0].result.all_accepted());
    EXPECT_TRUE(out[1].accepted());
    EXPECT_EQ(sink.transactions, 4);  // 2 + 2 + 1 recipients, then the next letter
}

TYPED_TEST(SendAll, TooManyRecipientsGoInTheNextTransaction) {
    Behaviour b;
    b.rcpt = [](int i) { return i < 2 ? std::string("250 ok") : "452 4.5.3 too many recipients"; };
    Sink sink(b);
    TypeParam client(options());
    client.connect("127.0.0.1", sink.server.port());
    const auto out = send_all(client, {letter(0, {"a@example.org", "b@example.org", "c@example.org",
                                                  "d@example.org", "e@example.org"})});
    ASSERT_EQ(out.size(), 1U);
    ASSERT_TRUE(out[0].accepted());
    EXPECT_TRUE(out[0].result.all_accepted());
    EXPECT_EQ(out[0].result.recipients.size(), 5U);
    EXPECT_EQ(sink.transactions, 3);
    EXPECT_EQ(sink.taken, 3);
}

TYPED_TEST(SendAll, ALetterThatCannotGoFailsAlone) {
    Sink sink(Behaviour{});
    TypeParam client(options());
    client.connect("127.0.0.1", sink.server.port());
    const auto dir = std::filesystem::temp_directory_path() / "missive-send-all-test";
    std::filesystem::create_directories(dir);
    { std::ofstream(dir / "ready.eml") << "Subject: from a file\n\nfile body\n"; }
    Envelope e;
    e.from = "alice@example.org";
    e.to.emplace_back("bob@example.org");
    missive::mime::Builder built;
    built.from("alice@example.org").to("bob@example.org").subject("built").text("hello");
    Envelope bad = e;
    bad.to = {missive::smtp::Recipient("bob@example.org\r\nRSET")};
    const std::vector<Letter> letters{Letter(e, dir / "missing.eml"), Letter(built.build()),
                                      Letter(bad, std::string("x\r\n")),
                                      Letter(e, dir / "ready.eml")};
    const auto out = send_all(client, letters);
    ASSERT_EQ(out.size(), 4U);
    ASSERT_FALSE(out[0].accepted());
    EXPECT_EQ(out[0].error->kind(), errc::invalid_input);
    EXPECT_NE(std::string(out[0].error->what()).find("missing.eml"), std::string::npos);
    EXPECT_TRUE(out[1].accepted());
    ASSERT_FALSE(out[2].accepted());
    EXPECT_EQ(out[2].error->kind(), errc::invalid_input);
    EXPECT_TRUE(out[3].accepted());
    EXPECT_EQ(sink.taken, 2);
    std::filesystem::remove_all(dir);
}

TYPED_TEST(SendAll, NotConnectedIsTheCallersMistake) {
    TypeParam client(options());
    std::vector<Letter> letters{letter(0)};
    try {
        client.send_all(letters, [](const Outcome&) {});
        FAIL() << "no error";
    } catch (const missive::Error& e) {
        EXPECT_EQ(e.kind(), errc::invalid_input);
    }
}
