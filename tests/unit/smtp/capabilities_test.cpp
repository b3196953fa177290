#include <missive/smtp/capabilities.hpp>

#include <gtest/gtest.h>

using missive::smtp::Capabilities;
using missive::smtp::Reply;

namespace {

Capabilities caps(std::vector<std::string> lines) {
    return Capabilities::parse(Reply{250, std::nullopt, std::move(lines)});
}

}  // namespace

TEST(Capabilities, PostfixEhlo) {
    auto c = caps({"mail.test.local", "PIPELINING", "SIZE 10240000", "VRFY", "ETRN", "STARTTLS",
                   "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"});
    EXPECT_EQ(c.domain(), "mail.test.local");
    EXPECT_TRUE(c.pipelining());
    EXPECT_EQ(c.max_size(), 10240000U);
    EXPECT_TRUE(c.starttls());
    EXPECT_TRUE(c.enhanced_status_codes());
    EXPECT_TRUE(c.eight_bit_mime());
    EXPECT_TRUE(c.dsn());
    EXPECT_TRUE(c.smtputf8());
    EXPECT_TRUE(c.chunking());
    EXPECT_FALSE(c.binary_mime());
    EXPECT_FALSE(c.requiretls());
    EXPECT_TRUE(c.auth_mechanisms().empty());
    EXPECT_EQ(c.extension("vrfy"), "");
    EXPECT_EQ(c.extension("size"), "10240000");
    EXPECT_EQ(c.extension("AUTH"), std::nullopt);
}

TEST(Capabilities, SmtpSinkEmptyLastLineIgnored) {
    auto c = caps({"smtp-sink", "PIPELINING", "8BITMIME", "AUTH PLAIN LOGIN", ""});
    EXPECT_EQ(c.all().size(), 3U);
    EXPECT_EQ(c.auth_mechanisms(), (std::vector<std::string>{"PLAIN", "LOGIN"}));
}

TEST(Capabilities, OldAuthFormMerges) {
    auto c = caps({"mx", "AUTH login PLAIN", "AUTH=LOGIN CRAM-MD5"});
    EXPECT_EQ(c.auth_mechanisms(), (std::vector<std::string>{"LOGIN", "PLAIN", "CRAM-MD5"}));
    EXPECT_EQ(c.extension("auth"), "LOGIN PLAIN CRAM-MD5");
}

TEST(Capabilities, SizeWithoutValueMeansNoLimit) {
    EXPECT_EQ(caps({"mx", "SIZE"}).max_size(), 0U);
    EXPECT_EQ(caps({"mx"}).max_size(), std::nullopt);
}

TEST(Capabilities, LimitsAndDeliverBy) {
    auto c = caps({"mx", "LIMITS RCPTMAX=100 mailmax=5", "DELIVERBY 240", "MT-PRIORITY MIXER",
                   "REQUIRETLS", "BINARYMIME"});
    EXPECT_EQ(c.rcpt_max(), 100U);
    EXPECT_EQ(c.mail_max(), 5U);
    EXPECT_EQ(c.deliver_by_min(), 240);
    EXPECT_TRUE(c.mt_priority());
    EXPECT_EQ(c.extension("mt-priority"), "MIXER");
    EXPECT_TRUE(c.requiretls());
    EXPECT_TRUE(c.binary_mime());
    EXPECT_EQ(caps({"mx"}).rcpt_max(), std::nullopt);
    EXPECT_EQ(caps({"mx", "DELIVERBY"}).deliver_by_min(), 0);
}

TEST(Capabilities, KeywordsAreCaseInsensitive) {
    auto c = caps({"mx", "pipelining", "8bitmime"});
    EXPECT_TRUE(c.pipelining());
    EXPECT_TRUE(c.has("PiPeLiNiNg"));
}
