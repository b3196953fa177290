#include <missive/error.hpp>
#include <missive/mime/message.hpp>
#include <missive/mime/serializer.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <string>

using missive::mime::create;
using missive::mime::format_date;
using missive::mime::make_message_id;
using missive::mime::Message;

TEST(Message, RecipientsFromToCcBccWithoutDuplicates) {
    Message m;
    m.headers.add("To", "a@example.com, Team: b@example.com, c@example.com;");
    m.headers.add("Cc", "A@EXAMPLE.COM, d@example.com");
    m.headers.add("Bcc", "e@example.com");
    m.headers.add("Reply-To", "not-a-recipient@example.com");
    std::vector<std::string> got;
    for (const auto& r : m.recipients()) {
        got.push_back(r.address);
    }
    EXPECT_EQ(got, (std::vector<std::string>{"a@example.com", "b@example.com", "c@example.com",
                                             "d@example.com", "e@example.com"}));
}

TEST(Message, SenderPrefersSender) {
    Message m;
    EXPECT_FALSE(m.sender());
    m.headers.add("From", "Ada <ada@example.org>, bob@example.org");
    EXPECT_EQ(m.sender()->address, "ada@example.org");
    m.headers.add("Sender", "secretary@example.org");
    EXPECT_EQ(m.sender()->address, "secretary@example.org");
}

TEST(Message, NeedsSmtputf8OnlyForNonAsciiLocalParts) {
    Message m;
    m.headers.add("From", "Jörg <joerg@bücher.example>");
    EXPECT_FALSE(m.needs_smtputf8());
    m.headers.add("Cc", "jörg@example.com");
    EXPECT_TRUE(m.needs_smtputf8());
}

TEST(Message, CreateTheSimpleForm) {
    const Message m =
        create("Hello", "Body text", {"a@example.com", "B <b@example.com>"}, {"c@example.com"},
               {{"Content-Type", "text/html; charset=utf-8"}, {"X-Tag", "1"}});
    EXPECT_EQ(*m.headers.find("To"), "a@example.com, B <b@example.com>");
    EXPECT_EQ(*m.headers.find("Cc"), "c@example.com");
    EXPECT_EQ(*m.headers.find("Subject"), "Hello");
    EXPECT_EQ(*m.headers.find("X-Tag"), "1");
    EXPECT_FALSE(m.headers.contains("Content-Type"));
    EXPECT_EQ(m.body.type.essence(), "text/html");
    const std::string text = missive::mime::to_string(m);
    EXPECT_NE(text.find("\r\n\r\nBody text\r\n"), std::string::npos);
    EXPECT_THROW((void)create("a\nb", "", {"a@example.com"}), missive::Error);
    EXPECT_THROW((void)create("s", "", {"not an address"}), missive::Error);
}

TEST(Message, DateIsRfc5322) {
    using std::chrono::seconds;
    using std::chrono::system_clock;
    EXPECT_EQ(format_date(system_clock::time_point(seconds(0))), "Thu, 1 Jan 1970 00:00:00 +0000");
    EXPECT_EQ(format_date(system_clock::time_point(seconds(1790000000))),
              "Mon, 21 Sep 2026 14:13:20 +0000");
    EXPECT_EQ(format_date(system_clock::time_point(seconds(951782400))),
              "Tue, 29 Feb 2000 00:00:00 +0000");
}

TEST(Message, MessageIdsAreUniqueAndWellFormed) {
    const std::string a = make_message_id("example.org");
    const std::string b = make_message_id("example.org");
    EXPECT_NE(a, b);
    EXPECT_TRUE(std::regex_match(a, std::regex("<[0-9a-f]{32}@example\\.org>"))) << a;
    EXPECT_TRUE(
        std::regex_match(make_message_id(""), std::regex("<[0-9a-f]{32}@missive\\.invalid>")));
}
