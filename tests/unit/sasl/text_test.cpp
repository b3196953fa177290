#include "sasl/text.hpp"

#include "support/throws.hpp"

#include <gtest/gtest.h>

using missive::errc;
using missive::sasl::detail::latin1_if_possible;
using missive::sasl::detail::printable;
using missive::sasl::detail::saslname;
using missive::sasl::detail::saslprep;
using missive::test::throws;

TEST(SaslText, SaslprepKeepsAsciiAndNfkcText) {
    EXPECT_EQ(saslprep("I X", "M", "it"), "I X");
    EXPECT_EQ(saslprep("user", "M", "it"), "user");
    EXPECT_EQ(saslprep("j\xC3\xBCrgen \xE2\x82\xAC", "M", "it"), "j\xC3\xBCrgen \xE2\x82\xAC");
    EXPECT_EQ(saslprep("\xF0\x9F\x93\xA7", "M", "it"), "\xF0\x9F\x93\xA7");  // U+1F4E7
    EXPECT_EQ(saslprep("", "M", "it"), "");
}

TEST(SaslText, SaslprepMappings) {
    // RFC 4013 3: "I<U+00AD>X" is "IX"; non-ASCII spaces become SPACE.
    EXPECT_EQ(saslprep("I\xC2\xAD"
                       "X",
                       "M", "it"),
              "IX");
    EXPECT_EQ(saslprep("a\xE2\x80\x8B"
                       "b\xEF\xBB\xBF"
                       "c",
                       "M", "it"),
              "abc");  // 200B, FEFF
    EXPECT_EQ(saslprep("a\xC2\xA0"
                       "b\xE3\x80\x80"
                       "c",
                       "M", "it"),
              "a b c");  // 00A0, 3000
}

TEST(SaslText, SaslprepProhibits) {
    const char* control = "M: it contains a control character (SASLprep, RFC 4013)";
    const char* prohibited = "M: it contains a prohibited character (SASLprep, RFC 4013)";
    const char* not_utf8 = "M: it is not UTF-8 (SASLprep, RFC 4013)";
    // RFC 4013 3: "<U+0007>" is an error
    EXPECT_TRUE(throws([] { (void)saslprep("\x07", "M", "it"); }, errc::invalid_input, control));
    EXPECT_TRUE(throws([] { (void)saslprep(std::string("a\0b", 3), "M", "it"); },
                       errc::invalid_input, control));
    EXPECT_TRUE(throws([] { (void)saslprep("\xC2\x85", "M", "it"); }, errc::invalid_input,
                       prohibited));  // U+0085, C.2.2
    EXPECT_TRUE(throws([] { (void)saslprep("\xEF\xBF\xBE", "M", "it"); }, errc::invalid_input,
                       prohibited));  // U+FFFE, C.4
    EXPECT_TRUE(throws([] { (void)saslprep("\xF3\xB0\x80\x80", "M", "it"); }, errc::invalid_input,
                       prohibited));  // U+F0000, C.3
    EXPECT_TRUE(throws([] { (void)saslprep("\xE2\x80\x8E", "M", "it"); }, errc::invalid_input,
                       prohibited));  // U+200E, C.8
    EXPECT_TRUE(throws([] { (void)saslprep("\xF3\xA0\x80\x81", "M", "it"); }, errc::invalid_input,
                       prohibited));  // U+E0001, C.9
    EXPECT_TRUE(throws([] { (void)saslprep("\xED\xA0\x80", "M", "it"); }, errc::invalid_input,
                       not_utf8));  // a surrogate
    EXPECT_TRUE(throws([] { (void)saslprep("\xF4\x90\x80\x80", "M", "it"); }, errc::invalid_input,
                       not_utf8));  // above U+10FFFF
    EXPECT_TRUE(throws([] { (void)saslprep("\xE0\x80\xAF", "M", "it"); }, errc::invalid_input,
                       not_utf8));  // overlong
    EXPECT_TRUE(throws([] { (void)saslprep("\xC3", "M", "it"); }, errc::invalid_input,
                       not_utf8));  // truncated
    EXPECT_TRUE(throws([] { (void)saslprep("\xC3(", "M", "it"); }, errc::invalid_input,
                       not_utf8));  // bad continuation
    EXPECT_TRUE(throws([] { (void)saslprep("\xFF", "M", "it"); }, errc::invalid_input, not_utf8));
}

TEST(SaslText, Saslname) {
    EXPECT_EQ(saslname("a=b,c"), "a=3Db=2Cc");
    EXPECT_EQ(saslname("plain@example.org"), "plain@example.org");
    EXPECT_EQ(saslname(""), "");
}

TEST(SaslText, Latin1IfPossible) {
    EXPECT_EQ(latin1_if_possible("ascii"), "ascii");
    EXPECT_EQ(latin1_if_possible("j\xC3\xBCrgen\xC3\xBF"), "j\xFCrgen\xFF");
    EXPECT_EQ(latin1_if_possible("\xE2\x82\xAC"), "\xE2\x82\xAC");  // U+20AC is not in 8859-1
    EXPECT_EQ(latin1_if_possible("\xFC"), "\xFC");                  // not UTF-8: unchanged
}

TEST(SaslText, Printable) {
    EXPECT_EQ(printable("ok: fine"), "ok: fine");
    EXPECT_EQ(printable("a\r\nb\x01\xC3\xA9"), "a??b???");
    EXPECT_EQ(printable(std::string(201, 'x')), std::string(200, 'x') + "...");
    EXPECT_EQ(printable(std::string(200, 'x')), std::string(200, 'x'));
}
