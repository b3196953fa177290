#include <missive/sasl/choose.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

using missive::sasl::choose;
using missive::sasl::Credentials;

namespace {

const Credentials credentials{"user@example.org", "pw", ""};

// What Dovecot offers with every mechanism it has enabled.
const std::vector<std::string> everything = {"PLAIN",      "LOGIN",       "CRAM-MD5",
                                             "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256",
                                             "XOAUTH2",    "OAUTHBEARER", "GSSAPI"};

std::string chosen(const std::vector<std::string>& offered,
                   const std::vector<std::string>& preference = {}) {
    auto m = choose(offered, credentials, preference, "mail.example.org", 587);
    return m ? m->name() : "(none)";
}

}  // namespace

TEST(SaslChoose, StrongestCommonWithoutPreference) {
    EXPECT_EQ(chosen(everything), "SCRAM-SHA-256");
    EXPECT_EQ(chosen({"PLAIN", "SCRAM-SHA-1", "CRAM-MD5"}), "SCRAM-SHA-1");
    EXPECT_EQ(chosen({"LOGIN", "PLAIN", "CRAM-MD5"}), "CRAM-MD5");
    EXPECT_EQ(chosen({"LOGIN", "PLAIN"}), "PLAIN");
    EXPECT_EQ(chosen({"LOGIN"}), "LOGIN");
}

TEST(SaslChoose, NeverDigestMd5OrOAuthUnlessAsked) {
    EXPECT_EQ(chosen({"DIGEST-MD5", "XOAUTH2", "OAUTHBEARER", "GSSAPI"}), "(none)");
    EXPECT_EQ(chosen({"DIGEST-MD5", "LOGIN"}), "LOGIN");
    EXPECT_EQ(chosen({}), "(none)");
}

TEST(SaslChoose, FirstPreferredThatTheServerOffers) {
    EXPECT_EQ(chosen(everything, {"DIGEST-MD5", "PLAIN"}), "DIGEST-MD5");
    EXPECT_EQ(chosen({"PLAIN", "LOGIN"}, {"SCRAM-SHA-256", "LOGIN", "PLAIN"}), "LOGIN");
    EXPECT_EQ(chosen(everything, {"XOAUTH2"}), "XOAUTH2");
    EXPECT_EQ(chosen(everything, {"OAUTHBEARER"}), "OAUTHBEARER");
    EXPECT_EQ(chosen({"PLAIN"}, {"LOGIN"}), "(none)");  // a preference is not a hint
}

TEST(SaslChoose, PreferenceSkipsWhatIsNotImplemented) {
    EXPECT_EQ(chosen(everything, {"GSSAPI", "SCRAM-SHA-1"}), "SCRAM-SHA-1");
    EXPECT_EQ(chosen(everything, {"GSSAPI"}), "(none)");
}

TEST(SaslChoose, NamesCompareWithoutCase) {
    EXPECT_EQ(chosen(everything, {"cram-md5"}), "CRAM-MD5");
    EXPECT_EQ(chosen({"scram-sha-1", "plain"}), "SCRAM-SHA-1");
}

TEST(SaslChoose, HostAndPortReachOAuthBearerAndDigestMd5) {
    auto bearer = choose(everything, Credentials{"u", "token", ""},
                         std::vector<std::string>{"OAUTHBEARER"}, "mail.example.org", 587);
    EXPECT_EQ(bearer->start(),
              "n,a=u,\x01host=mail.example.org\x01port=587\x01"
              "auth=Bearer token\x01\x01");
    auto digest = choose(everything, credentials, std::vector<std::string>{"DIGEST-MD5"},
                         "mail.example.org", 587);
    (void)digest->start();
    const std::string response =
        digest->step(R"(nonce="n",qop="auth",algorithm=md5-sess,charset=utf-8)");
    EXPECT_NE(response.find(R"(,digest-uri="smtp/mail.example.org",)"), std::string::npos)
        << response;
}

TEST(SaslChoose, DefaultArguments) {
    auto m = choose({"PLAIN"}, credentials);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->start(), std::string("\0user@example.org\0pw", 20));
}
