// Against Dovecot: LMTP delivery with a reply per recipient, and submission's STARTTLS.
#include <missive/missive.hpp>

#include "support.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace missive::integration;
using missive::errc;
using missive::Error;
using missive::client::Client;
using missive::client::Options;

namespace {

Options dovecot_options() {
    Options o;
    o.local_name = "client.missive.test";
    o.command_timeout = 10s;
    o.tls_options.ca_file = setting("MISSIVE_TEST_CA_FILE");
    return o;
}

}  // namespace

TEST(Dovecot, LmtpReportsEachRecipient) {
    const std::uint16_t port = port_of("MISSIVE_TEST_DOVECOT_LMTP_PORT");
    REQUIRE_SERVER(port);
    Options o = dovecot_options();
    o.protocol = missive::smtp::Protocol::lmtp;
    o.tls = missive::client::TlsMode::starttls_required;  // Dovecot's LMTP offers STARTTLS
    Client c(o);
    c.connect("127.0.0.1", port);
    EXPECT_NE(c.tls(), nullptr);
    const std::string token = unique_token();
    auto r = c.send({.from = "sender@example.org", .to = {"alice", "nobody", "bob@example.com"}},
                    "Subject: " + token + "\r\n\r\nLMTP delivery\r\n");
    c.quit();
    ASSERT_EQ(r.recipients.size(), 3U);
    EXPECT_TRUE(r.recipients[0].accepted);
    EXPECT_FALSE(r.recipients[1].accepted);
    EXPECT_EQ(r.recipients[1].reply.code, 550);
    EXPECT_TRUE(r.recipients[2].accepted);
    // The per-recipient replies after the data, e.g. "250 2.0.0 <alice> Ij3+… Saved".
    EXPECT_NE(r.recipients[0].reply.text().find("<alice>"), std::string::npos)
        << r.recipients[0].reply.to_string();
    EXPECT_NE(r.recipients[2].reply.text().find("<bob@example.com>"), std::string::npos)
        << r.recipients[2].reply.to_string();
    const std::string home = setting("MISSIVE_TEST_DIR") + "/dovecot/home";
    EXPECT_EQ(find_delivered(home + "/alice/Maildir/new", token, 1).size(), 1U);
    EXPECT_EQ(find_delivered(home + "/bob/Maildir/new", token, 1).size(), 1U);
}

TEST(Dovecot, SubmissionNeedsAuthentication) {
    const std::uint16_t port = port_of("MISSIVE_TEST_DOVECOT_SUBMISSION_PORT");
    REQUIRE_SERVER(port);
    Options o = dovecot_options();
    o.tls = missive::client::TlsMode::starttls_required;
    Client c(o);
    c.connect("127.0.0.1", port);
    ASSERT_NE(c.tls(), nullptr);
    EXPECT_EQ(c.capabilities().auth_mechanisms(),
              (std::vector<std::string>{"PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1",
                                        "SCRAM-SHA-256"}));
    try {
        (void)c.send({.from = "alice@example.org", .to = {"bob@example.com"}},
                     "Subject: x\r\n\r\n");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::reply_permanent);
        EXPECT_EQ(e.reply()->code, 530);
        EXPECT_TRUE(e.connection_usable());
    }
}

class DovecotAuth : public ::testing::TestWithParam<const char*> {};

TEST_P(DovecotAuth, MechanismSucceedsAndSends) {
    for (const char* key :
         {"MISSIVE_TEST_DOVECOT_SUBMISSION_PORT", "MISSIVE_TEST_DOVECOT_SUBMISSIONS_PORT"}) {
        const std::uint16_t port = port_of(key);
        REQUIRE_SERVER(port);
        Options o = dovecot_options();
        o.tls = std::string(key).find("SUBMISSIONS") != std::string::npos
                    ? missive::client::TlsMode::implicit
                    : missive::client::TlsMode::starttls_required;
        o.credentials = missive::sasl::Credentials{"bob@example.com", "Secret-456", ""};
        o.auth_mechanisms = {GetParam()};
        std::vector<std::string> trace;
        o.trace = [&](missive::smtp::Direction, std::string_view line) {
            trace.emplace_back(line);
        };
        Client c(o);
        c.connect("127.0.0.1", port);
        EXPECT_TRUE(c.session().authenticated()) << GetParam();
        const std::string token = unique_token();
        auto r = c.send({.from = "bob@example.com", .to = {"carol@example.org"}},
                        "Subject: " + token + "\r\n\r\nauthenticated\r\n");
        c.quit();
        EXPECT_TRUE(r.all_accepted());
        EXPECT_EQ(find_delivered(setting("MISSIVE_TEST_DIR") + "/sink", token, 1).size(), 1U);
        for (const auto& line : trace) {  // neither the password nor its base64 in the trace
            EXPECT_EQ(line.find("Secret-456"), std::string::npos) << line;
            EXPECT_EQ(line.find("U2VjcmV0LTQ1Ng"), std::string::npos) << line;
        }
    }
}

TEST_P(DovecotAuth, WrongPasswordFailsCleanly) {
    const std::uint16_t port = port_of("MISSIVE_TEST_DOVECOT_SUBMISSION_PORT");
    REQUIRE_SERVER(port);
    Options o = dovecot_options();
    o.tls = missive::client::TlsMode::starttls_required;
    o.credentials = missive::sasl::Credentials{"alice", "not-the-password", ""};
    o.auth_mechanisms = {GetParam()};
    Client c(o);
    try {
        c.connect("127.0.0.1", port);
        FAIL() << GetParam();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::auth_failed) << e.what();
        EXPECT_NE(std::string(e.what()).find("535 5.7.8"), std::string::npos) << e.what();
        EXPECT_EQ(std::string(e.what()).find("not-the-password"), std::string::npos);
    }
}

INSTANTIATE_TEST_SUITE_P(Mechanisms, DovecotAuth,
                         ::testing::Values("PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5",
                                           "SCRAM-SHA-1", "SCRAM-SHA-256"));

TEST(Dovecot, StrongestMechanismChosenByItself) {
    const std::uint16_t port = port_of("MISSIVE_TEST_DOVECOT_SUBMISSION_PORT");
    REQUIRE_SERVER(port);
    std::vector<std::string> trace;
    Options o = dovecot_options();
    o.trace = [&](missive::smtp::Direction, std::string_view line) { trace.emplace_back(line); };
    o.credentials = missive::sasl::Credentials{"alice", "Secret123", ""};
    Client c(o);
    c.connect("127.0.0.1", port);
    EXPECT_TRUE(c.session().authenticated());
    EXPECT_NE(std::find(trace.begin(), trace.end(), "AUTH SCRAM-SHA-256 <redacted>"), trace.end());
    c.quit();
}

TEST(Dovecot, OneCallSendWithSubmissionUrl) {
    const std::uint16_t port = port_of("MISSIVE_TEST_DOVECOT_SUBMISSION_PORT");
    REQUIRE_SERVER(port);
    const std::string token = unique_token();
    auto r = missive::send("submission://alice:Secret123@127.0.0.1:" + std::to_string(port) +
                               "?ca=" + setting("MISSIVE_TEST_CA_FILE") + "&helo=client.test",
                           {.from = "alice@example.org", .to = {"bob@example.com"}},
                           "Subject: " + token + "\r\n\r\nvia URL\r\n");
    EXPECT_TRUE(r.all_accepted());
    EXPECT_EQ(find_delivered(setting("MISSIVE_TEST_DIR") + "/sink", token, 1).size(), 1U);
}
