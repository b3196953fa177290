#include "smtp/data_encoder.hpp"

#include <gtest/gtest.h>

using missive::smtp::detail::DataEncoder;

namespace {

std::string encode(std::string_view in, DataEncoder::Mode mode = DataEncoder::Mode::dot_stuffed) {
    DataEncoder e(mode);
    std::string out;
    e.encode(in, out);
    e.finish(out);
    return out;
}

// Feeds `in` split at every byte position and checks each split gives `want`.
void expect_every_split(std::string_view in, const std::string& want,
                        DataEncoder::Mode mode = DataEncoder::Mode::dot_stuffed) {
    for (std::size_t i = 0; i <= in.size(); ++i) {
        DataEncoder e(mode);
        std::string out;
        e.encode(in.substr(0, i), out);
        e.encode(in.substr(i), out);
        e.finish(out);
        EXPECT_EQ(out, want) << "split at " << i;
    }
}

}  // namespace

TEST(DataEncoder, EmptyBody) {
    EXPECT_EQ(encode(""), ".\r\n");
}

TEST(DataEncoder, AddsMissingFinalLineBreak) {
    EXPECT_EQ(encode("hi"), "hi\r\n.\r\n");
}

TEST(DataEncoder, KeepsCrlf) {
    EXPECT_EQ(encode("a\r\nb\r\n"), "a\r\nb\r\n.\r\n");
}

TEST(DataEncoder, StuffsDotAtLineStart) {
    EXPECT_EQ(encode(".hidden\r\n..two\r\na.b\r\n"), "..hidden\r\n...two\r\na.b\r\n.\r\n");
}

TEST(DataEncoder, LoneDotLineCannotEndTheData) {
    EXPECT_EQ(encode("a\r\n.\r\nMAIL FROM:<x>\r\n"), "a\r\n..\r\nMAIL FROM:<x>\r\n.\r\n");
}

TEST(DataEncoder, SmugglingWithBareLineFeeds) {
    // "\n.\n" is an end-of-data marker to some servers: it must reach none of them as one.
    expect_every_split("a\n.\nRSET\n", "a\r\n..\r\nRSET\r\n.\r\n");
}

TEST(DataEncoder, SmugglingWithBareCarriageReturns) {
    expect_every_split("a\r.\rb", "a\r\n..\r\nb\r\n.\r\n");
}

TEST(DataEncoder, SmugglingWithMixedEndings) {
    expect_every_split("a\r\n.\nb\n.\r\nc\r\r\n", "a\r\n..\r\nb\r\n..\r\nc\r\n\r\n.\r\n");
}

TEST(DataEncoder, TrailingBareCr) {
    expect_every_split("x\r", "x\r\n.\r\n");
}

TEST(DataEncoder, DotAtVeryStart) {
    expect_every_split(".", "..\r\n.\r\n");
}

TEST(DataEncoder, ChunkedNormalisesButDoesNotStuff) {
    EXPECT_EQ(encode("a\n.\nb", DataEncoder::Mode::chunked), "a\r\n.\r\nb\r\n");
    EXPECT_EQ(encode("", DataEncoder::Mode::chunked), "");
}

TEST(DataEncoder, BinaryPassesUnaltered) {
    const std::string bin("a\n\r.\0\xff", 6);
    EXPECT_EQ(encode(bin, DataEncoder::Mode::binary), bin);
}
