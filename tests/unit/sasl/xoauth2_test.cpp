#include <missive/sasl/xoauth2.hpp>

#include "support/throws.hpp"

#include <gtest/gtest.h>

#include <string>

using missive::errc;
using missive::sasl::Credentials;
using missive::sasl::make_xoauth2;
using missive::sasl::OAuth;
using missive::sasl::XOAuth2;
using missive::test::throws;

TEST(SaslXOAuth2, InitialResponse) {
    // Google's XOAUTH2 documentation, with its example user and token.
    XOAuth2 m(
        Credentials{"someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg", ""});
    EXPECT_EQ(m.name(), "XOAUTH2");
    EXPECT_EQ(m.start(),
              "user=someuser@example.com\x01"
              "auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01");
    EXPECT_TRUE(m.verified());
    EXPECT_EQ(m.error_json(), "");
}

TEST(SaslXOAuth2, ErrorChallengeIsAnsweredEmptyAndKept) {
    auto m = make_xoauth2(Credentials{"someuser@example.com", "expired", ""});
    (void)m->start();
    const std::string json =
        R"({"status":"401","schemes":"bearer","scope":"https://mail.google.com/"})";
    EXPECT_EQ(m->step(json), "");
    EXPECT_EQ(dynamic_cast<const OAuth&>(*m).error_json(), json);
    EXPECT_TRUE(throws([&] { (void)m->step("{}"); }, errc::auth_failed,
                       "XOAUTH2: the server sent a second challenge"));
    // A new exchange forgets the old error.
    (void)m->start();
    EXPECT_EQ(dynamic_cast<const OAuth&>(*m).error_json(), "");
}

TEST(SaslXOAuth2, RefusesSeparatorsInFields) {
    const char* message = "XOAUTH2: the user and the token must not contain ^A or NUL";
    EXPECT_TRUE(throws(
        [] {
            XOAuth2(
                Credentials{"a\x01"
                            "b",
                            "token", ""});
        },
        errc::invalid_input, message));
    EXPECT_TRUE(throws(
        [] {
            XOAuth2(Credentials{"ab",
                                "tok\x01"
                                "en",
                                ""});
        },
        errc::invalid_input, message));
    EXPECT_TRUE(throws(
        [] {
            XOAuth2(Credentials{"ab", std::string("tok\0en", 6), ""});
        },
        errc::invalid_input, message));
}
