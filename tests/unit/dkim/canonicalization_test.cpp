#include <missive/dkim/canonicalization.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

using missive::dkim::BodyCanonicalizer;
using missive::dkim::Canonicalization;
using missive::dkim::canonicalize_body;
using missive::dkim::canonicalize_header;

namespace {

constexpr auto simple = Canonicalization::simple;
constexpr auto relaxed = Canonicalization::relaxed;

// The body fed in pieces cut at the given offsets.
std::string in_pieces(std::string_view body, Canonicalization c,
                      const std::vector<std::size_t>& cuts) {
    std::string out;
    BodyCanonicalizer canon(c, [&out](std::string_view piece) { out.append(piece); });
    std::size_t at = 0;
    for (const std::size_t cut : cuts) {
        canon.update(body.substr(at, cut - at));
        at = cut;
    }
    canon.update(body.substr(at));
    canon.finish();
    EXPECT_EQ(canon.written(), out.size());
    return out;
}

// Every cut into two pieces, every cut into three around each byte, and a byte at a time give
// the same output as the whole body at once (Beast's parsegrind).
void expect_any_split(std::string_view body, Canonicalization c, std::string_view expected) {
    ASSERT_EQ(canonicalize_body(body, c), expected);
    for (std::size_t i = 0; i <= body.size(); ++i) {
        ASSERT_EQ(in_pieces(body, c, {i}), expected) << "cut at " << i;
        if (i + 1 <= body.size()) {
            ASSERT_EQ(in_pieces(body, c, {i, i + 1}), expected) << "byte " << i << " alone";
        }
    }
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < body.size(); ++i) {
        every.push_back(i);
    }
    ASSERT_EQ(in_pieces(body, c, every), expected) << "a byte at a time";
}

// RFC 6376 3.4.5, the example body.
constexpr std::string_view rfc_body = " C \r\nD \t E\r\n\r\n\r\n";

TEST(DkimBodyCanonicalization, Rfc6376ExampleSimple) {
    expect_any_split(rfc_body, simple, " C \r\nD \t E\r\n");
}

TEST(DkimBodyCanonicalization, Rfc6376ExampleRelaxed) {
    expect_any_split(rfc_body, relaxed, " C\r\nD E\r\n");
}

TEST(DkimHeaderCanonicalization, Rfc6376ExampleRelaxed) {
    EXPECT_EQ(canonicalize_header("A: X", relaxed), "a:X");
    EXPECT_EQ(canonicalize_header("B : Y\t\r\n\tZ  ", relaxed), "b:Y Z");
}

TEST(DkimHeaderCanonicalization, Rfc6376ExampleSimple) {
    EXPECT_EQ(canonicalize_header("A: X", simple), "A: X");
    EXPECT_EQ(canonicalize_header("B : Y\t\r\n\tZ  ", simple), "B : Y\t\r\n\tZ  ");
}

TEST(DkimHeaderCanonicalization, RelaxedUnfoldsCollapsesAndTrims) {
    EXPECT_EQ(canonicalize_header("SUBJECT:\t  hello \t world  \r\n again\t", relaxed),
              "subject:hello world again");
    EXPECT_EQ(canonicalize_header("X-Empty:", relaxed), "x-empty:");
    EXPECT_EQ(canonicalize_header("X-Empty:  \r\n ", relaxed), "x-empty:");
    EXPECT_EQ(canonicalize_header("Dkim-Signature: v=1; b=", relaxed), "dkim-signature:v=1; b=");
}

TEST(DkimBodyCanonicalization, EmptyBody) {
    // RFC 6376 3.4.3: simple makes an empty body one CRLF; 3.4.4: relaxed leaves it empty.
    expect_any_split("", simple, "\r\n");
    expect_any_split("", relaxed, "");
    expect_any_split("\r\n\r\n\r\n", simple, "\r\n");
    expect_any_split("\r\n\r\n\r\n", relaxed, "");
    expect_any_split(" \t \r\n \r\n", relaxed, "");
    expect_any_split(" \t \r\n \r\n", simple, " \t \r\n \r\n");
}

TEST(DkimBodyCanonicalization, TrailingEmptyLinesGoLeadingAndInnerOnesStay) {
    const std::string_view body = "\r\n\r\nHi.\r\n\r\n\r\nBye.\r\n\r\n\r\n\r\n";
    expect_any_split(body, simple, "\r\n\r\nHi.\r\n\r\n\r\nBye.\r\n");
    expect_any_split(body, relaxed, "\r\n\r\nHi.\r\n\r\n\r\nBye.\r\n");
}

TEST(DkimBodyCanonicalization, TrailingWhiteSpaceAndLinesOfWhiteSpace) {
    const std::string_view body = "a  \t\r\n \t\r\nb\t\t c \r\n  \r\n\t\r\n";
    expect_any_split(body, relaxed, "a\r\n\r\nb c\r\n");
    expect_any_split(body, simple, "a  \t\r\n \t\r\nb\t\t c \r\n  \r\n\t\r\n");
}

TEST(DkimBodyCanonicalization, MissingFinalLineBreakIsAdded) {
    expect_any_split("no end", simple, "no end\r\n");
    expect_any_split("no end", relaxed, "no end\r\n");
    expect_any_split("no end  \t", relaxed, "no end\r\n");
    expect_any_split("no end  \t", simple, "no end  \t\r\n");
}

TEST(DkimBodyCanonicalization, BareCrAndLfAreLineBreaksAsOnTheWire) {
    // What smtp's data encoder sends: CRLF, a bare CR and a bare LF each become CRLF.
    expect_any_split("a\nb\rc\r\n\n\r", simple, "a\r\nb\r\nc\r\n");
    expect_any_split("a \n b\r\r\n", relaxed, "a\r\n b\r\n");
    expect_any_split("x\r\r\ny", simple, "x\r\n\r\ny\r\n");
    EXPECT_EQ(canonicalize_body("l1\nl2\n\n", simple), canonicalize_body("l1\r\nl2\r\n", simple));
}

TEST(DkimBodyCanonicalization, LeadingWhiteSpaceBecomesOneSpace) {
    expect_any_split("\t\t  x\r\n", relaxed, " x\r\n");
    expect_any_split("\t\t  x\r\n", simple, "\t\t  x\r\n");
}

TEST(DkimBodyCanonicalization, LongRunsAreHandedOverInBoundedPieces) {
    // A megabyte of text, then a megabyte of empty lines, then text: nothing held back grows,
    // and no piece handed to the sink passes flush_size.
    const std::string text(std::size_t{1} << 20, 'x');
    std::string body = text;
    for (int i = 0; i < (1 << 19); ++i) {
        body += "\r\n";
    }
    body += "end\r\n";
    std::size_t largest = 0;
    std::size_t total = 0;
    BodyCanonicalizer canon(relaxed, [&](std::string_view piece) {
        largest = std::max(largest, piece.size());
        total += piece.size();
    });
    canon.update(body);
    canon.finish();
    EXPECT_LE(largest, BodyCanonicalizer::flush_size + 2);
    EXPECT_EQ(total, body.size());
}

}  // namespace
