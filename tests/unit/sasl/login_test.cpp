#include <missive/sasl/login.hpp>

#include "support/throws.hpp"

#include <gtest/gtest.h>

using missive::errc;
using missive::sasl::Credentials;
using missive::sasl::Login;
using missive::sasl::make_login;
using missive::test::throws;

TEST(SaslLogin, AnswersUserThenPassword) {
    Login m(Credentials{"alice", "Secret123", ""});
    EXPECT_EQ(m.name(), "LOGIN");
    EXPECT_FALSE(m.verified());
    EXPECT_EQ(m.start(), std::nullopt);
    EXPECT_TRUE(m.verified());
    EXPECT_EQ(m.step("Username:"), "alice");
    EXPECT_EQ(m.step("Password:"), "Secret123");
}

TEST(SaslLogin, AnswersByOrderNotByText) {
    // Some servers word it differently, or ask in another language; the order is what counts.
    auto m = make_login(Credentials{"alice", "Secret123", ""});
    (void)m->start();
    EXPECT_EQ(m->step("Password:"), "alice");
    EXPECT_EQ(m->step(""), "Secret123");
}

TEST(SaslLogin, ThirdChallengeFails) {
    Login m(Credentials{"alice", "Secret123", ""});
    (void)m.start();
    (void)m.step("Username:");
    (void)m.step("Password:");
    EXPECT_TRUE(throws([&] { (void)m.step("Again:"); }, errc::auth_failed,
                       "LOGIN: the server asked for more than the user and the password"));
}

TEST(SaslLogin, StartBeginsAgain) {
    Login m(Credentials{"alice", "Secret123", ""});
    (void)m.start();
    EXPECT_EQ(m.step("Username:"), "alice");
    (void)m.start();
    EXPECT_EQ(m.step("Username:"), "alice");
    EXPECT_EQ(m.step("Password:"), "Secret123");
}
