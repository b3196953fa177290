#include <missive/error.hpp>
#include <missive/sasl/mechanisms.hpp>
#include <missive/util/base64.hpp>

#include <gtest/gtest.h>

using missive::errc;
using missive::Error;
using missive::util::base64_decode;
using missive::util::base64_encode;
using namespace missive::sasl;

namespace {

Credentials creds(std::string user, std::string password, std::string authzid = {}) {
    return Credentials{std::move(user), std::move(password), std::move(authzid)};
}

}  // namespace

TEST(Sasl, Plain) {
    EXPECT_EQ(make_plain(creds("tim", "tanstaaftanstaaf"))->start(),
              std::string("\0tim\0tanstaaftanstaaf", 21));
    EXPECT_EQ(make_plain(creds("tim", "pw", "admin"))->start(), std::string("admin\0tim\0pw", 12));
}

TEST(Sasl, LoginAnswersByOrder) {
    auto m = make_login(creds("alice", "Secret123"));
    EXPECT_EQ(m->start(), std::nullopt);
    EXPECT_EQ(m->step("Username:"), "alice");
    EXPECT_EQ(m->step("Password:"), "Secret123");
    EXPECT_THROW(m->step("Again:"), Error);
}

TEST(Sasl, CramMd5Rfc2195) {
    auto m = make_cram_md5(creds("tim", "tanstaaftanstaaf"));
    EXPECT_EQ(m->start(), std::nullopt);
    EXPECT_EQ(m->step("<1896.697170952@postoffice.reston.mci.net>"),
              "tim b913a602c7eda7a495b4e6e7334d3890");
}

TEST(Sasl, ScramSha1Rfc5802) {
    auto m = make_scram(creds("user", "pencil"), ScramHash::sha1, "fyko+d2lbbFgONRv9qkxdawL");
    EXPECT_EQ(m->start(), "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
    EXPECT_EQ(m->step("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"),
              "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
    EXPECT_FALSE(m->verified());
    EXPECT_EQ(m->step("v=rmF9pqV8S7suAoZWja4dJRkFsKQ="), "");
    EXPECT_TRUE(m->verified());
}

TEST(Sasl, ScramSha256Rfc7677) {
    auto m = make_scram(creds("user", "pencil"), ScramHash::sha256, "rOprNGfwEbeRWgbNEkqO");
    EXPECT_EQ(m->name(), "SCRAM-SHA-256");
    EXPECT_EQ(m->start(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    EXPECT_EQ(
        m->step("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,"
                "i=4096"),
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    EXPECT_EQ(m->step("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="), "");
    EXPECT_TRUE(m->verified());
}

TEST(Sasl, ScramRejectsAWrongServerSignature) {
    auto m = make_scram(creds("user", "pencil"), ScramHash::sha1, "fyko+d2lbbFgONRv9qkxdawL");
    (void)m->start();
    (void)m->step("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
    try {
        (void)m->step("v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::auth_failed);
        EXPECT_STREQ(e.what(),
                     "SCRAM-SHA-1: the server's signature is wrong: it does not know the password");
    }
    EXPECT_FALSE(m->verified());
}

TEST(Sasl, ScramRejectsHostileServerFirst) {
    for (const char* bad :
         {"r=other,s=QSXCR+Q6sek8bf92,i=4096",
          "r=fyko+d2lbbFgONRv9qkxdawL,s=QSXCR+Q6sek8bf92,i=4096",
          "r=fyko+d2lbbFgONRv9qkxdawLx,s=!!,i=4096",
          "r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=99999999",
          "m=ext,r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=1", "garbage"}) {
        auto m = make_scram(creds("user", "pencil"), ScramHash::sha1, "fyko+d2lbbFgONRv9qkxdawL");
        (void)m->start();
        EXPECT_THROW((void)m->step(bad), Error) << bad;
    }
}

TEST(Sasl, ScramEscapesNames) {
    auto m = make_scram(creds("a=b,c", "pw", "x,y"), ScramHash::sha256, "nonce");
    EXPECT_EQ(m->start(), "n,a=x=2Cy,n=a=3Db=2Cc,r=nonce");
}

TEST(Sasl, XOauth2) {
    auto m = make_xoauth2(
        creds("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"));
    EXPECT_EQ(m->start(),
              "user=someuser@example.com\x01"
              "auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01");
    EXPECT_EQ(m->step("{\"status\":\"401\",\"schemes\":\"Bearer\"}"), "");
    EXPECT_EQ(dynamic_cast<OAuth&>(*m).error_json(), "{\"status\":\"401\",\"schemes\":\"Bearer\"}");
}

TEST(Sasl, OauthBearerRfc7628) {
    auto m =
        make_oauthbearer(creds("user@example.com", "vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg=="),
                         "server.example.com", 143);
    EXPECT_EQ(m->start(),
              "n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
              "auth=Bearer vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==\x01\x01");
    EXPECT_EQ(m->step("{\"status\":\"invalid_token\"}"), "\x01");
    EXPECT_EQ(dynamic_cast<OAuth&>(*m).error_json(), "{\"status\":\"invalid_token\"}");
}

TEST(Sasl, DigestMd5Rfc2831) {
    auto m =
        make_digest_md5(creds("chris", "secret"), "elwood.innosoft.com", "OA6MHXh6VqTrRk", "imap");
    EXPECT_EQ(m->start(), std::nullopt);
    const std::string response = m->step(
        "realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",qop=\"auth\",algorithm=md5-sess,"
        "charset=utf-8");
    EXPECT_NE(response.find("response=d388dad90d4bbd760a152321f2143af7"), std::string::npos)
        << response;
    EXPECT_NE(response.find("digest-uri=\"imap/elwood.innosoft.com\""), std::string::npos);
    EXPECT_FALSE(m->verified());
    EXPECT_EQ(m->step("rspauth=ea40f60335c427b5527b84dbabcdfffd"), "");
    EXPECT_TRUE(m->verified());
    auto wrong =
        make_digest_md5(creds("chris", "secret"), "elwood.innosoft.com", "OA6MHXh6VqTrRk", "imap");
    (void)wrong->step("realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",qop=\"auth\"");
    EXPECT_THROW((void)wrong->step("rspauth=00000000000000000000000000000000"), Error);
}

TEST(Sasl, ChooseStrongestOrPreferred) {
    const Credentials c = creds("u", "p");
    const std::vector<std::string> dovecot = {"PLAIN",      "LOGIN",       "CRAM-MD5",
                                              "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"};
    EXPECT_EQ(choose(dovecot, c, {}, "h", 25)->name(), "SCRAM-SHA-256");
    EXPECT_EQ(choose({"LOGIN", "PLAIN"}, c, {}, "h", 25)->name(), "PLAIN");
    EXPECT_EQ(choose({"DIGEST-MD5", "XOAUTH2"}, c, {}, "h", 25), nullptr);
    const std::vector<std::string> prefer = {"XOAUTH2", "DIGEST-MD5", "PLAIN"};
    EXPECT_EQ(choose(dovecot, c, prefer, "h", 25)->name(), "DIGEST-MD5");
    const std::vector<std::string> lower = {"cram-md5"};
    EXPECT_EQ(choose(dovecot, c, lower, "h", 25)->name(), "CRAM-MD5");
    EXPECT_EQ(choose({"PLAIN"}, c, std::vector<std::string>{"LOGIN"}, "h", 25), nullptr);
}
