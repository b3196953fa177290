// Both clients, blocking and asynchronous, against the real servers: Postfix with STARTTLS and
// CHUNKING, Dovecot submission with STARTTLS and implicit TLS and SCRAM, Dovecot LMTP over TCP
// and over its Unix-domain socket. One source, two clients (typed tests).
#include <missive/missive.hpp>

#include "support.hpp"
#include "support/clients.hpp"
#include "support/throws.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

using namespace missive::integration;
using missive::client::Options;
using missive::client::TlsMode;

namespace {

Options real_options() {
    Options o;
    o.local_name = "client.missive.test";
    o.command_timeout = 10s;
    o.data_block_timeout = o.final_reply_timeout = 20s;
    o.tls_options.ca_file = setting("MISSIVE_TEST_CA_FILE");
    return o;
}

std::string message(const std::string& token) {
    return "From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: " + token +
           "\r\n\r\nHello from both clients.\r\n.dot line\r\n";
}

}  // namespace

template <typename T>
class BothReal : public ::testing::Test {};

TYPED_TEST_SUITE(BothReal, missive::test::BothClients, missive::test::ClientNames);

TYPED_TEST(BothReal, PostfixStarttlsAndChunking) {
    const std::uint16_t port = port_of("MISSIVE_TEST_POSTFIX_PORT");
    REQUIRE_SERVER(port);
    Options o = real_options();
    o.tls = TlsMode::starttls_required;
    TypeParam c(o);
    c.connect("127.0.0.1", port);
    ASSERT_NE(c.tls(), nullptr);
    EXPECT_TRUE(c.capabilities().chunking());
    const std::string token = unique_token();
    const auto r =
        c.send({.from = "alice@example.org", .to = {"bob@example.com", "rej@example.com"}},
               message(token));
    c.quit();
    ASSERT_EQ(r.recipients.size(), 2U);
    EXPECT_TRUE(r.recipients[0].accepted);
    EXPECT_EQ(r.recipients[1].reply.code, 550);
    const auto files = find_delivered(setting("MISSIVE_TEST_DIR") + "/mail", token, 1);
    ASSERT_EQ(files.size(), 1U);
    EXPECT_NE(read_file(files[0]).find("Hello from both clients.\n.dot line\n"), std::string::npos);
}

// A stream of messages over one connection (one round trip each, BDAT with the commands):
// every accepted one arrives exactly once, refusals stay with their message.
TYPED_TEST(BothReal, PostfixStreamOfMessages) {
    const std::uint16_t port = port_of("MISSIVE_TEST_POSTFIX_PORT");
    REQUIRE_SERVER(port);
    Options o = real_options();
    o.tls = TlsMode::starttls_required;
    TypeParam c(o);
    c.connect("127.0.0.1", port);
    const std::string token = unique_token();
    std::vector<missive::client::Letter> letters;
    for (int i = 0; i < 20; ++i) {
        std::vector<missive::smtp::Recipient> to;
        if (i % 5 != 3) {
            to.emplace_back("bob@example.com");
        }
        if (i % 5 >= 3) {
            to.emplace_back("rej@example.com");
        }
        letters.emplace_back(missive::smtp::Envelope{.from = "alice@example.org", .to = to},
                             message(token + "-" + std::to_string(i) + "-"));
    }
    std::vector<missive::client::Outcome> out;
    c.send_all(letters, [&](missive::client::Outcome x) { out.push_back(std::move(x)); });
    c.quit();
    ASSERT_EQ(out.size(), letters.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
        EXPECT_EQ(out[i].index, i);
        if (i % 5 == 3) {
            ASSERT_FALSE(out[i].accepted());
            EXPECT_EQ(out[i].error->kind(), missive::errc::all_recipients_refused);
        } else {
            EXPECT_TRUE(out[i].accepted()) << out[i].error->what();
            EXPECT_EQ(out[i].result.accepted(), (std::vector<std::string>{"bob@example.com"}));
        }
    }
    const std::string dir = setting("MISSIVE_TEST_DIR") + "/mail";
    ASSERT_EQ(find_delivered(dir, token, 16).size(), 16U);
    std::this_thread::sleep_for(300ms);  // a duplicate would show up by now
    for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(find_delivered(dir, token + "-" + std::to_string(i) + "-", 1, 0ms).size(),
                  i % 5 == 3 ? 0U : 1U)
            << "message " << i;
    }
}

TYPED_TEST(BothReal, DovecotSubmissionScramOverStarttlsAndImplicitTls) {
    for (const char* key :
         {"MISSIVE_TEST_DOVECOT_SUBMISSION_PORT", "MISSIVE_TEST_DOVECOT_SUBMISSIONS_PORT"}) {
        const std::uint16_t port = port_of(key);
        REQUIRE_SERVER(port);
        const bool implicit = std::string(key).find("SUBMISSIONS") != std::string::npos;
        Options o = real_options();
        o.credentials = missive::sasl::Credentials{"bob@example.com", "Secret-456", ""};
        o.auth_mechanisms = {"SCRAM-SHA-256"};
        TypeParam c(o);
        c.connect(missive::net::Url::parse(
            (implicit ? "smtps://127.0.0.1:" : "submission://127.0.0.1:") + std::to_string(port)));
        EXPECT_TRUE(c.session().authenticated()) << key;
        ASSERT_NE(c.tls(), nullptr) << key;
        const std::string token = unique_token();
        const auto r =
            c.send({.from = "bob@example.com", .to = {"carol@example.org"}}, message(token));
        c.quit();
        EXPECT_TRUE(r.all_accepted()) << key;
        EXPECT_EQ(find_delivered(setting("MISSIVE_TEST_DIR") + "/sink", token, 1).size(), 1U)
            << key;
    }
}

TYPED_TEST(BothReal, DovecotLmtpOverItsUnixSocket) {
    REQUIRE_SERVER(port_of("MISSIVE_TEST_DOVECOT_LMTP_PORT"));
    const std::string socket = setting("MISSIVE_TEST_DIR") + "/dovecot/run/lmtp-missive";
    TypeParam c(real_options());
    // A local socket: no opportunistic STARTTLS (there is no wire to protect, and no name).
    c.connect(missive::net::Url::parse("lmtp://" + socket));
    EXPECT_EQ(c.tls(), nullptr);
    const std::string token = unique_token();
    const auto r =
        c.send({.from = "sender@example.org", .to = {"alice", "nobody", "bob@example.com"}},
               message(token));
    c.quit();
    ASSERT_EQ(r.recipients.size(), 3U);
    EXPECT_TRUE(r.recipients[0].accepted);
    EXPECT_EQ(r.recipients[1].reply.code, 550);
    EXPECT_TRUE(r.recipients[2].accepted);
    EXPECT_NE(r.recipients[0].reply.text().find("<alice>"), std::string::npos)
        << r.recipients[0].reply.to_string();
    const std::string home = setting("MISSIVE_TEST_DIR") + "/dovecot/home";
    EXPECT_EQ(find_delivered(home + "/alice/Maildir/new", token, 1).size(), 1U);
    EXPECT_EQ(find_delivered(home + "/bob/Maildir/new", token, 1).size(), 1U);
}

// LMTP answers the data once per accepted recipient: a stream keeps those replies apart.
TYPED_TEST(BothReal, DovecotLmtpStreamOfMessages) {
    REQUIRE_SERVER(port_of("MISSIVE_TEST_DOVECOT_LMTP_PORT"));
    const std::string socket = setting("MISSIVE_TEST_DIR") + "/dovecot/run/lmtp-missive";
    TypeParam c(real_options());
    c.connect(missive::net::Url::parse("lmtp://" + socket));
    const std::string token = unique_token();
    std::vector<missive::client::Letter> letters;
    for (int i = 0; i < 6; ++i) {
        letters.emplace_back(missive::smtp::Envelope{.from = "sender@example.org",
                                                     .to = {"alice", "nobody", "bob@example.com"}},
                             message(token + "-" + std::to_string(i) + "-"));
    }
    std::vector<missive::client::Outcome> out;
    c.send_all(letters, [&](missive::client::Outcome x) { out.push_back(std::move(x)); });
    c.quit();
    ASSERT_EQ(out.size(), letters.size());
    for (const auto& o : out) {
        ASSERT_TRUE(o.accepted()) << o.error->what();
        EXPECT_EQ(o.result.accepted(), (std::vector<std::string>{"alice", "bob@example.com"}));
    }
    const std::string home = setting("MISSIVE_TEST_DIR") + "/dovecot/home";
    EXPECT_EQ(find_delivered(home + "/alice/Maildir/new", token, 6).size(), 6U);
    EXPECT_EQ(find_delivered(home + "/bob/Maildir/new", token, 6).size(), 6U);
}

TYPED_TEST(BothReal, DovecotLmtpOverItsUnixSocketWithTlsChecksTheGivenName) {
    REQUIRE_SERVER(port_of("MISSIVE_TEST_DOVECOT_LMTP_PORT"));
    const std::string socket = setting("MISSIVE_TEST_DIR") + "/dovecot/run/lmtp-missive";
    Options o = real_options();
    o.tls = TlsMode::starttls_required;
    {
        TypeParam c(o);
        EXPECT_EQ(missive::test::kind_of(
                      [&] { c.connect(missive::net::Url::parse("lmtp://" + socket)); }),
                  missive::errc::config);
    }
    {
        TypeParam c(o);
        EXPECT_EQ(
            missive::test::kind_of([&] {
                c.connect(missive::net::Url::parse("lmtp://" + socket + "?peer=wrong.example"));
            }),
            missive::errc::certificate);
    }
    TypeParam c(o);
    c.connect(missive::net::Url::parse("lmtp://" + socket + "?peer=localhost"));
    EXPECT_NE(c.tls(), nullptr);
    c.quit();
}
