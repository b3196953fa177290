#include <missive/sasl/scram.hpp>

#include "support/throws.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

using missive::errc;
using missive::sasl::Credentials;
using missive::sasl::make_scram;
using missive::sasl::Scram;
using missive::sasl::ScramHash;
using missive::test::throws;

namespace {

// RFC 5802 5
constexpr const char* rfc5802_nonce = "fyko+d2lbbFgONRv9qkxdawL";
constexpr const char* rfc5802_server_first =
    "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
constexpr const char* rfc5802_client_final =
    "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
constexpr const char* rfc5802_server_final = "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=";

Scram rfc5802(const std::string& password = "pencil") {
    return Scram(Credentials{"user", password, ""}, ScramHash::sha1, rfc5802_nonce);
}

}  // namespace

TEST(SaslScram, Sha1Rfc5802Example) {
    Scram m = rfc5802();
    EXPECT_EQ(m.name(), "SCRAM-SHA-1");
    EXPECT_EQ(m.start(), "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
    EXPECT_EQ(m.step(rfc5802_server_first), rfc5802_client_final);
    EXPECT_FALSE(m.verified());
    EXPECT_EQ(m.step(rfc5802_server_final), "");
    EXPECT_TRUE(m.verified());
}

TEST(SaslScram, Sha256Rfc7677Example) {
    auto m =
        make_scram(Credentials{"user", "pencil", ""}, ScramHash::sha256, "rOprNGfwEbeRWgbNEkqO");
    EXPECT_EQ(m->name(), "SCRAM-SHA-256");
    EXPECT_EQ(m->start(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    EXPECT_EQ(m->step("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                      "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
              "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
              "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    EXPECT_FALSE(m->verified());
    EXPECT_EQ(m->step("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="), "");
    EXPECT_TRUE(m->verified());
}

TEST(SaslScram, WrongServerSignatureFails) {
    Scram m = rfc5802();
    (void)m.start();
    (void)m.step(rfc5802_server_first);
    EXPECT_TRUE(throws([&] { (void)m.step("v=AAAAAAAAAAAAAAAAAAAAAAAAAAA="); }, errc::auth_failed,
                       "SCRAM-SHA-1: the server's signature is wrong: it does not know the "
                       "password"));
    EXPECT_FALSE(m.verified());
    // Nothing after a failure is accepted, not even the right signature.
    EXPECT_TRUE(throws([&] { (void)m.step(rfc5802_server_final); }, errc::auth_failed,
                       "SCRAM-SHA-1: challenge out of turn (SCRAM has two)"));
    EXPECT_FALSE(m.verified());
}

TEST(SaslScram, ServerSignatureForAnotherPasswordFails) {
    // The server-final of the RFC is what a server knowing "pencil" sends; we know "pencil2".
    Scram m = rfc5802("pencil2");
    (void)m.start();
    (void)m.step(rfc5802_server_first);
    EXPECT_TRUE(throws([&] { (void)m.step(rfc5802_server_final); }, errc::auth_failed,
                       "SCRAM-SHA-1: the server's signature is wrong: it does not know the "
                       "password"));
}

TEST(SaslScram, ServerErrorFails) {
    Scram m = rfc5802();
    (void)m.start();
    (void)m.step(rfc5802_server_first);
    EXPECT_TRUE(throws([&] { (void)m.step("e=invalid-proof"); }, errc::auth_failed,
                       "SCRAM-SHA-1: the server refused: invalid-proof"));
    EXPECT_FALSE(m.verified());
}

TEST(SaslScram, ServerTextInMessagesIsMadePrintable) {
    Scram m = rfc5802();
    (void)m.start();
    (void)m.step(rfc5802_server_first);
    EXPECT_TRUE(throws([&] { (void)m.step("e=bad\r\nInjected: yes"); }, errc::auth_failed,
                       "SCRAM-SHA-1: the server refused: bad??Injected: yes"));
}

TEST(SaslScram, MalformedServerFinalFails) {
    Scram m = rfc5802();
    (void)m.start();
    (void)m.step(rfc5802_server_first);
    EXPECT_TRUE(throws([&] { (void)m.step("x=1,v=rmF9pqV8S7suAoZWja4dJRkFsKQ="); },
                       errc::auth_failed,
                       "SCRAM-SHA-1: malformed server-final-message: "
                       "\"x=1,v=rmF9pqV8S7suAoZWja4dJRkFsKQ=\""));
}

TEST(SaslScram, MissingServerFinalLeavesItUnverified) {
    Scram m = rfc5802();
    (void)m.start();
    (void)m.step(rfc5802_server_first);
    EXPECT_FALSE(m.verified());  // a 235 now is refused by the session
}

TEST(SaslScram, ExtensionsAfterKnownAttributesAreIgnoredButSigned) {
    // Expected values computed with Python's hashlib over the whole server-first-message.
    Scram m = rfc5802();
    (void)m.start();
    EXPECT_EQ(m.step("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096,"
                     "x=future"),
              "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=gAYqGd/h6rjkaVuospGtDlX6SCc=");
    EXPECT_EQ(m.step("v=6HHgaGRAomWI4TaLQ7q/vtF9IHI=,x=future"), "");
    EXPECT_TRUE(m.verified());
}

TEST(SaslScram, HostileServerFirstFails) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"r=other,s=QSXCR+Q6sek8bf92,i=4096", "the server's nonce does not extend ours"},
        {"r=fyko+d2lbbFgONRv9qkxdawL,s=QSXCR+Q6sek8bf92,i=4096",
         "the server's nonce does not extend ours"},
        {"r=fyko+d2lbbFgONRv9qkxdawL\x01,s=QSXCR+Q6sek8bf92,i=4096",
         "the server's nonce does not extend ours"},
        {"r=fyko+d2lbbFgONRv9qkxdawLx,s=!!!!,i=4096", "the server's salt is not base64"},
        {"r=fyko+d2lbbFgONRv9qkxdawLx,s=,i=4096", "the server's salt is not base64"},
        {"r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=0",
         "the server's iteration count is not a positive number"},
        {"r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=04096",
         "the server's iteration count is not a positive number"},
        {"r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=-1",
         "the server's iteration count is not a positive number"},
        {"r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=",
         "the server's iteration count is not a positive number"},
        {"r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=4096x",
         "the server's iteration count is not a positive number"},
        {"r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=1000001",
         "the server's iteration count 1000001 is above the limit of 1000000"},
        {"r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=99999999999999999999",
         "the server's iteration count 99999999999999999999 is above the limit of 1000000"},
        {"m=ext,r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=4096",
         "the server requires an extension this client does not know"},
        {"s=QSXCR+Q6sek8bf92,r=fyko+d2lbbFgONRv9qkxdawLx,i=4096",
         "malformed server-first-message: \"s=QSXCR+Q6sek8bf92,r=fyko+d2lbbFgONRv9qkxdawLx,"
         "i=4096\""},
        {"r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92",
         "malformed server-first-message: "
         "\"r=fyko+d2lbbFgONRv9qkxdawLx,"
         "s=QSXCR+Q6sek8bf92\""},
        {"garbage", "malformed server-first-message: \"garbage\""},
        {"", "malformed server-first-message: \"\""},
    };
    for (const auto& c : cases) {
        Scram m = rfc5802();
        (void)m.start();
        EXPECT_TRUE(
            throws([&] { (void)m.step(c.first); }, errc::auth_failed, "SCRAM-SHA-1: " + c.second))
            << c.first;
        EXPECT_FALSE(m.verified());
    }
}

TEST(SaslScram, IterationCountsFromOneToTheLimit) {
    // Expected values computed with Python's hashlib.
    Scram one = rfc5802();
    (void)one.start();
    EXPECT_EQ(one.step("r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=1"),
              "c=biws,r=fyko+d2lbbFgONRv9qkxdawLx,p=EYLAdtnvAmfOeV0GFgRfi0b+b/8=");
    EXPECT_EQ(one.step("v=GDnY67C9/HCHxDWAsUSsEsEws30="), "");
    Scram limit = rfc5802();
    (void)limit.start();
    EXPECT_EQ(limit.step("r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=1000000"),
              "c=biws,r=fyko+d2lbbFgONRv9qkxdawLx,p=iQrfYfyndR780OERpmLLyOx4yZk=");
    EXPECT_EQ(limit.step("v=8Y3pI2kMGX+A6iP9A4oxwXc+RbU="), "");
}

TEST(SaslScram, AuthzidGoesInTheGs2Header) {
    // Expected values computed with Python's hashlib; c= is base64("n,a=admin,").
    Scram m(Credentials{"user", "pencil", "admin"}, ScramHash::sha256, "rOprNGfwEbeRWgbNEkqO");
    EXPECT_EQ(m.start(), "n,a=admin,n=user,r=rOprNGfwEbeRWgbNEkqO");
    EXPECT_EQ(m.step("r=rOprNGfwEbeRWgbNEkqOsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
              "c=bixhPWFkbWluLA==,r=rOprNGfwEbeRWgbNEkqOsrv,"
              "p=lYiMndSHlJTk3MNSmzJx4uJkNslJnf5Glc6PUAvu8ks=");
    EXPECT_EQ(m.step("v=GrNwZPAwWTL13BL57+uws6P2Z+TCjGZrJNzT+Q52hnY="), "");
    EXPECT_TRUE(m.verified());
}

TEST(SaslScram, EscapesCommaAndEqualsInNames) {
    Scram m(Credentials{"a=b,c", "pw", "x,y="}, ScramHash::sha256, "nonce");
    EXPECT_EQ(m.start(), "n,a=x=2Cy=3D,n=a=3Db=2Cc,r=nonce");
}

TEST(SaslScram, SaslprepMapsSpacesAndSoftHyphens) {
    // RFC 4013 2.1: U+00AD SOFT HYPHEN maps to nothing, so "pen\u00ADcil" is "pencil" and the
    // RFC's proof comes out; U+00A0 NO-BREAK SPACE maps to SPACE.
    Scram hyphen = rfc5802(
        "pen\xC2\xAD"
        "cil");
    (void)hyphen.start();
    EXPECT_EQ(hyphen.step(rfc5802_server_first), rfc5802_client_final);
    EXPECT_EQ(hyphen.step(rfc5802_server_final), "");
    Scram space = rfc5802(
        "pen\xC2\xA0"
        "cil");
    (void)space.start();
    EXPECT_EQ(space.step(rfc5802_server_first),
              "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=y5+fdpjyNqYUAAnm4ZS/gb95Bio=");
    EXPECT_EQ(space.step("v=UqPOjAnDSpxzASeOCJZyWFpXgFM="), "");
    // The user name too, before escaping.
    Scram user(Credentials{"us\xC2\xAD"
                           "er",
                           "pencil", ""},
               ScramHash::sha1, rfc5802_nonce);
    EXPECT_EQ(user.start(), "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
}

TEST(SaslScram, SaslprepRefusals) {
    const auto make = [](std::string user, std::string password) {
        return [user = std::move(user), password = std::move(password)] {
            Scram(Credentials{user, password, ""}, ScramHash::sha256);
        };
    };
    EXPECT_TRUE(throws(make("us\ter", "pencil"), errc::invalid_input,
                       "SCRAM-SHA-256: the user name contains a control character (SASLprep, "
                       "RFC 4013)"));
    EXPECT_TRUE(throws(make("user", "pen\x7F"), errc::invalid_input,
                       "SCRAM-SHA-256: the password contains a control character (SASLprep, RFC "
                       "4013)"));
    EXPECT_TRUE(throws(make("user", "pen\xC3"), errc::invalid_input,
                       "SCRAM-SHA-256: the password is not UTF-8 (SASLprep, RFC 4013)"));
    EXPECT_TRUE(throws(make("user", "\xC0\xAF"), errc::invalid_input,  // overlong "/"
                       "SCRAM-SHA-256: the password is not UTF-8 (SASLprep, RFC 4013)"));
    EXPECT_TRUE(throws(make("user\xEE\x80\x80", "pencil"), errc::invalid_input,  // U+E000
                       "SCRAM-SHA-256: the user name contains a prohibited character (SASLprep, "
                       "RFC 4013)"));
    EXPECT_TRUE(
        throws(make("", "pencil"), errc::invalid_input, "SCRAM-SHA-256: the user name is empty"));
    EXPECT_TRUE(throws(make("\xC2\xAD", "pencil"), errc::invalid_input,  // empty after mapping
                       "SCRAM-SHA-256: the user name is empty"));
}

TEST(SaslScram, InjectedNonceMustBePrintable) {
    EXPECT_TRUE(throws(
        [] {
            Scram(Credentials{"user", "pencil", ""}, ScramHash::sha1, "a,b");
        },
        errc::invalid_input,
        "SCRAM-SHA-1: the client nonce must be printable ASCII without \",\""));
    EXPECT_TRUE(throws(
        [] {
            Scram(Credentials{"user", "pencil", ""}, ScramHash::sha1, "a b");
        },
        errc::invalid_input,
        "SCRAM-SHA-1: the client nonce must be printable ASCII without \",\""));
}

TEST(SaslScram, RandomNonceIsFreshForEachStart) {
    Scram m(Credentials{"user", "pencil", ""}, ScramHash::sha256);
    const std::string first = m.start().value();
    const std::string second = m.start().value();
    ASSERT_EQ(first.size(), std::string("n,,n=user,r=").size() + 24);  // 18 bytes in base64
    EXPECT_EQ(first.substr(0, 12), "n,,n=user,r=");
    EXPECT_EQ(first.find_first_not_of(
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 12),
              std::string::npos);
    EXPECT_NE(first, second);
}

TEST(SaslScram, ChallengesOutOfTurnFail) {
    Scram before = rfc5802();
    EXPECT_TRUE(throws([&] { (void)before.step(rfc5802_server_first); }, errc::auth_failed,
                       "SCRAM-SHA-1: challenge out of turn (SCRAM has two)"));
    Scram after = rfc5802();
    (void)after.start();
    (void)after.step(rfc5802_server_first);
    (void)after.step(rfc5802_server_final);
    EXPECT_TRUE(throws([&] { (void)after.step(""); }, errc::auth_failed,
                       "SCRAM-SHA-1: challenge out of turn (SCRAM has two)"));
}

TEST(SaslScram, StartBeginsAgain) {
    Scram m = rfc5802();
    (void)m.start();
    (void)m.step(rfc5802_server_first);
    (void)m.step(rfc5802_server_final);
    EXPECT_TRUE(m.verified());
    EXPECT_EQ(m.start(), "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
    EXPECT_FALSE(m.verified());
    EXPECT_EQ(m.step(rfc5802_server_first), rfc5802_client_final);
    EXPECT_EQ(m.step(rfc5802_server_final), "");
    EXPECT_TRUE(m.verified());
}
