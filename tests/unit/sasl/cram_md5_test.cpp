#include <missive/sasl/cram_md5.hpp>

#include "support/throws.hpp"

#include <gtest/gtest.h>

using missive::errc;
using missive::sasl::CramMd5;
using missive::sasl::Credentials;
using missive::sasl::make_cram_md5;
using missive::test::throws;

TEST(SaslCramMd5, Rfc2195Example) {
    CramMd5 m(Credentials{"tim", "tanstaaftanstaaf", ""});
    EXPECT_EQ(m.name(), "CRAM-MD5");
    EXPECT_EQ(m.start(), std::nullopt);
    EXPECT_TRUE(m.verified());
    EXPECT_EQ(m.step("<1896.697170952@postoffice.reston.mci.net>"),
              "tim b913a602c7eda7a495b4e6e7334d3890");
}

TEST(SaslCramMd5, EmptyPasswordIsAnEmptyKey) {
    // HMAC-MD5 with an empty key (checked with Python's hmac).
    auto m = make_cram_md5(Credentials{"tim", "", ""});
    (void)m->start();
    EXPECT_EQ(m->step("<1896.697170952@postoffice.reston.mci.net>"),
              "tim a00b54b824afa19ec2de0f73cb2a04c2");
}

TEST(SaslCramMd5, SecondChallengeFails) {
    CramMd5 m(Credentials{"tim", "tanstaaftanstaaf", ""});
    (void)m.start();
    (void)m.step("<1896.697170952@postoffice.reston.mci.net>");
    EXPECT_TRUE(throws([&] { (void)m.step("<again@example.org>"); }, errc::auth_failed,
                       "CRAM-MD5: the server sent a second challenge"));
}
