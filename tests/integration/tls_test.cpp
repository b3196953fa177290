// TLS against real Postfix: STARTTLS and implicit TLS with a CA made at test time, and every
// certificate failure (unknown CA, wrong name, expired, self-signed) as a clear, typed error.
#include <missive/missive.hpp>

#include "support.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace missive::integration;
using missive::errc;
using missive::Error;
using missive::client::Client;
using missive::client::Options;
using missive::client::TlsMode;

namespace {

Options tls_options(TlsMode mode, bool with_ca = true) {
    Options o;
    o.local_name = "client.missive.test";
    o.command_timeout = 10s;
    o.tls = mode;
    if (with_ca) {
        o.tls_options.ca_file = setting("MISSIVE_TEST_CA_FILE");
    }
    return o;
}

// Connects with `o` and returns the error's kind and text, or errc{} on success.
std::pair<errc, std::string> try_connect(const Options& o, std::uint16_t port) {
    Client c(o);
    try {
        c.connect("127.0.0.1", port);
    } catch (const Error& e) {
        EXPECT_FALSE(c.is_open());
        return {e.kind(), e.what()};
    }
    return {errc{}, ""};
}

}  // namespace

TEST(Tls, StarttlsRequiredSendsOverTls) {
    const std::uint16_t port = port_of("MISSIVE_TEST_POSTFIX_PORT");
    REQUIRE_SERVER(port);
    std::vector<std::string> trace;
    Options o = tls_options(TlsMode::starttls_required);
    o.trace = [&](missive::smtp::Direction, std::string_view line) { trace.emplace_back(line); };
    // A client certificate, which Postfix asks for and names in its Received header.
    o.tls_options.client_certificate = setting("MISSIVE_TEST_DIR") + "/server.crt";
    o.tls_options.client_key = setting("MISSIVE_TEST_DIR") + "/server.key";
    Client c(o);
    c.connect("127.0.0.1", port);
    ASSERT_NE(c.tls(), nullptr);
    EXPECT_EQ(c.tls()->version.rfind("TLSv1.", 0), 0U) << c.tls()->version;
    EXPECT_EQ(c.tls()->peer_subject, "CN=localhost");
    EXPECT_EQ(c.tls()->peer_issuer, "CN=missive test CA");
    EXPECT_FALSE(c.tls()->cipher.empty());
    // After TLS the capabilities come from the second EHLO, which no longer offers STARTTLS.
    EXPECT_FALSE(c.capabilities().starttls());
    const std::string token = unique_token();
    auto r = c.send({.from = "alice@example.org", .to = {"bob@example.com"}},
                    "Subject: " + token + "\r\n\r\nover TLS\r\n");
    c.quit();
    EXPECT_TRUE(r.all_accepted());
    EXPECT_EQ(std::count(trace.begin(), trace.end(), "EHLO client.missive.test"), 2);
    const auto files = find_delivered(setting("MISSIVE_TEST_DIR") + "/mail", token, 1);
    ASSERT_EQ(files.size(), 1U);
    const std::string delivered = read_file(files[0]);
    EXPECT_NE(delivered.find("with ESMTPS"), std::string::npos);
    EXPECT_NE(delivered.find("(Client CN \"localhost\", Issuer \"missive test CA\""),
              std::string::npos)
        << delivered;
}

TEST(Tls, OpportunisticUsesStarttlsWhenOffered) {
    const std::uint16_t port = port_of("MISSIVE_TEST_POSTFIX_PORT");
    REQUIRE_SERVER(port);
    Client c(tls_options(TlsMode::opportunistic));
    c.connect("127.0.0.1", port);
    EXPECT_NE(c.tls(), nullptr);
    c.quit();
}

TEST(Tls, ImplicitTls) {
    const std::uint16_t port = port_of("MISSIVE_TEST_POSTFIX_IMPLICIT_PORT");
    REQUIRE_SERVER(port);
    Options o = tls_options(TlsMode::implicit);
    o.tls_options.min_version = missive::net::TlsVersion::tls1_3;
    o.tls_options.peer_name = "localhost";  // connect by IP, check the name
    Client c(o);
    c.connect("127.0.0.1", port);
    ASSERT_NE(c.tls(), nullptr);
    EXPECT_EQ(c.tls()->version, "TLSv1.3");
    auto r = c.send({.from = "alice@example.org", .to = {"bob@example.com"}},
                    "Subject: implicit\r\n\r\nimplicit TLS\r\n");
    c.quit();
    EXPECT_TRUE(r.all_accepted());
}

TEST(Tls, UnknownCaFails) {
    const std::uint16_t port = port_of("MISSIVE_TEST_POSTFIX_PORT");
    REQUIRE_SERVER(port);
    // The system store does not know the test CA (Postfix sends it along in its chain, hence
    // OpenSSL's wording).
    const auto [kind, what] = try_connect(tls_options(TlsMode::starttls_required, false), port);
    EXPECT_EQ(kind, errc::certificate);
    EXPECT_EQ(what,
              "certificate of 127.0.0.1:" + std::to_string(port) +
                  " not accepted for \"127.0.0.1\": self-signed certificate in certificate chain"
                  " (it names localhost, 127.0.0.1)");
}

TEST(Tls, WrongNameFails) {
    const std::uint16_t port = port_of("MISSIVE_TEST_POSTFIX_WRONGNAME_PORT");
    REQUIRE_SERVER(port);
    Options o = tls_options(TlsMode::starttls_required);
    o.tls_options.peer_name = "localhost";
    const auto [kind, what] = try_connect(o, port);
    EXPECT_EQ(kind, errc::certificate);
    EXPECT_NE(what.find("not accepted for \"localhost\": hostname mismatch"), std::string::npos)
        << what;
    // The names the certificate does carry, so that the user can see what to ask for.
    EXPECT_NE(what.find("(it names wrong.example)"), std::string::npos) << what;
}

TEST(Tls, PeerNameIsChecked) {
    // The right certificate, but the caller expects another name (tls_peer).
    const std::uint16_t port = port_of("MISSIVE_TEST_POSTFIX_PORT");
    REQUIRE_SERVER(port);
    Options o = tls_options(TlsMode::starttls_required);
    o.tls_options.peer_name = "mail.example.org";
    const auto [kind, what] = try_connect(o, port);
    EXPECT_EQ(kind, errc::certificate);
    EXPECT_NE(what.find("hostname mismatch"), std::string::npos) << what;
    EXPECT_NE(what.find("(it names localhost, 127.0.0.1)"), std::string::npos) << what;
}

TEST(Tls, ExpiredFails) {
    const std::uint16_t port = port_of("MISSIVE_TEST_POSTFIX_EXPIRED_PORT");
    REQUIRE_SERVER(port);
    const auto [kind, what] = try_connect(tls_options(TlsMode::starttls_required), port);
    EXPECT_EQ(kind, errc::certificate);
    EXPECT_NE(what.find("certificate has expired"), std::string::npos) << what;
}

TEST(Tls, SelfSignedFailsUnlessVerificationIsOff) {
    const std::uint16_t port = port_of("MISSIVE_TEST_POSTFIX_SELFSIGNED_PORT");
    REQUIRE_SERVER(port);
    const auto [kind, what] = try_connect(tls_options(TlsMode::starttls_required), port);
    EXPECT_EQ(kind, errc::certificate);
    EXPECT_NE(what.find("self-signed certificate"), std::string::npos) << what;
    Options insecure = tls_options(TlsMode::starttls_required, false);
    insecure.tls_options.insecure_skip_verify = true;
    EXPECT_EQ(try_connect(insecure, port).first, errc{});
}

TEST(Tls, RequiredAgainstServerWithoutStarttls) {
    const std::uint16_t port = port_of("MISSIVE_TEST_SINK_PORT");
    REQUIRE_SERVER(port);
    const auto [kind, what] = try_connect(tls_options(TlsMode::starttls_required), port);
    EXPECT_EQ(kind, errc::starttls_unavailable);
}

TEST(Tls, SessionResumedOnReconnect) {
    for (const char* key : {"MISSIVE_TEST_POSTFIX_PORT", "MISSIVE_TEST_POSTFIX_IMPLICIT_PORT"}) {
        const std::uint16_t port = port_of(key);
        REQUIRE_SERVER(port);
        const TlsMode mode = std::string(key).find("IMPLICIT") != std::string::npos
                                 ? TlsMode::implicit
                                 : TlsMode::starttls_required;
        Client c(tls_options(mode));
        c.connect("127.0.0.1", port);
        ASSERT_NE(c.tls(), nullptr);
        EXPECT_FALSE(c.tls()->session_resumed) << key;
        (void)c.noop();  // lets a TLS 1.3 ticket arrive
        c.quit();
        c.connect("127.0.0.1", port);
        ASSERT_NE(c.tls(), nullptr);
        EXPECT_TRUE(c.tls()->session_resumed) << key;
        c.quit();
    }
}

// A session made without verification is never resumed by a client that verifies: resumption
// skips the certificate, so it would carry the weaker configuration's trust. The same settings
// do resume, so the cache is in use.
TEST(Tls, UnverifiedSessionIsNotResumedByAVerifyingClient) {
    const std::uint16_t port = port_of("MISSIVE_TEST_POSTFIX_SELFSIGNED_PORT");
    REQUIRE_SERVER(port);
    Options insecure = tls_options(TlsMode::starttls_required, false);
    insecure.tls_options.insecure_skip_verify = true;
    const auto context = missive::net::TlsContext::shared(insecure.tls_options);
    {
        Client c(insecure);
        c.connect("127.0.0.1", port);
        (void)c.noop();  // lets a TLS 1.3 ticket arrive
        c.quit();
    }
    ASSERT_EQ(context->kept_sessions(), 1U);
    Options verifying = tls_options(TlsMode::starttls_required, false);  // the system's CAs
    const auto [kind, what] = try_connect(verifying, port);
    EXPECT_EQ(kind, errc::certificate) << what;
    Client again(insecure);
    again.connect("127.0.0.1", port);
    ASSERT_NE(again.tls(), nullptr);
    EXPECT_TRUE(again.tls()->session_resumed);  // a new Client, the shared context's session
    again.quit();
}

// Each connect(url) starts from the client's own options: verify=no of one URL does not carry
// over to the next connection of the same client.
TEST(Tls, VerifyNoOfOneUrlDoesNotCarryOver) {
    const std::uint16_t port = port_of("MISSIVE_TEST_POSTFIX_SELFSIGNED_PORT");
    REQUIRE_SERVER(port);
    Client c(tls_options(TlsMode::starttls_required));
    const std::string base = "smtp://127.0.0.1:" + std::to_string(port);
    c.connect(missive::net::Url::parse(base + "?verify=no"));
    ASSERT_NE(c.tls(), nullptr);
    (void)c.noop();
    c.quit();
    try {
        c.connect(missive::net::Url::parse(base));
        ADD_FAILURE() << "the second connection trusted a self-signed certificate";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::certificate) << e.what();
    }
}
