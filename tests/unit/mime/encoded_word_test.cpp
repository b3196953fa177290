#include <missive/mime/encoded_word.hpp>

#include "support/throws.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <string_view>
#include <vector>

using missive::errc;
using missive::mime::decode_header_text;
using missive::mime::encode_header_text;
using missive::mime::format_phrase;
using missive::mime::WordContext;
using missive::test::throws;

namespace {

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> words;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || s[i] == ' ') {
            words.push_back(s.substr(start, i - start));
            start = i + 1;
        }
    }
    return words;
}

bool is_encoded_word(const std::string& w) {
    return w.starts_with("=?UTF-8?") && w.ends_with("?=");
}

// Every encoded word of `encoded` is at most 75 characters and decodes on its own to valid
// UTF-8, so no word ends inside a character.
::testing::AssertionResult words_are_whole(const std::string& encoded) {
    for (const std::string& w : split(encoded)) {
        if (!is_encoded_word(w)) {
            continue;
        }
        if (w.size() > 75) {
            return ::testing::AssertionFailure() << w.size() << " characters: " << w;
        }
        if (decode_header_text(w).find("\xEF\xBF\xBD") != std::string::npos) {
            return ::testing::AssertionFailure() << "splits a character: " << w;
        }
    }
    return ::testing::AssertionSuccess();
}

std::size_t count_encoded_words(const std::string& encoded) {
    std::size_t n = 0;
    for (const std::string& w : split(encoded)) {
        n += is_encoded_word(w) ? 1U : 0U;
    }
    return n;
}

const std::vector<std::string> samples = {
    "",
    "Hello world",
    "日本語",
    "日本語のテキスト、とても長い件名です。これは折り返しのテストのために十分な長さが必要です。"
    "もう少し続けましょう。",
    "مرحبا بالعالم، هذا نص عربي طويل لاختبار الترميز",
    "😀😃😄😁😆😅😂🤣🥲☺️😊"
    "😇🙂🙃😉😌😍🥰😘😗😙😚"
    "😋😛😝😜🤪🤨🧐🤓😎🥸🤩🥳",
    "👩‍👩‍👧‍👦 family 🇯🇵🇫🇷 flags 👍🏽 skin",
    "e\xCC\x81\xCC\x82\xCC\x83 combining a\xCC\x8A",
    "Grüße aus München, schöne  Grüße   und mehr",
    "mixed ASCII and 日本 words  with  several   spaces",
    " leading and trailing 日本 ",
    "日本  中国",
    std::string(300, 'a'),
    std::string(77, 'b') + " " + std::string(78, 'c') + " é",
    "=?UTF-8?Q?not_encoded?=",
    "looks =?ISO-8859-1?Q?a?= like =? and ?= here",
    "quotes \"a\" and \\ backslash, (parens) and commas, ;:<>@",
    "under_score = equals ? question",
    "tab\there and \x01 control",
    "Öffentlichkeitsarbeit",
    std::string(40, 'x') + "é" + std::string(40, 'y'),
};

}  // namespace

TEST(EncodedWordEncode, AsciiStaysAsItIs) {
    EXPECT_EQ(encode_header_text("Hello world"), "Hello world");
    EXPECT_EQ(encode_header_text("a  b (c) \"d\""), "a  b (c) \"d\"");
    EXPECT_EQ(encode_header_text(""), "");
    EXPECT_EQ(encode_header_text(std::string(77, 'a')), std::string(77, 'a'));
}

TEST(EncodedWordEncode, JapanesePicksB) {
    EXPECT_EQ(encode_header_text("日本語"), "=?UTF-8?B?5pel5pys6Kqe?=");
}

TEST(EncodedWordEncode, MostlyAsciiWordPicksQ) {
    EXPECT_EQ(encode_header_text("Öffentlichkeitsarbeit"),
              "=?UTF-8?Q?=C3=96ffentlichkeitsarbeit?=");
}

TEST(EncodedWordEncode, AdjacentNonAsciiWordsShareOneRunWithTheirSpace) {
    EXPECT_EQ(encode_header_text("日本 語"), "=?UTF-8?B?5pel5pysIOiqng==?=");
    // Repeated spaces between two encoded words go inside the encoded text too.
    EXPECT_EQ(decode_header_text(encode_header_text("日本  中国")), "日本  中国");
    EXPECT_EQ(count_encoded_words(encode_header_text("日本  中国")), 1U);
}

TEST(EncodedWordEncode, AsciiWordsBetweenStayPlain) {
    EXPECT_EQ(encode_header_text("日本 and  中国"),
              "=?UTF-8?B?5pel5pys?= and  =?UTF-8?B?5Lit5Zu9?=");
}

TEST(EncodedWordEncode, LongJapaneseSplitsIntoWordsOfAtMost75) {
    std::string text;
    for (int i = 0; i < 40; ++i) {
        text += "日本語";
    }
    const std::string encoded = encode_header_text(text);
    EXPECT_GT(count_encoded_words(encoded), 5U);
    EXPECT_TRUE(words_are_whole(encoded));
    EXPECT_EQ(decode_header_text(encoded), text);
    // 45 bytes (15 characters) fill the 60 characters of B text.
    EXPECT_EQ(split(encoded)[0].size(), 72U);
}

TEST(EncodedWordEncode, ArabicRoundTrips) {
    const std::string text = "مرحبا بالعالم";
    EXPECT_EQ(encode_header_text(text), "=?UTF-8?B?2YXYsdit2KjYpyDYqNin2YTYudin2YTZhQ==?=");
    EXPECT_EQ(decode_header_text(encode_header_text(text)), text);
}

TEST(EncodedWordEncode, EmojiAreNeverSplit) {
    EXPECT_EQ(encode_header_text("😀"), "=?UTF-8?B?8J+YgA==?=");
    std::string text;
    for (int i = 0; i < 50; ++i) {
        text += "😀";
    }
    const std::string encoded = encode_header_text(text);
    EXPECT_TRUE(words_are_whole(encoded));
    EXPECT_EQ(decode_header_text(encoded), text);
}

TEST(EncodedWordEncode, CombiningSequencesStayTogether) {
    // "e" with three combining accents, 7 bytes, repeated: no word may start with a mark.
    std::string text;
    for (int i = 0; i < 30; ++i) {
        text += "e\xCC\x81\xCC\x82\xCC\x83";
    }
    const std::string encoded = encode_header_text(text);
    EXPECT_TRUE(words_are_whole(encoded));
    for (const std::string& w : split(encoded)) {
        EXPECT_EQ(decode_header_text(w).front(), 'e') << w;
    }
    EXPECT_EQ(decode_header_text(encoded), text);
}

TEST(EncodedWordEncode, ZwjSequencesAndFlagsStayTogether) {
    const std::string family = "👩‍👩‍👧‍👦";  // 25 bytes
    const std::string flag = "🇯🇵";                           // 8 bytes
    std::string text;
    for (int i = 0; i < 6; ++i) {
        text += family + flag;
    }
    const std::string encoded = encode_header_text(text);
    for (const std::string& w : split(encoded)) {
        const std::string d = decode_header_text(w);
        EXPECT_TRUE(d.starts_with(family) || d.starts_with(flag)) << w;
    }
    EXPECT_EQ(decode_header_text(encoded), text);
}

TEST(EncodedWordEncode, OverlongClusterSplitsBetweenCodePoints) {
    std::string text = "a";
    for (int i = 0; i < 40; ++i) {
        text += "\xCC\x81";  // 81 bytes in one cluster
    }
    const std::string encoded = encode_header_text(text);
    EXPECT_EQ(count_encoded_words(encoded), 2U);
    EXPECT_TRUE(words_are_whole(encoded));
    EXPECT_EQ(decode_header_text(encoded), text);
}

TEST(EncodedWordEncode, LongAsciiWordIsEncodedSoItCanBeFolded) {
    const std::string word(78, 'a');
    const std::string encoded = encode_header_text("x " + word + " y");
    EXPECT_TRUE(encoded.starts_with("x =?UTF-8?Q?aaaa"));
    EXPECT_TRUE(encoded.ends_with("?= y"));
    EXPECT_EQ(count_encoded_words(encoded), 2U);
    EXPECT_TRUE(words_are_whole(encoded));
    EXPECT_EQ(decode_header_text(encoded), "x " + word + " y");
    const std::string long_word(300, 'z');
    EXPECT_EQ(count_encoded_words(encode_header_text(long_word)), 5U);  // 63 per word
    EXPECT_EQ(decode_header_text(encode_header_text(long_word)), long_word);
}

TEST(EncodedWordEncode, WordsThatLookEncodedAreEncoded) {
    EXPECT_EQ(encode_header_text("=?UTF-8?Q?x?="), "=?UTF-8?B?PT9VVEYtOD9RP3g/PQ==?=");
    EXPECT_EQ(decode_header_text(encode_header_text("=?UTF-8?Q?x?=")), "=?UTF-8?Q?x?=");
    EXPECT_EQ(encode_header_text("a=?b"), "=?UTF-8?Q?a=3D=3Fb?=");
    EXPECT_EQ(encode_header_text("a= ?b"), "a= ?b");  // no "=?" in any word
}

TEST(EncodedWordEncode, ControlCharactersAreEncoded) {
    EXPECT_EQ(encode_header_text("a\tb"), "=?UTF-8?B?YQli?=");
    EXPECT_EQ(decode_header_text(encode_header_text("a\x7F")), "a\x7F");
}

TEST(EncodedWordEncode, PhraseUsesOnlyTheCharactersOfRfc2047Section5Rule3) {
    const std::string encoded =
        encode_header_text("Jörg's #1 (\"best\") x_y=z?", WordContext::phrase);
    EXPECT_EQ(count_encoded_words(encoded), 2U);  // "#1" and "x_y=z?" are atoms
    for (const std::string& w : split(encoded)) {
        if (!is_encoded_word(w)) {
            continue;
        }
        const std::string text = w.substr(10, w.size() - 12);
        for (char c : text) {
            EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) ||
                        std::string_view("!*+-/=_").find(c) != std::string_view::npos)
                << c << " in " << w;
        }
    }
    EXPECT_EQ(decode_header_text(encoded), "Jörg's #1 (\"best\") x_y=z?");
}

TEST(EncodedWordEncode, PhraseKeepsAtomsPlain) {
    EXPECT_EQ(encode_header_text("Jörg Smith", WordContext::phrase), "=?UTF-8?B?SsO2cmc=?= Smith");
    EXPECT_EQ(encode_header_text("Smith, Jörg", WordContext::phrase),
              "=?UTF-8?B?U21pdGgsIErDtnJn?=");
}

TEST(EncodedWordEncode, PhraseWithIrregularSpacesIsEncodedWhole) {
    const std::string encoded = encode_header_text("Jörg  Smith", WordContext::phrase);
    EXPECT_EQ(encoded, "=?UTF-8?Q?J=C3=B6rg__Smith?=");
    EXPECT_EQ(encode_header_text("a  b", WordContext::phrase), "=?UTF-8?Q?a__b?=");
    EXPECT_EQ(encode_header_text(" a", WordContext::phrase), "=?UTF-8?Q?_a?=");
    EXPECT_EQ(encode_header_text("", WordContext::phrase), "");
}

TEST(EncodedWordEncode, CommentEncodesParenthesesAndBackslash) {
    EXPECT_EQ(encode_header_text("a (b) c\\d", WordContext::comment), "a =?UTF-8?B?KGIpIGNcZA==?=");
    EXPECT_EQ(encode_header_text("a (b) c", WordContext::comment), "a =?UTF-8?B?KGIp?= c");
    EXPECT_EQ(encode_header_text("a (b) c\\d"), "a (b) c\\d");
    EXPECT_EQ(decode_header_text(encode_header_text("x (é) y", WordContext::comment)), "x (é) y");
}

TEST(EncodedWordEncode, RefusesInvalidInput) {
    EXPECT_TRUE(throws([] { (void)encode_header_text("ab\xC3"); }, errc::invalid_input,
                       "header text \"ab\xEF\xBF\xBD\": is not valid UTF-8 at offset 2"));
    EXPECT_TRUE(throws([] { (void)encode_header_text("\xED\xA0\x80"); }, errc::invalid_input,
                       "header text \"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\": "
                       "is not valid UTF-8 at offset 0"));
    EXPECT_TRUE(throws([] { (void)encode_header_text("\xC0\x80"); }, errc::invalid_input,
                       "header text \"\xEF\xBF\xBD\xEF\xBF\xBD\": "
                       "is not valid UTF-8 at offset 0"));
    EXPECT_TRUE(throws([] { (void)encode_header_text("a\r\nBcc: x"); }, errc::invalid_input,
                       "header text \"a\\r\\nBcc: x\": contains a line break at offset 1"));
    EXPECT_TRUE(throws([] { (void)encode_header_text("a\nb"); }, errc::invalid_input,
                       "header text \"a\\nb\": contains a line break at offset 1"));
    EXPECT_TRUE(throws([] { (void)encode_header_text(std::string("a\0b", 3)); },
                       errc::invalid_input,
                       "header text \"a\\x00b\": contains a NUL byte at offset 1"));
}

TEST(EncodedWordEncode, RoundTripsEverySampleInEveryContext) {
    for (const auto context : {WordContext::text, WordContext::phrase, WordContext::comment}) {
        for (const std::string& s : samples) {
            const std::string encoded = encode_header_text(s, context);
            EXPECT_EQ(decode_header_text(encoded), s) << encoded;
            EXPECT_TRUE(words_are_whole(encoded)) << s;
            for (char c : encoded) {
                ASSERT_TRUE(c >= ' ' && c < 0x7F) << encoded;
            }
            for (const std::string& w : split(encoded)) {
                EXPECT_LE(w.size(), 77U) << w;
            }
        }
    }
}

TEST(EncodedWordPhrase, AtomsStayAtoms) {
    EXPECT_EQ(format_phrase("John Smith"), "John Smith");
    EXPECT_EQ(format_phrase("Who?"), "Who?");
    EXPECT_EQ(format_phrase(""), "");
}

TEST(EncodedWordPhrase, AsciiWithSpecialsIsQuoted) {
    EXPECT_EQ(format_phrase("Joe Q. Public"), "\"Joe Q. Public\"");
    EXPECT_EQ(format_phrase("Giant; \"Big\" Box"), "\"Giant; \\\"Big\\\" Box\"");
    EXPECT_EQ(format_phrase("back\\slash"), "\"back\\\\slash\"");
    EXPECT_EQ(format_phrase("Doe, John (Jr.)"), "\"Doe, John (Jr.)\"");
    EXPECT_EQ(format_phrase("two  spaces"), "\"two  spaces\"");
    EXPECT_EQ(format_phrase(" lead"), "\" lead\"");
}

TEST(EncodedWordPhrase, NonAsciiIsEncoded) {
    EXPECT_EQ(format_phrase("Jörg Smith"), "=?UTF-8?B?SsO2cmc=?= Smith");
    EXPECT_EQ(format_phrase("日本語"), "=?UTF-8?B?5pel5pys6Kqe?=");
}

TEST(EncodedWordPhrase, RawUtf8WhenAllowed) {
    EXPECT_EQ(format_phrase("Jörg Smith", true), "Jörg Smith");
    EXPECT_EQ(format_phrase("Smith, Jörg", true), "\"Smith, Jörg\"");
    EXPECT_EQ(format_phrase("日本語", true), "日本語");
}

TEST(EncodedWordPhrase, EncodesWhatAQuotedStringCannotCarry) {
    EXPECT_EQ(format_phrase("=?UTF-8?Q?x?= y"), "=?UTF-8?B?PT9VVEYtOD9RP3g/PQ==?= y");
    EXPECT_EQ(format_phrase("a\tb"), "=?UTF-8?B?YQli?=");
    const std::string long_name(76, 'n');  // quoted it would be 78 characters in one word
    EXPECT_TRUE(format_phrase(long_name + ",").starts_with("=?UTF-8?Q?nnn"));
    EXPECT_EQ(format_phrase(std::string(77, 'n')), std::string(77, 'n'));
}

TEST(EncodedWordPhrase, RefusesInvalidInput) {
    EXPECT_TRUE(throws([] { (void)format_phrase("Eve\r\nBcc: x"); }, errc::invalid_input,
                       "display name \"Eve\\r\\nBcc: x\": contains a line break at offset 3"));
    EXPECT_TRUE(throws([] { (void)format_phrase("\xFF"); }, errc::invalid_input,
                       "display name \"\xEF\xBF\xBD\": is not valid UTF-8 at offset 0"));
}

// RFC 2047 8, the examples with their displayed forms.
TEST(EncodedWordDecode, Rfc2047Section8) {
    EXPECT_EQ(decode_header_text("=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>"),
              "Keith Moore <moore@cs.utk.edu>");
    EXPECT_EQ(decode_header_text("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>"),
              "Keld Jørn Simonsen <keld@dkuug.dk>");
    EXPECT_EQ(decode_header_text("=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>"),
              "André Pirard <PIRARD@vm1.ulg.ac.be>");
    EXPECT_EQ(decode_header_text("=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\r\n"
                                 "    =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?="),
              "If you can read this you understand the example.");
    EXPECT_EQ(decode_header_text("Nathaniel Borenstein <nsb@thumper.bellcore.com>\r\n"
                                 "    (=?iso-8859-8?b?7eXs+SDv4SDp7Oj08A==?=)"),
              "Nathaniel Borenstein <nsb@thumper.bellcore.com>    ("
              "\xD7\x9D\xD7\x95\xD7\x9C\xD7\xA9 \xD7\x9F\xD7\x91 "
              "\xD7\x99\xD7\x9C\xD7\x98\xD7\xA4\xD7\xA0)");
    EXPECT_EQ(decode_header_text("(=?ISO-8859-1?Q?a?=)"), "(a)");
    EXPECT_EQ(decode_header_text("(=?ISO-8859-1?Q?a?= b)"), "(a b)");
    EXPECT_EQ(decode_header_text("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)"), "(ab)");
    EXPECT_EQ(decode_header_text("(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)"), "(ab)");
    EXPECT_EQ(decode_header_text("(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)"), "(ab)");
    EXPECT_EQ(decode_header_text("(=?ISO-8859-1?Q?a_b?=)"), "(a b)");
    EXPECT_EQ(decode_header_text("(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)"), "(a b)");
}

TEST(EncodedWordDecode, Charsets) {
    EXPECT_EQ(decode_header_text("=?iso-8859-1?q?caf=E9?="), "café");
    EXPECT_EQ(decode_header_text("=?windows-1252?Q?=80_=96_=93x=94?="), "€ – “x”");
    EXPECT_EQ(decode_header_text("=?Shift_JIS?B?k/qWe4zq?="), "日本語");
    EXPECT_EQ(decode_header_text("=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?="), "日本語");
    EXPECT_EQ(decode_header_text("=?utf-8?b?5pel5pys6Kqe?="), "日本語");
    EXPECT_EQ(decode_header_text("=?UTF-8*en?Q?Hello?="), "Hello");  // RFC 2231 5
    EXPECT_EQ(decode_header_text("=?us-ascii?Q?a=E9?="), "a\xEF\xBF\xBD");
}

TEST(EncodedWordDecode, JoinsACharacterSplitAcrossWords) {
    // "日" is E6 97 A5: its bytes in two words, as some encoders cut them.
    EXPECT_EQ(decode_header_text("=?UTF-8?Q?=E6=97?= =?UTF-8?Q?=A5?="), "日");
    EXPECT_EQ(decode_header_text("=?UTF-8?B?5pc=?= =?utf-8?B?pQ==?="), "日");
    EXPECT_EQ(decode_header_text("=?Shift_JIS?Q?=93?= =?Shift_JIS?Q?=FA?="), "日");
    // Not joined across a different charset: each half is invalid alone.
    EXPECT_EQ(decode_header_text("=?UTF-8?Q?=E6=97?= =?ISO-8859-1?Q?=E9?="),
              "\xEF\xBF\xBD\xEF\xBF\xBD"
              "é");
}

TEST(EncodedWordDecode, WhiteSpaceNextToTextIsKept) {
    EXPECT_EQ(decode_header_text("a =?UTF-8?Q?b?= c"), "a b c");
    EXPECT_EQ(decode_header_text("=?UTF-8?Q?b?=\t c"), "b\t c");
    EXPECT_EQ(decode_header_text("x=?UTF-8?Q?b?=y"), "xby");  // lenient: inside a word
}

TEST(EncodedWordDecode, MalformedWordsStayLiteral) {
    for (const char* s :
         {"=?UTF-8?X?abc?=", "=?UTF-8?Q?=ZZ?=", "=?UTF-8?Q?=4?=", "=?no-such-charset?Q?a?=",
          "=?UTF-8?B?a?=", "=?UTF-8?B?a!b=?=", "=??Q?a?=", "=?UTF-8?Q?a b?=", "=?UTF-8?Q?abc",
          "=?UTF-8?Q", "=?", "=?UTF 8?Q?a?=", "=?UTF-8?QQ?a?="}) {
        EXPECT_EQ(decode_header_text(s), s);
    }
    EXPECT_EQ(decode_header_text("=?UTF-8?Q?a?= =?bad"), "a =?bad");
}

TEST(EncodedWordDecode, LenientBase64AndInvalidBytes) {
    EXPECT_EQ(decode_header_text("=?UTF-8?B?SsO2cmc?="), "Jörg");      // padding missing
    EXPECT_EQ(decode_header_text("=?UTF-8?B?SsO2cmd?="), "Jörg");      // bits under it
    EXPECT_EQ(decode_header_text("=?UTF-8?Q?=FF?="), "\xEF\xBF\xBD");  // not UTF-8
    EXPECT_EQ(decode_header_text("raw \xFF byte"), "raw \xEF\xBF\xBD byte");
    EXPECT_EQ(decode_header_text("=?UTF-8?Q?"
                                 "?="),
              "");
}

TEST(EncodedWordEncode, FirstWordFitsTheRoomGiven) {
    const std::string text = "Привет, это длинная тема письма, которая должна быть свёрнута";
    const std::string out = encode_header_text(text, WordContext::text, 69);
    EXPECT_LE(out.find(' '), 69U) << out;
    EXPECT_EQ(decode_header_text(out), text);
    // Below the useful minimum the first word is as long as any other.
    EXPECT_EQ(encode_header_text(text, WordContext::text, 10), encode_header_text(text));
}
