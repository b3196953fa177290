#include <missive/error.hpp>
#include <missive/mime/header_reader.hpp>

#include "support/throws.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using missive::errc;
using missive::mime::HeaderBlock;
using missive::test::throws;

namespace {

const std::string sample =
    "From: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.org>\r\n"
    "To: a@example.com,\r\n"
    "  \"B, Bee\" <b@example.com>\r\n"
    "Bcc: hidden@example.com\r\n"
    "Subject: =?UTF-8?B?R3LDvMOfZQ==?= and\r\n"
    "\tmore\r\n"
    "\r\n"
    "Body line\r\n";

}  // namespace

TEST(HeaderBlock, ReadsFieldsKeepingTheirText) {
    const HeaderBlock h = HeaderBlock::parse(sample);
    ASSERT_EQ(h.fields().size(), 4U);
    EXPECT_EQ(h.fields()[1].name, "To");
    EXPECT_EQ(h.fields()[1].raw, " a@example.com,\r\n  \"B, Bee\" <b@example.com>");
    EXPECT_EQ(h.fields()[1].unfolded(), " a@example.com,  \"B, Bee\" <b@example.com>");
    EXPECT_EQ(h.find("subject")->decoded(), "Grüße and\tmore");
    EXPECT_EQ(h.find("From")->decoded(), "Jörg <joerg@example.org>");
    EXPECT_EQ(sample.substr(h.body_offset()), "Body line\r\n");
}

TEST(HeaderBlock, MailboxesOfAField) {
    const HeaderBlock h = HeaderBlock::parse(sample);
    const auto to = h.mailboxes("To");
    ASSERT_EQ(to.size(), 2U);
    EXPECT_EQ(to[1].name, "B, Bee");
    EXPECT_EQ(to[1].address, "b@example.com");
    EXPECT_EQ(h.mailboxes("From").at(0).name, "Jörg");
    EXPECT_TRUE(h.mailboxes("Cc").empty());
}

TEST(HeaderBlock, WritesBackWithoutBcc) {
    const HeaderBlock h = HeaderBlock::parse(sample);
    EXPECT_EQ(h.write({"bcc"}),
              "From: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.org>\r\n"
              "To: a@example.com,\r\n"
              "  \"B, Bee\" <b@example.com>\r\n"
              "Subject: =?UTF-8?B?R3LDvMOfZQ==?= and\r\n"
              "\tmore\r\n"
              "\r\n");
}

TEST(HeaderBlock, LenientInput) {
    // LF line ends, an mbox "From " line, "Name :" and no body at all.
    const std::string text = "From ada Mon Nov 23 00:00:00 2026\nSubject : hi\nX-Empty:\n";
    const HeaderBlock h = HeaderBlock::parse(text);
    ASSERT_EQ(h.fields().size(), 2U);
    EXPECT_EQ(h.fields()[0].name, "Subject");
    EXPECT_EQ(h.fields()[0].decoded(), "hi");
    EXPECT_EQ(h.fields()[1].raw, "");
    EXPECT_EQ(h.body_offset(), text.size());
    EXPECT_EQ(h.headers().size(), 2U);
}

TEST(HeaderBlock, DecodedValuesCannotInjectLines) {
    const HeaderBlock h =
        HeaderBlock::parse("Subject: =?UTF-8?Q?a=0D=0ABcc:_x@example.com?=\r\n\r\n");
    EXPECT_EQ(h.find("Subject")->decoded(), "a  Bcc: x@example.com");
    EXPECT_NO_THROW((void)h.headers());
}

TEST(HeaderBlock, RefusesWhatIsNoHeader) {
    EXPECT_TRUE(throws([] { (void)HeaderBlock::parse(" folded first\r\n"); }, errc::invalid_input,
                       "header line 1 starts with white space"));
    EXPECT_TRUE(throws([] { (void)HeaderBlock::parse("Subject: a\r\nno colon here\r\n\r\n"); },
                       errc::invalid_input, "header line 2 is not a field: 'no colon here'"));
    EXPECT_THROW((void)HeaderBlock::parse(": empty name\r\n"), missive::Error);
    std::string huge;
    while (huge.size() <= HeaderBlock::max_size) {
        huge += "X-Filler: " + std::string(900, 'x') + "\r\n";
    }
    EXPECT_THROW((void)HeaderBlock::parse(huge + "\r\n"), missive::Error);
}

TEST(HeaderBlock, FindEnd) {
    EXPECT_EQ(HeaderBlock::find_end("A: b\r\n\r\nbody"), 8U);
    EXPECT_EQ(HeaderBlock::find_end("A: b\n\nbody"), 6U);
    EXPECT_EQ(HeaderBlock::find_end("A: b\r\nC: d\r\n"), std::nullopt);
    EXPECT_EQ(HeaderBlock::find_end("A: b\r\n\r"), std::nullopt);
    EXPECT_EQ(HeaderBlock::find_end("\r\nbody"), 2U);
}
