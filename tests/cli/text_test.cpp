#include "text.hpp"

#include <gtest/gtest.h>

#include <string>

using missive::cli::json_string;
using missive::cli::printable;

TEST(Printable, EscapesWhatATerminalWouldObey) {
    EXPECT_EQ(printable("250 ok \x1b]0;pwned\x07\x1b[2J"), "250 ok \\x1b]0;pwned\\x07\\x1b[2J");
    EXPECT_EQ(printable(std::string("a\0b\r\nc\td\x7f", 9)), "a\\x00b\\x0d\\x0ac\\x09d\\x7f");
    // C1 controls as UTF-8 (U+009B is CSI on some terminals), and as raw bytes (invalid UTF-8).
    EXPECT_EQ(printable("x\xc2\x9b"
                        "31mred"),
              "x\\u009b31mred");
    EXPECT_EQ(printable("x\x9b"
                        "31m"),
              "x\\x9b31m");
    // A backslash is escaped too, so that a server cannot fake an escape.
    EXPECT_EQ(printable("C:\\x1b"), "C:\\\\x1b");
}

// Bidirectional overrides and isolates would reorder the line on a terminal (Trojan Source);
// Arabic and Hebrew text itself is kept.
TEST(Printable, EscapesBidiFormattingCharacters) {
    EXPECT_EQ(printable("550 \u202egnirts\u202c ok"), "550 \\u202egnirts\\u202c ok");
    EXPECT_EQ(printable("\u2066x\u2069\u200f\u061c"), "\\u2066x\\u2069\\u200f\\u061c");
    EXPECT_EQ(printable("שלום مرحبا"), "שלום مرحبا");
}

TEST(Printable, KeepsTextInAnyLanguage) {
    EXPECT_EQ(printable("Grüße — 日本語 — 🎉 <ada@example.org>"),
              "Grüße — 日本語 — 🎉 <ada@example.org>");
}

TEST(Printable, InvalidUtf8ByteByByte) {
    EXPECT_EQ(printable("\xff\xfe"), "\\xff\\xfe");
    EXPECT_EQ(printable("\xc0\xaf"), "\\xc0\\xaf");                    // overlong '/'
    EXPECT_EQ(printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // a surrogate
    EXPECT_EQ(printable("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
    EXPECT_EQ(printable("\xe6\x97"), "\\xe6\\x97");                    // cut short
    EXPECT_EQ(printable("ok\xe6\x97\xa5"), "ok日");
}

TEST(JsonString, AlwaysValidJson) {
    EXPECT_EQ(json_string("a\"b\\c"), R"("a\"b\\c")");
    EXPECT_EQ(json_string("\x1b]0;x\x07\r\n\t"), R"("\u001b]0;x\u0007\r\n\t")");
    EXPECT_EQ(json_string(std::string("\0\x7f", 2)), R"("\u0000\u007f")");
    EXPECT_EQ(json_string("\xc2\x85"), R"("\u0085")");
    EXPECT_EQ(json_string("bad \xff\xc3 end"), R"("bad \ufffd\ufffd end")");
    EXPECT_EQ(json_string("日本"), "\"日本\"");
}
