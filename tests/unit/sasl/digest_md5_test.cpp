#include <missive/sasl/digest_md5.hpp>

#include "support/throws.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

using missive::errc;
using missive::sasl::Credentials;
using missive::sasl::DigestMd5;
using missive::sasl::make_digest_md5;
using missive::test::throws;

namespace {

// RFC 2831 4, the IMAP example.
constexpr const char* rfc2831_challenge =
    "realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",qop=\"auth\",algorithm=md5-sess,"
    "charset=utf-8";
constexpr const char* rfc2831_response =
    "charset=utf-8,username=\"chris\",realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\","
    "nc=00000001,cnonce=\"OA6MHXh6VqTrRk\",digest-uri=\"imap/elwood.innosoft.com\","
    "response=d388dad90d4bbd760a152321f2143af7,qop=auth";
constexpr const char* rfc2831_rspauth = "rspauth=ea40f60335c427b5527b84dbabcdfffd";

DigestMd5 rfc2831() {
    return DigestMd5(Credentials{"chris", "secret", ""}, "elwood.innosoft.com", "OA6MHXh6VqTrRk",
                     "imap");
}

// The challenge for the other tests (Python's hashlib computed their responses).
std::string challenge(std::string_view extra = ",charset=utf-8") {
    return R"(realm="example.org",nonce="abc",qop="auth",algorithm=md5-sess)" + std::string(extra);
}

}  // namespace

TEST(SaslDigestMd5, Rfc2831Example) {
    DigestMd5 m = rfc2831();
    EXPECT_EQ(m.name(), "DIGEST-MD5");
    EXPECT_EQ(m.start(), std::nullopt);
    EXPECT_FALSE(m.verified());
    EXPECT_EQ(m.step(rfc2831_challenge), rfc2831_response);
    EXPECT_FALSE(m.verified());
    EXPECT_EQ(m.step(rfc2831_rspauth), "");
    EXPECT_TRUE(m.verified());
}

TEST(SaslDigestMd5, WrongRspauthFails) {
    DigestMd5 m = rfc2831();
    (void)m.start();
    (void)m.step(rfc2831_challenge);
    EXPECT_TRUE(throws([&] { (void)m.step("rspauth=00000000000000000000000000000000"); },
                       errc::auth_failed,
                       "DIGEST-MD5: the server's rspauth is wrong: it does not know the password"));
    EXPECT_FALSE(m.verified());
}

TEST(SaslDigestMd5, MissingRspauthFails) {
    DigestMd5 m = rfc2831();
    (void)m.start();
    (void)m.step(rfc2831_challenge);
    EXPECT_TRUE(throws([&] { (void)m.step("nonce=\"x\""); }, errc::auth_failed,
                       "DIGEST-MD5: the second challenge has no rspauth"));
}

TEST(SaslDigestMd5, SmtpDigestUriAuthzidAndNoRealm) {
    auto m = make_digest_md5(Credentials{"chris", "secret", "admin"}, "mail.example.org", "xyz");
    (void)m->start();
    EXPECT_EQ(m->step("nonce=\"abc\",qop=\"auth,auth-int,auth-conf\",charset=utf-8,"
                      "algorithm=md5-sess,maxbuf=65536"),
              "charset=utf-8,username=\"chris\",nonce=\"abc\",nc=00000001,cnonce=\"xyz\","
              "digest-uri=\"smtp/mail.example.org\",response=de13b801cb09df77088269a65e36e9e4,"
              "qop=auth,authzid=\"admin\"");
    EXPECT_EQ(m->step("rspauth=994fa0f0d4f04c2904dece48ddf49e1e"), "");
    EXPECT_TRUE(m->verified());
}

TEST(SaslDigestMd5, Latin1NamesAreHashedAsLatin1) {
    // RFC 2831 2.1.2.1: with charset=utf-8 the user goes as UTF-8 but is hashed as ISO 8859-1.
    DigestMd5 m(Credentials{"j\xC3\xBCrgen", "p\xC3\xA4ssword", ""}, "mail.example.org", "xyz");
    (void)m.start();
    EXPECT_EQ(m.step(challenge()),
              "charset=utf-8,username=\"j\xC3\xBCrgen\",realm=\"example.org\",nonce=\"abc\","
              "nc=00000001,cnonce=\"xyz\",digest-uri=\"smtp/mail.example.org\","
              "response=f4b4cf2627343f669255bc7195d00459,qop=auth");
    EXPECT_EQ(m.step("rspauth=a5d0ad91dda2b612c4c58c5e9265de84"), "");
}

TEST(SaslDigestMd5, WithoutUtf8TheNamesGoAsLatin1) {
    DigestMd5 m(Credentials{"j\xC3\xBCrgen", "p\xC3\xA4ssword", ""}, "mail.example.org", "xyz");
    (void)m.start();
    EXPECT_EQ(m.step(challenge("")),
              "username=\"j\xFCrgen\",realm=\"example.org\",nonce=\"abc\",nc=00000001,"
              "cnonce=\"xyz\",digest-uri=\"smtp/mail.example.org\","
              "response=f4b4cf2627343f669255bc7195d00459,qop=auth");
    DigestMd5 cyrillic(Credentials{"chris", "\xD0\xBF\xD0\xB0", ""}, "mail.example.org", "xyz");
    (void)cyrillic.start();
    EXPECT_TRUE(throws([&] { (void)cyrillic.step(challenge("")); }, errc::auth_failed,
                       "DIGEST-MD5: the server does not accept UTF-8, and the user name or the "
                       "password does not fit ISO 8859-1"));
}

TEST(SaslDigestMd5, NonLatin1PasswordIsHashedAsUtf8) {
    DigestMd5 m(Credentials{"chris", "\xD0\xBF\xD0\xB0\xD1\x80\xD0\xBE\xD0\xBB\xD1\x8C", ""},
                "mail.example.org", "xyz");
    (void)m.start();
    EXPECT_EQ(m.step(challenge()),
              "charset=utf-8,username=\"chris\",realm=\"example.org\",nonce=\"abc\","
              "nc=00000001,cnonce=\"xyz\",digest-uri=\"smtp/mail.example.org\","
              "response=cf12552549bfa116c58fbdde2e435715,qop=auth");
}

TEST(SaslDigestMd5, QuotesAndBackslashesAreEscaped) {
    DigestMd5 m(Credentials{"a\"b\\c", "pw", ""}, "mail.example.org", "xyz");
    (void)m.start();
    EXPECT_EQ(m.step(challenge()),
              "charset=utf-8,username=\"a\\\"b\\\\c\",realm=\"example.org\",nonce=\"abc\","
              "nc=00000001,cnonce=\"xyz\",digest-uri=\"smtp/mail.example.org\","
              "response=af2a1fe4d8ffeffafcbe4883caa450fe,qop=auth");
}

TEST(SaslDigestMd5, ParsesLenientSpacingQuotedPairsAndSeveralRealms) {
    // White space around "=" and ",", empty list elements, a quoted-pair, a second realm and an
    // upper-case directive name: the same response as the RFC's.
    DigestMd5 m = rfc2831();
    (void)m.start();
    EXPECT_EQ(
        m.step(" realm = \"elwood.innosoft.com\" ,, realm=\"other\", NONCE=\"OA6MG9tEQGm2hh\","
               "qop=\"auth\",algorithm=\"md5-sess\",charset=\"utf-8\",cipher=\"rc4\\\"x\","),
        rfc2831_response);
}

TEST(SaslDigestMd5, MalformedChallengesFail) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"(realm="x",qop="auth",algorithm=md5-sess)", "the challenge has no nonce"},
        {R"(nonce="a",nonce="b",algorithm=md5-sess)", "the challenge has nonce more than once"},
        {R"(nonce="a",qop="auth-int",algorithm=md5-sess)", "the server does not offer qop=auth"},
        {R"(nonce="a",qop="auth")", "the challenge's algorithm is not md5-sess"},
        {R"(nonce="a",algorithm=md5)", "the challenge's algorithm is not md5-sess"},
        {R"(nonce="a",algorithm=md5-sess,algorithm=md5-sess)",
         "the challenge has algorithm more than once"},
        {R"(nonce="a",algorithm=md5-sess,charset=iso-8859-1)",
         "the challenge's charset is not utf-8"},
        {R"(nonce="a,algorithm=md5-sess)", "unterminated quoted string in the challenge"},
        {R"(nonce="a"x,algorithm=md5-sess)",
         R"(malformed challenge: "nonce="a"x,algorithm=md5-sess")"},
        {"nonce", R"(malformed challenge: "nonce")"},
        {"=a", R"(malformed challenge: "=a")"},
        {"", "the challenge has no nonce"},
    };
    for (const auto& c : cases) {
        DigestMd5 m = rfc2831();
        (void)m.start();
        EXPECT_TRUE(
            throws([&] { (void)m.step(c.first); }, errc::auth_failed, "DIGEST-MD5: " + c.second))
            << c.first;
    }
}

TEST(SaslDigestMd5, ChallengesOutOfTurnFail) {
    DigestMd5 m = rfc2831();
    EXPECT_TRUE(throws([&] { (void)m.step(rfc2831_challenge); }, errc::auth_failed,
                       "DIGEST-MD5: challenge out of turn (DIGEST-MD5 has two)"));
    (void)m.start();
    (void)m.step(rfc2831_challenge);
    (void)m.step(rfc2831_rspauth);
    EXPECT_TRUE(throws([&] { (void)m.step(rfc2831_rspauth); }, errc::auth_failed,
                       "DIGEST-MD5: challenge out of turn (DIGEST-MD5 has two)"));
}

TEST(SaslDigestMd5, RandomCnonceIsFreshForEachStart) {
    DigestMd5 m(Credentials{"chris", "secret", ""}, "mail.example.org");
    const auto cnonce = [&] {
        (void)m.start();
        const std::string r = m.step(challenge());
        const std::size_t at = r.find("cnonce=\"") + 8;
        return r.substr(at, r.find('"', at) - at);
    };
    const std::string first = cnonce();
    EXPECT_EQ(first.size(), 16U);  // 12 bytes in base64
    EXPECT_NE(first, cnonce());
}
