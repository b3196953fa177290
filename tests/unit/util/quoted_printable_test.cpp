#include <missive/util/quoted_printable.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>

using missive::util::quoted_printable_decode;
using missive::util::quoted_printable_encode;
using missive::util::QuotedPrintableEncoder;

namespace {

std::string binary(std::string_view bytes) {
    return quoted_printable_encode(bytes, false);
}

std::string repeat(char c, std::size_t n) {
    return std::string(n, c);
}

// Every line of `encoded` (split at CRLF) is at most 76 characters; only printable US-ASCII.
void expect_well_formed(const std::string& encoded) {
    std::size_t pos = 0;
    while (pos < encoded.size()) {
        std::size_t eol = encoded.find("\r\n", pos);
        if (eol == std::string::npos) {
            eol = encoded.size();
        }
        EXPECT_LE(eol - pos, 76U) << encoded.substr(pos, eol - pos);
        for (std::size_t i = pos; i < eol; ++i) {
            const char c = encoded[i];
            EXPECT_TRUE((c >= 33 && c <= 126) || c == ' ' || c == '\t') << static_cast<int>(c);
        }
        if (eol > pos) {
            EXPECT_NE(encoded[eol - 1], ' ');  // RFC 2045 6.7 rule 3
            EXPECT_NE(encoded[eol - 1], '\t');
        }
        pos = eol + 2;
    }
}

// Text with every case the encoder must hold back or look ahead for.
const std::string sample =
    "Hello = world\r\n"
    "trailing space \n"
    "trailing tab\t\r"
    "From the start\r\n"
    ".dot\r\n"
    "Fromage\n"
    "Fro\n"
    "caf\xC3\xA9 na\xC3\xAFve \x01\x7F\xFF\r\n"
    "a long line " +
    repeat('x', 70) + " and = signs " + repeat('=', 30) + " end  \r\n\r\n" + repeat('y', 75) +
    ".after a soft break\r\n" + repeat('z', 75) + "From there\n" + "last F";

}  // namespace

TEST(QuotedPrintable, PlainTextPassesUnchanged) {
    EXPECT_EQ(quoted_printable_encode("Hello, World! ~{}"), "Hello, World! ~{}");
    EXPECT_EQ(quoted_printable_encode(""), "");
    EXPECT_EQ(binary(""), "");
}

TEST(QuotedPrintable, EncodesEqualsControlsAnd8BitInUpperCaseHex) {
    EXPECT_EQ(quoted_printable_encode("a=b"), "a=3Db");
    EXPECT_EQ(quoted_printable_encode("caf\xC3\xA9"), "caf=C3=A9");
    EXPECT_EQ(quoted_printable_encode(std::string("\0\x01\x7F\x80\xFF", 5)), "=00=01=7F=80=FF");
}

TEST(QuotedPrintable, Rfc2045SoftBreakExampleDecodes) {
    // RFC 2045 6.7 rule 5's example.
    EXPECT_EQ(quoted_printable_decode("Now's the time =\r\n"
                                      "for all folk to come=\r\n"
                                      " to the aid of their country."),
              "Now's the time for all folk to come to the aid of their country.");
}

TEST(QuotedPrintable, LinesAreAtMost76CharactersWithTheSoftBreak) {
    EXPECT_EQ(quoted_printable_encode(repeat('a', 75)), repeat('a', 75));
    EXPECT_EQ(quoted_printable_encode(repeat('a', 76)), repeat('a', 75) + "=\r\na");
    EXPECT_EQ(quoted_printable_encode(repeat('a', 150)),
              repeat('a', 75) + "=\r\n" + repeat('a', 75));
    EXPECT_EQ(quoted_printable_encode(repeat('a', 151)),
              repeat('a', 75) + "=\r\n" + repeat('a', 75) + "=\r\na");
    EXPECT_EQ(quoted_printable_encode(repeat('a', 75) + "\n" + repeat('b', 75)),
              repeat('a', 75) + "\r\n" + repeat('b', 75));
    expect_well_formed(quoted_printable_encode(repeat('a', 1000)));
}

TEST(QuotedPrintable, NeverSplitsAnEscapeAcrossASoftBreak) {
    EXPECT_EQ(quoted_printable_encode(repeat('a', 72) + "="), repeat('a', 72) + "=3D");
    EXPECT_EQ(quoted_printable_encode(repeat('a', 73) + "="), repeat('a', 73) + "=\r\n=3D");
    EXPECT_EQ(quoted_printable_encode(repeat('a', 74) + "=b"), repeat('a', 74) + "=\r\n=3Db");
    EXPECT_EQ(quoted_printable_encode(repeat('=', 26)),
              repeat('=', 0) +
                  "=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D=3D="
                  "3D=3D=3D=3D=\r\n=3D");
}

TEST(QuotedPrintable, TrailingWhiteSpaceIsEncoded) {
    EXPECT_EQ(quoted_printable_encode("a \r\nb\t\nc"), "a=20\r\nb=09\r\nc");
    EXPECT_EQ(quoted_printable_encode("a  \rb"), "a =20\r\nb");
    EXPECT_EQ(quoted_printable_encode("end "), "end=20");
    EXPECT_EQ(quoted_printable_encode("end\t"), "end=09");
    EXPECT_EQ(quoted_printable_encode("a b\tc"), "a b\tc");
    EXPECT_EQ(binary("a \r\n"), "a =0D=0A");  // binary: no line break follows the space
    EXPECT_EQ(binary("a "), "a=20");
}

TEST(QuotedPrintable, SpaceBeforeASoftBreakStaysASpace) {
    // Rule 3 is about the end of an encoded line; there the '=' of the soft break ends it.
    EXPECT_EQ(quoted_printable_encode(repeat('a', 74) + " b"), repeat('a', 74) + " =\r\nb");
    EXPECT_EQ(quoted_printable_encode(repeat('a', 74) + " \n"), repeat('a', 74) + "=\r\n=20\r\n");
}

TEST(QuotedPrintable, DotAndFromAtTheStartOfALineAreEncoded) {
    EXPECT_EQ(quoted_printable_encode(".\r\n"), "=2E\r\n");
    EXPECT_EQ(quoted_printable_encode("a\r\n.b.c"), "a\r\n=2Eb.c");
    EXPECT_EQ(quoted_printable_encode("From me"), "=46rom me");
    EXPECT_EQ(quoted_printable_encode("a\nFrom x From y"), "a\r\n=46rom x From y");
    EXPECT_EQ(quoted_printable_encode("Fromage\nFrom\nFro"), "Fromage\r\nFrom\r\nFro");
    EXPECT_EQ(quoted_printable_encode("F"), "F");
    EXPECT_EQ(quoted_printable_encode("From"), "From");
    EXPECT_EQ(quoted_printable_encode("From "), "=46rom=20");
    // After a soft break too: the encoded line starts there.
    EXPECT_EQ(quoted_printable_encode(repeat('a', 75) + ".b"), repeat('a', 75) + "=\r\n=2Eb");
    EXPECT_EQ(quoted_printable_encode(repeat('a', 75) + "From "),
              repeat('a', 75) + "=\r\n=46rom=20");
    EXPECT_EQ(binary("a\nFrom .x"), "a=0AFrom .x");  // binary: no line starts there
}

TEST(QuotedPrintable, TextLineBreaksBecomeCrlf) {
    EXPECT_EQ(quoted_printable_encode("a\rb\nc\r\nd"), "a\r\nb\r\nc\r\nd");
    EXPECT_EQ(quoted_printable_encode("\r\r\n\n\n\r"), "\r\n\r\n\r\n\r\n\r\n");
    EXPECT_EQ(quoted_printable_encode("\n\r"), "\r\n\r\n");
}

TEST(QuotedPrintable, OutputEndsWithCrlfOnlyIfTheInputEndsWithALineBreak) {
    EXPECT_EQ(quoted_printable_encode("a\n"), "a\r\n");
    EXPECT_EQ(quoted_printable_encode("a\r"), "a\r\n");
    EXPECT_EQ(quoted_printable_encode("a"), "a");
    EXPECT_EQ(quoted_printable_encode(repeat('a', 75)), repeat('a', 75));  // no soft break at end
}

TEST(QuotedPrintable, BinaryModeEncodesCrAndLf) {
    EXPECT_EQ(binary("a\r\nb\rc\nd"), "a=0D=0Ab=0Dc=0Ad");
    const std::string encoded = binary(repeat('\n', 30));
    EXPECT_EQ(encoded.substr(0, 78),
              "=0A=0A=0A=0A=0A=0A=0A=0A=0A=0A=0A=0A=0A=0A=0A=0A=0A=0A=0A=0A=0A=0A"
              "=0A=0A=0A=\r\n");
    expect_well_formed(encoded);
}

TEST(QuotedPrintable, EveryByteValueRoundTripsInBinaryMode) {
    std::string all;
    for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 256; ++i) {
            all += static_cast<char>(i);
        }
    }
    const std::string encoded = binary(all);
    expect_well_formed(encoded);
    EXPECT_EQ(quoted_printable_decode(encoded), all);
    for (int i = 0; i < 256; ++i) {
        const std::string one(1, static_cast<char>(i));
        EXPECT_EQ(quoted_printable_decode(binary(one)), one) << i;
        EXPECT_EQ(quoted_printable_decode(binary("x" + one + "x")), "x" + one + "x") << i;
    }
}

TEST(QuotedPrintable, SampleRoundTripsInTextModeWithCrlfLineBreaks) {
    const std::string encoded = quoted_printable_encode(sample);
    expect_well_formed(encoded);
    std::string crlf;  // sample with each line break as CRLF
    for (std::size_t i = 0; i < sample.size(); ++i) {
        if (sample[i] == '\r' || sample[i] == '\n') {
            crlf += "\r\n";
            if (sample[i] == '\r' && i + 1 < sample.size() && sample[i + 1] == '\n') {
                ++i;
            }
        } else {
            crlf += sample[i];
        }
    }
    EXPECT_EQ(quoted_printable_decode(encoded), crlf);
}

TEST(QuotedPrintable, EverySplitGivesTheOneShotOutput) {
    for (const bool text : {true, false}) {
        const std::string whole = quoted_printable_encode(sample, text);
        for (std::size_t i = 0; i <= sample.size(); ++i) {
            QuotedPrintableEncoder encoder(text);
            std::string out;
            encoder.encode(std::string_view(sample).substr(0, i), out);
            encoder.encode(std::string_view(sample).substr(i), out);
            encoder.finish(out);
            ASSERT_EQ(out, whole) << "text " << text << " split at " << i;
        }
    }
}

TEST(QuotedPrintable, ByteAtATimeAndPairsOfSplitsGiveTheOneShotOutput) {
    const std::string input = "a \r\nFrom x\r\n.\r\nFr\rF \t\n" + repeat('q', 74) + "= \r";
    for (const bool text : {true, false}) {
        const std::string whole = quoted_printable_encode(input, text);
        QuotedPrintableEncoder single(text);
        std::string out;
        for (const char c : input) {
            single.encode(std::string_view(&c, 1), out);
        }
        single.finish(out);
        EXPECT_EQ(out, whole) << text;
        for (std::size_t i = 0; i <= input.size(); ++i) {
            for (std::size_t j = i; j <= input.size(); ++j) {
                QuotedPrintableEncoder encoder(text);
                out.clear();
                encoder.encode(std::string_view(input).substr(0, i), out);
                encoder.encode(std::string_view(input).substr(i, j - i), out);
                encoder.encode(std::string_view(input).substr(j), out);
                encoder.finish(out);
                ASSERT_EQ(out, whole) << text << " " << i << " " << j;
            }
        }
    }
}

TEST(QuotedPrintable, EncoderIsReadyForANewBodyAfterFinish) {
    QuotedPrintableEncoder encoder;
    std::string out;
    encoder.encode(repeat('a', 70) + " ", out);
    encoder.finish(out);
    EXPECT_EQ(out, repeat('a', 70) + "=20");
    out.clear();
    encoder.encode("From x", out);
    encoder.finish(out);
    EXPECT_EQ(out, "=46rom x");
}

TEST(QuotedPrintableDecode, DropsSoftBreaksAndTrailingWhiteSpace) {
    EXPECT_EQ(quoted_printable_decode("a=\r\nb"), "ab");
    EXPECT_EQ(quoted_printable_decode("a=\nb"), "ab");
    EXPECT_EQ(quoted_printable_decode("a= \t\r\nb"), "ab");  // white space added in transit
    EXPECT_EQ(quoted_printable_decode("a  \r\nb\t"), "a\r\nb");
    EXPECT_EQ(quoted_printable_decode("a =\r\nb"), "a b");
    EXPECT_EQ(quoted_printable_decode("a=20 \r\n"), "a \r\n");
    EXPECT_EQ(quoted_printable_decode("a\nb\n"), "a\r\nb\r\n");
    EXPECT_EQ(quoted_printable_decode("="), "");
    EXPECT_EQ(quoted_printable_decode(""), "");
}

TEST(QuotedPrintableDecode, HexOfEitherCase) {
    EXPECT_EQ(quoted_printable_decode("caf=C3=A9 caf=c3=a9 =3d=3D"), "caf\xC3\xA9 caf\xC3\xA9 ==");
    EXPECT_EQ(quoted_printable_decode("=2E=46rom"), ".From");
}

TEST(QuotedPrintableDecode, RejectsEqualsWithoutTwoHexDigits) {
    for (const char* bad : {"=G0", "=0G", "=4", "a=4\r\nb", "= 4", "=\t41", "==", "=-1", "=\r4"}) {
        EXPECT_EQ(quoted_printable_decode(bad), std::nullopt) << bad;
    }
}
