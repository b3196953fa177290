#include <missive/sasl/plain.hpp>

#include "support/throws.hpp"

#include <gtest/gtest.h>

#include <string>

using missive::errc;
using missive::sasl::Credentials;
using missive::sasl::make_plain;
using missive::sasl::Plain;
using missive::test::throws;

TEST(SaslPlain, InitialResponseWithoutAuthzid) {
    Plain m(Credentials{"tim", "tanstaaftanstaaf", ""});
    EXPECT_EQ(m.name(), "PLAIN");
    EXPECT_FALSE(m.verified());
    EXPECT_EQ(m.start(), std::string("\0tim\0tanstaaftanstaaf", 21));
    EXPECT_TRUE(m.verified());  // verifies nothing: true once started
}

TEST(SaslPlain, InitialResponseWithAuthzid) {
    // RFC 4616 4, second example: authzid "Ursel", authcid "Kurt", password "xipj3plmq"
    auto m = make_plain(Credentials{"Kurt", "xipj3plmq", "Ursel"});
    EXPECT_EQ(m->start(), std::string("Ursel\0Kurt\0xipj3plmq", 20));
}

TEST(SaslPlain, Utf8PassesUnchanged) {
    Plain m(Credentials{"j\xC3\xBCrgen", "p\xC3\xA4ss", ""});
    EXPECT_EQ(m.start(), std::string("\0j\xC3\xBCrgen\0p\xC3\xA4ss", 14));
}

TEST(SaslPlain, ChallengeAfterCredentialsFails) {
    Plain m(Credentials{"tim", "pw", ""});
    (void)m.start();
    EXPECT_TRUE(throws([&] { (void)m.step(""); }, errc::auth_failed,
                       "PLAIN: the server sent a challenge after the credentials"));
}

TEST(SaslPlain, RefusesNulInAField) {
    const char* message = "PLAIN: user, password and authzid must not contain NUL";
    EXPECT_TRUE(throws(
        [] {
            Plain(Credentials{std::string("a\0b", 3), "pw", ""});
        },
        errc::invalid_input, message));
    EXPECT_TRUE(throws(
        [] {
            Plain(Credentials{"a", std::string("p\0w", 3), ""});
        },
        errc::invalid_input, message));
    EXPECT_TRUE(throws(
        [] {
            Plain(Credentials{"a", "pw", std::string("\0", 1)});
        },
        errc::invalid_input, message));
}
