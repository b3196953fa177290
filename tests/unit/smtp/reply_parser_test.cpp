#include <missive/smtp/reply_parser.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

using missive::smtp::EnhancedCode;
using missive::smtp::Limits;
using missive::smtp::Reply;
using missive::smtp::ReplyParser;

namespace {

std::vector<Reply> parse_all(std::string_view bytes, bool enhanced = false, Limits limits = {},
                             std::size_t split = std::string_view::npos) {
    ReplyParser p(limits);
    p.set_enhanced_codes(enhanced);
    std::vector<Reply> out;
    auto drain = [&] {
        while (auto r = p.next()) {
            out.push_back(*r);
        }
    };
    if (split == std::string_view::npos) {
        p.feed(bytes);
        drain();
    } else {
        p.feed(bytes.substr(0, split));
        drain();
        p.feed(bytes.substr(split));
        drain();
    }
    if (p.failed()) {
        out.push_back(Reply{0, std::nullopt, {p.error_message()}});
    }
    return out;
}

}  // namespace

TEST(ReplyParser, SingleLine) {
    auto r = parse_all("250 OK\r\n");
    ASSERT_EQ(r.size(), 1U);
    EXPECT_EQ(r[0].code, 250);
    EXPECT_EQ(r[0].lines, std::vector<std::string>{"OK"});
    EXPECT_FALSE(r[0].enhanced);
}

TEST(ReplyParser, MultiLine) {
    auto r = parse_all("250-mx.example.org\r\n250-PIPELINING\r\n250 SIZE 100\r\n");
    ASSERT_EQ(r.size(), 1U);
    EXPECT_EQ(r[0].lines, (std::vector<std::string>{"mx.example.org", "PIPELINING", "SIZE 100"}));
}

TEST(ReplyParser, CodeWithoutText) {
    auto r = parse_all("250\r\n");
    ASSERT_EQ(r.size(), 1U);
    EXPECT_EQ(r[0].code, 250);
    EXPECT_EQ(r[0].lines, std::vector<std::string>{""});
}

TEST(ReplyParser, BareLineFeedTolerated) {
    auto r = parse_all("250-a\n250 b\n");
    ASSERT_EQ(r.size(), 1U);
    EXPECT_EQ(r[0].lines, (std::vector<std::string>{"a", "b"}));
}

TEST(ReplyParser, EnhancedCodeSplitOffWhenEnabled) {
    auto r = parse_all("550-5.1.1 user\r\n550 5.1.1 unknown\r\n", true);
    ASSERT_EQ(r.size(), 1U);
    EXPECT_EQ(r[0].enhanced, (EnhancedCode{5, 1, 1}));
    EXPECT_EQ(r[0].lines, (std::vector<std::string>{"user", "unknown"}));
    EXPECT_EQ(r[0].to_string(), "550 5.1.1 user unknown");
}

TEST(ReplyParser, EnhancedCodeKeptAsTextWhenDisabled) {
    auto r = parse_all("550 5.1.1 unknown\r\n", false);
    EXPECT_FALSE(r[0].enhanced);
    EXPECT_EQ(r[0].text(), "5.1.1 unknown");
}

TEST(ReplyParser, EnhancedCodeOfOtherClassIsText) {
    auto r = parse_all("550 2.1.1 odd\r\n", true);
    EXPECT_FALSE(r[0].enhanced);
    EXPECT_EQ(r[0].text(), "2.1.1 odd");
    r = parse_all("250 2.0.0\r\n", true);
    EXPECT_EQ(r[0].enhanced, (EnhancedCode{2, 0, 0}));
    EXPECT_EQ(r[0].text(), "");
    r = parse_all("250 2.1234.0 x\r\n", true);
    EXPECT_FALSE(r[0].enhanced);
}

TEST(ReplyParser, RejectsCodeChangeInsideReply) {
    auto r = parse_all("250-a\r\n251 b\r\n");
    ASSERT_EQ(r.size(), 1U);
    EXPECT_EQ(r[0].code, 0);
    EXPECT_EQ(r[0].text(), "reply code changed from 250 to 251 inside a multi-line reply");
}

TEST(ReplyParser, RejectsMalformedLines) {
    for (const char* bad : {"25 OK\r\n", "1xx\r\n", "150 x\r\n", "650 x\r\n", "2a0 x\r\n",
                            "250_x\r\n", "\r\n", "260 x\r\n", "OK\r\n"}) {
        auto r = parse_all(bad);
        ASSERT_EQ(r.size(), 1U) << bad;
        EXPECT_EQ(r[0].code, 0) << bad;
        EXPECT_EQ(r[0].text().rfind("malformed reply line", 0), 0U) << bad;
    }
}

TEST(ReplyParser, LineLengthLimitAtAndOnePast) {
    Limits limits;
    limits.max_line_length = 20;
    const std::string at = "250 " + std::string(16, 'x') + "\r\n";  // 20 bytes before CRLF
    auto r = parse_all(at, false, limits);
    ASSERT_EQ(r.size(), 1U);
    EXPECT_EQ(r[0].code, 250);
    const std::string past = "250 " + std::string(17, 'x') + "\r\n";
    r = parse_all(past, false, limits);
    EXPECT_EQ(r[0].code, 0);
    EXPECT_EQ(r[0].text(), "reply line longer than 20 bytes");
}

TEST(ReplyParser, EndlessLineFailsWithoutGrowing) {
    Limits limits;
    limits.max_line_length = 100;
    ReplyParser p(limits);
    const std::string junk(64, 'x');
    for (int i = 0; i < 100 && !p.failed(); ++i) {
        p.feed(junk);
        EXPECT_FALSE(p.next());
    }
    EXPECT_TRUE(p.failed());
    EXPECT_EQ(p.error_message(), "reply line longer than 100 bytes");
    EXPECT_EQ(p.buffered(), 0U);
}

TEST(ReplyParser, ReplyLineCountLimitAtAndOnePast) {
    Limits limits;
    limits.max_reply_lines = 3;
    auto r = parse_all("250-a\r\n250-b\r\n250 c\r\n", false, limits);
    EXPECT_EQ(r[0].lines.size(), 3U);
    r = parse_all("250-a\r\n250-b\r\n250-c\r\n250 d\r\n", false, limits);
    EXPECT_EQ(r[0].code, 0);
    EXPECT_EQ(r[0].text(), "reply longer than 3 lines");
}

TEST(ReplyParser, EveryByteSplitGivesSameReplies) {
    const std::string stream =
        "220 hi\r\n250-mx\r\n250-PIPELINING\r\n250 8BITMIME\r\n550-5.1.1 a\r\n550 5.1.1 b\r\n";
    const auto whole = parse_all(stream, true);
    ASSERT_EQ(whole.size(), 3U);
    for (std::size_t i = 0; i <= stream.size(); ++i) {
        EXPECT_EQ(parse_all(stream, true, {}, i), whole) << "split at " << i;
    }
}

TEST(ReplyParser, ByteAtATime) {
    const std::string stream = "250-a\r\n250 b\r\n354 go\r\n";
    ReplyParser p;
    std::vector<Reply> out;
    for (char c : stream) {
        p.feed(std::string_view(&c, 1));
        while (auto r = p.next()) {
            out.push_back(*r);
        }
    }
    ASSERT_EQ(out.size(), 2U);
    EXPECT_EQ(out[1].code, 354);
}

TEST(ReplyParser, StaysFailed) {
    ReplyParser p;
    p.feed("xyz\r\n");
    EXPECT_FALSE(p.next());
    p.feed("250 ok\r\n");
    EXPECT_FALSE(p.next());
    EXPECT_TRUE(p.failed());
}

TEST(ReplyParser, IntermediateRepliesKeepTheirText) {
    // A base64 challenge that happens to look like an enhanced code is not one.
    auto r = parse_all("334 3.1.2 \r\n", true);
    EXPECT_FALSE(r[0].enhanced);
    EXPECT_EQ(r[0].text(), "3.1.2 ");
}
