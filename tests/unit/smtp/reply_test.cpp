#include <missive/smtp/reply.hpp>
#include <missive/smtp/result.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

using missive::smtp::EnhancedCode;
using missive::smtp::RecipientResult;
using missive::smtp::Reply;
using missive::smtp::SendResult;

namespace {

Reply reply(int code, std::vector<std::string> lines) {
    return Reply{code, std::nullopt, std::move(lines)};
}

RecipientResult recipient(std::string address, int code) {
    return {std::move(address), code >= 200 && code < 300, reply(code, {"text"})};
}

}  // namespace

TEST(EnhancedCode, PrintsAsOnTheWire) {
    EXPECT_EQ((EnhancedCode{5, 1, 1}.to_string()), "5.1.1");
    EXPECT_EQ((EnhancedCode{4, 7, 0}.to_string()), "4.7.0");
    EXPECT_EQ((EnhancedCode{2, 999, 123}.to_string()), "2.999.123");
}

TEST(Reply, ClassifiesByCode) {
    EXPECT_TRUE(reply(250, {}).positive());
    EXPECT_TRUE(reply(354, {}).intermediate());
    EXPECT_TRUE(reply(421, {}).transient());
    EXPECT_TRUE(reply(554, {}).permanent());
    EXPECT_FALSE(reply(554, {}).transient());
    EXPECT_FALSE(reply(199, {}).positive());
    EXPECT_FALSE(reply(600, {}).permanent());
}

TEST(Reply, TextJoinsLinesWithOneSpace) {
    EXPECT_EQ(reply(250, {"mx.example.org", "PIPELINING", "SIZE 1000"}).text(),
              "mx.example.org PIPELINING SIZE 1000");
    EXPECT_EQ(reply(250, {"only"}).text(), "only");
    EXPECT_EQ(reply(250, {}).text(), "");
    // An empty line ("250-" alone) adds no second space.
    EXPECT_EQ(reply(250, {"a", "", "b"}).text(), "a b");
    EXPECT_EQ(reply(250, {"", "b"}).text(), "b");
}

TEST(Reply, ToStringWithEnhancedCode) {
    const Reply r{550, EnhancedCode{5, 1, 1}, {"<bob@example.org>:", "user unknown"}};
    EXPECT_EQ(r.to_string(), "550 5.1.1 <bob@example.org>: user unknown");
}

TEST(Reply, ToStringWithoutEnhancedCode) {
    EXPECT_EQ(reply(250, {"mx.example.org", "SIZE 1000"}).to_string(),
              "250 mx.example.org SIZE 1000");
    EXPECT_EQ(reply(354, {"End data with <CR><LF>.<CR><LF>"}).to_string(),
              "354 End data with <CR><LF>.<CR><LF>");
}

TEST(Reply, ToStringWithoutText) {
    EXPECT_EQ(reply(250, {}).to_string(), "250");
    EXPECT_EQ((Reply{421, EnhancedCode{4, 3, 2}, {}}.to_string()), "421 4.3.2");
}

TEST(Reply, ComparesEveryField) {
    const Reply a{250, EnhancedCode{2, 0, 0}, {"ok"}};
    EXPECT_EQ(a, (Reply{250, EnhancedCode{2, 0, 0}, {"ok"}}));
    EXPECT_NE(a, (Reply{250, std::nullopt, {"ok"}}));
    EXPECT_NE(a, (Reply{250, EnhancedCode{2, 0, 0}, {"ok", ""}}));
}

TEST(SendResult, SplitsRecipientsInOrder) {
    SendResult r;
    r.recipients = {recipient("a@example.org", 250), recipient("b@example.org", 550),
                    recipient("c@example.org", 251), recipient("d@example.org", 450)};
    r.data_reply = reply(250, {"queued"});
    EXPECT_EQ(r.accepted(), (std::vector<std::string>{"a@example.org", "c@example.org"}));
    EXPECT_EQ(r.refused(), (std::vector<std::string>{"b@example.org", "d@example.org"}));
    EXPECT_FALSE(r.all_accepted());
}

TEST(SendResult, AllAcceptedNeedsEveryRecipientAndTheData) {
    SendResult r;
    EXPECT_FALSE(r.all_accepted()) << "no recipient at all";
    r.recipients = {recipient("a@example.org", 250), recipient("b@example.org", 250)};
    EXPECT_FALSE(r.all_accepted()) << "no data reply yet";
    r.data_reply = reply(451, {"try later"});
    EXPECT_FALSE(r.all_accepted()) << "data refused";
    r.data_reply = reply(250, {"queued as 1"});
    EXPECT_TRUE(r.all_accepted());
    EXPECT_TRUE(r.refused().empty());
}
