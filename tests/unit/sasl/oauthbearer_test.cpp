#include <missive/sasl/oauthbearer.hpp>

#include "support/throws.hpp"

#include <gtest/gtest.h>

#include <string>

using missive::errc;
using missive::sasl::Credentials;
using missive::sasl::make_oauthbearer;
using missive::sasl::OAuth;
using missive::sasl::OAuthBearer;
using missive::test::throws;

TEST(SaslOAuthBearer, Rfc7628Example) {
    // RFC 7628 4.1, with the RFC's user, host, port and token.
    OAuthBearer m(Credentials{"user@example.com", "vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==", ""},
                  "server.example.com", 143);
    EXPECT_EQ(m.name(), "OAUTHBEARER");
    EXPECT_EQ(m.start(),
              "n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
              "auth=Bearer vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==\x01\x01");
    EXPECT_TRUE(m.verified());
}

TEST(SaslOAuthBearer, ErrorChallengeIsAnsweredWithCtrlAAndKept) {
    // RFC 7628 4.3: the server's error, answered with a single ^A (3.2.3).
    auto m =
        make_oauthbearer(Credentials{"user@example.com", "expired", ""}, "server.example.com", 587);
    (void)m->start();
    const std::string json =
        R"({"status":"invalid_token","scope":"example_scope","openid-configuration":)"
        R"("https://example.com/.well-known/openid-configuration"})";
    EXPECT_EQ(m->step(json), "\x01");
    EXPECT_EQ(dynamic_cast<const OAuth&>(*m).error_json(), json);
    EXPECT_TRUE(throws([&] { (void)m->step("{}"); }, errc::auth_failed,
                       "OAUTHBEARER: the server sent a second challenge"));
}

TEST(SaslOAuthBearer, AuthzidEscapedAndPreferred) {
    OAuthBearer user(Credentials{"a,b=c", "t", ""}, "h", 25);
    EXPECT_EQ(user.start(),
              "n,a=a=2Cb=3Dc,\x01host=h\x01port=25\x01"
              "auth=Bearer t\x01\x01");
    OAuthBearer authzid(Credentials{"user", "t", "shared@example.com"}, "h", 25);
    EXPECT_EQ(authzid.start(),
              "n,a=shared@example.com,\x01host=h\x01port=25\x01"
              "auth=Bearer t\x01\x01");
}

TEST(SaslOAuthBearer, UnknownHostAndPortAreLeftOut) {
    OAuthBearer m(Credentials{"user@example.com", "t", ""});
    EXPECT_EQ(m.start(),
              "n,a=user@example.com,\x01"
              "auth=Bearer t\x01\x01");
}

TEST(SaslOAuthBearer, RefusesSeparatorsInFields) {
    const char* message =
        "OAUTHBEARER: the user, the host and the token must not contain ^A or NUL";
    EXPECT_TRUE(throws(
        [] {
            OAuthBearer(Credentials{"u", "t", ""}, "h\x01", 25);
        },
        errc::invalid_input, message));
    EXPECT_TRUE(throws(
        [] {
            OAuthBearer(Credentials{"u", "t\x01", ""}, "h", 25);
        },
        errc::invalid_input, message));
    EXPECT_TRUE(throws(
        [] {
            OAuthBearer(Credentials{std::string("u\0", 2), "t", ""}, "h", 25);
        },
        errc::invalid_input, message));
}
