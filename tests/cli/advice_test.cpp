// advice.cpp: what a person is told to do next.
#include "advice.hpp"

#include <missive/error.hpp>

#include <gtest/gtest.h>

using missive::errc;
using missive::Error;
using missive::cli::address_advice;
using missive::cli::advice_for;
using missive::cli::closest;

TEST(Advice, AddressWithoutAngleBrackets) {
    EXPECT_EQ(address_advice("Bob Smith bob@example.org"),
              "did you mean 'Bob Smith <bob@example.org>'?");
    EXPECT_EQ(address_advice("a@example.org; b@example.org"),
              "separate addresses with a comma, not ';'");
    EXPECT_EQ(address_advice("Bob <bob@example.org"), "");
    EXPECT_EQ(address_advice("bob"), "");
    EXPECT_EQ(address_advice("a@example.org b@example.org"), "");
}

TEST(Advice, Closest) {
    const std::vector<std::string> commands{"send", "sendmail", "capture", "dkim"};
    EXPECT_EQ(closest("sned", commands), "send");
    EXPECT_EQ(closest("captrue", commands), "capture");
    EXPECT_EQ(closest("--form", {"--from", "--to", "--format"}), "--from");
    EXPECT_EQ(closest("xyz", commands), std::nullopt);
    EXPECT_EQ(closest("ab", {"cd"}), std::nullopt);
}

TEST(Advice, TlsAgainstPlainTextAndPlainTextAgainstTls) {
    const missive::client::Options defaults;
    const Error plain(
        errc::tls, "TLS handshake with 127.0.0.1:25 failed: wrong version number (SSL routines)");
    EXPECT_EQ(advice_for(plain, "smtps://127.0.0.1:25", defaults),
              "the server answered in plain text: a STARTTLS port? use smtp:// or submission://");
    EXPECT_EQ(advice_for(plain, "smtp://127.0.0.1:25", defaults), "");
    const Error silent(errc::timeout,
                       "timed out after 5 s (command_timeout) talking to 127.0.0.1:465 waiting "
                       "for the server's greeting");
    EXPECT_EQ(advice_for(silent, "smtp://127.0.0.1:465", defaults),
              "no greeting: a port that expects TLS at once (as 465 does) stays silent until "
              "the handshake; if this is one, use smtps://127.0.0.1:465");
    EXPECT_EQ(advice_for(silent, "smtps://127.0.0.1:465", defaults), "");
}
