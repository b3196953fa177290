#include <missive/dkim/signer.hpp>
#include <missive/error.hpp>
#include <missive/mime/builder.hpp>
#include <missive/mime/serializer.hpp>

#include "support/dkim.hpp"
#include "support/throws.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

using missive::errc;
using missive::dkim::Canonicalization;
using missive::dkim::canonicalize_header;
using missive::dkim::HashedMessage;
using missive::dkim::MessageHasher;
using missive::dkim::PrivateKey;
using missive::dkim::Signer;
using missive::dkim::SignerOptions;
using missive::test::throws;
using missive::test::dkim::rfc8463_ed25519_pem;
using missive::test::dkim::rfc8463_message;
using missive::test::dkim::rfc8463_rsa_pem;
using missive::test::dkim::tags;
using missive::test::dkim::without_b;

namespace {

constexpr auto simple = Canonicalization::simple;
constexpr auto relaxed = Canonicalization::relaxed;

const auto rfc_time = std::chrono::system_clock::time_point(std::chrono::seconds(1528637909));

// The options of the RFC 8463 A.3 signatures.
SignerOptions rfc_options(std::string selector) {
    return {.domain = "football.example.com",
            .selector = std::move(selector),
            .headers = {"from", "to", "subject", "date", "message-id"},
            .oversign = std::vector<std::string>{"from", "subject", "date"},
            .identity = "@football.example.com",
            .timestamp = rfc_time};
}

PrivateKey ed25519_key() {
    return PrivateKey::from_pem(rfc8463_ed25519_pem());
}

std::string sign_one(const Signer& signer, std::string_view message) {
    return missive::dkim::sign(message, {&signer, 1});
}

// RFC 8463 A.3, as the RFC prints it (relaxed canonicalization makes the folds irrelevant).
constexpr std::string_view rfc_ed25519_field =
    "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
    " d=football.example.com; i=@football.example.com;\r\n"
    " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
    " subject : date : message-id : from : subject : date;\r\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n"
    " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==";

constexpr std::string_view rfc_rsa_field =
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
    " d=football.example.com; i=@football.example.com;\r\n"
    " q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r\n"
    " date : message-id : from : subject : date;\r\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    " b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r\n"
    " DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r\n"
    " dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=";

void expect_same_as_rfc(const std::string& field, std::string_view rfc) {
    ASSERT_TRUE(field.ends_with("\r\n"));
    EXPECT_EQ(tags(field).at("b"), tags(rfc).at("b"));
    EXPECT_EQ(tags(field).at("bh"), tags(rfc).at("bh"));
    // Everything but b= is what the RFC signed, to the octet after relaxed canonicalization.
    EXPECT_EQ(canonicalize_header(without_b(field), relaxed),
              canonicalize_header(without_b(rfc), relaxed));
}

TEST(DkimSigner, ReproducesRfc8463Ed25519SignatureExactly) {
    const Signer signer(ed25519_key(), rfc_options("brisbane"));
    expect_same_as_rfc(sign_one(signer, rfc8463_message), rfc_ed25519_field);
}

TEST(DkimSigner, ReproducesRfc8463RsaSignatureExactly) {
    // RSASSA-PKCS1-v1_5 is deterministic too.
    const Signer signer(PrivateKey::from_pem(std::string(rfc8463_rsa_pem)), rfc_options("test"));
    expect_same_as_rfc(sign_one(signer, rfc8463_message), rfc_rsa_field);
}

TEST(DkimSigner, BothSignaturesInOnePass) {
    const std::vector<Signer> signers{
        Signer(ed25519_key(), rfc_options("brisbane")),
        Signer(PrivateKey::from_pem(std::string(rfc8463_rsa_pem)), rfc_options("test"))};
    const std::string fields = missive::dkim::sign(rfc8463_message, signers);
    const std::size_t second = fields.find("DKIM-Signature:", 1);
    ASSERT_NE(second, std::string::npos);
    expect_same_as_rfc(fields.substr(0, second), rfc_ed25519_field);
    expect_same_as_rfc(fields.substr(second), rfc_rsa_field);
}

TEST(DkimSigner, WritesEveryTagAndFoldsAt78) {
    SignerOptions o = rfc_options("brisbane");
    o.expiration = rfc_time + std::chrono::hours(24 * 7);
    o.header_canonicalization = simple;
    o.body_canonicalization = simple;
    const std::string field = sign_one(Signer(ed25519_key(), o), rfc8463_message);
    const auto t = tags(field);
    EXPECT_EQ(t.at("v"), "1");
    EXPECT_EQ(t.at("a"), "ed25519-sha256");
    EXPECT_EQ(t.at("c"), "simple/simple");
    EXPECT_EQ(t.at("d"), "football.example.com");
    EXPECT_EQ(t.at("i"), "@football.example.com");
    EXPECT_EQ(t.at("q"), "dns/txt");
    EXPECT_EQ(t.at("s"), "brisbane");
    EXPECT_EQ(t.at("t"), "1528637909");
    EXPECT_EQ(t.at("x"), "1529242709");
    EXPECT_EQ(t.at("h"), "from:to:subject:date:message-id:from:subject:date");
    EXPECT_EQ(t.count("l"), 0U);  // no l=: a body cannot be extended under the signature
    std::size_t at = 0;
    while (at < field.size()) {
        const std::size_t end = field.find("\r\n", at);
        ASSERT_NE(end, std::string::npos);
        EXPECT_LE(end - at, 78U) << field.substr(at, end - at);
        at = end + 2;
    }
}

TEST(DkimSigner, DefaultHeadersAreOverSignedIncludingAbsentOnes) {
    SignerOptions o{.domain = "example.org", .selector = "s1"};
    const Signer signer(ed25519_key(), o);
    const std::string field =
        sign_one(signer,
                 "From: a@example.org\r\nTo: b@example.com\r\n"
                 "To: c@example.com\r\nSubject: x\r\nX-Other: y\r\n\r\nhi\r\n");
    // Each present name as often as it occurs, then every default name once more, so that no
    // field of those names can be added, not even one the message does not have.
    EXPECT_EQ(tags(field).at("h"),
              "From:To:To:Subject:From:To:Cc:Subject:Date:Message-ID:MIME-Version:Content-Type:"
              "Content-Transfer-Encoding:Reply-To:In-Reply-To:References:Sender:List-Id:"
              "List-Help:List-Unsubscribe:List-Unsubscribe-Post:List-Subscribe:List-Post:"
              "List-Owner:List-Archive");
    EXPECT_EQ(tags(field).count("t"), 0U);
    EXPECT_EQ(tags(field).count("i"), 0U);
}

TEST(DkimSigner, NoOverSigningWhenAskedAndNamesAreMatchedWithoutCase) {
    SignerOptions o{.domain = "Example.ORG",
                    .selector = "S1",
                    .headers = {"FROM", "subject", "from"},
                    .oversign = std::vector<std::string>{}};
    const Signer signer(ed25519_key(), o);
    EXPECT_EQ(signer.options().domain, "example.org");
    EXPECT_EQ(signer.options().selector, "s1");
    const std::string field = sign_one(signer, "from: a@example.org\r\nSUBJECT: x\r\n\r\nhi\r\n");
    EXPECT_EQ(tags(field).at("h"), "FROM:subject");
    EXPECT_EQ(tags(field).at("d"), "example.org");
}

TEST(DkimSigner, TheStreamedMessageIsTheOneThatWasHashed) {
    const auto message = missive::mime::Builder()
                             .from("Ada <ada@example.org>")
                             .to("bob@example.com")
                             .subject("Grüße")
                             .text("Hello\n\n\n")
                             .attach(std::string(300000, 'z'), "z.bin")
                             .build();
    const missive::mime::SerializeOptions fixed{
        .date = std::chrono::system_clock::time_point(std::chrono::seconds(1790000000)),
        .message_id = "<id@example.org>"};
    const std::vector<Signer> signers{
        Signer(ed25519_key(), {.domain = "example.org", .selector = "a"}),
        Signer(ed25519_key(), {.domain = "example.org",
                               .selector = "b",
                               .header_canonicalization = simple,
                               .body_canonicalization = simple})};
    missive::mime::Serializer serializer(message, fixed);
    const std::string fields = missive::dkim::sign(serializer, signers);
    std::string text;
    for (auto chunk = serializer.next(); !chunk.empty(); chunk = serializer.next()) {
        text += chunk;
    }
    EXPECT_EQ(serializer.size(), text.size());
    // Ed25519 is deterministic: signing the text that came out gives the same fields.
    EXPECT_EQ(missive::dkim::sign(text, signers), fields);
    EXPECT_EQ(fields.find("DKIM-Signature:", 1) != std::string::npos, true);

    missive::mime::Serializer late(message, fixed);
    (void)late.next();
    EXPECT_TRUE(throws([&] { (void)missive::dkim::sign(late, signers); }, errc::invalid_input,
                       "Serializer::size() must come before next()"));
}

TEST(DkimSigner, ChunkingOfTheMessageDoesNotMatter) {
    const std::string message =
        "From: a@example.org\r\nSubject: folded\r\n  twice \r\n\there\r\nTo: b@example.com\r\n"
        "\r\n  body  \r\n\r\nline\t \r\n\r\n\r\n";
    auto hash = [](const std::vector<std::string_view>& pieces) {
        MessageHasher h({simple, relaxed});
        for (const auto p : pieces) {
            h.update(p);
        }
        return h.finish();
    };
    const HashedMessage whole = hash({message});
    for (std::size_t i = 0; i <= message.size(); ++i) {
        for (std::size_t j = i; j <= message.size(); j += 7) {
            const std::string_view m(message);
            const HashedMessage cut = hash({m.substr(0, i), m.substr(i, j - i), m.substr(j)});
            ASSERT_EQ(cut.header, whole.header) << i << ' ' << j;
            ASSERT_EQ(cut.simple_body, whole.simple_body) << i << ' ' << j;
            ASSERT_EQ(cut.relaxed_body, whole.relaxed_body) << i << ' ' << j;
        }
    }
}

TEST(DkimSigner, LineBreaksAreSignedAsTheWireCarriesThem) {
    const Signer relaxed_signer(ed25519_key(), {.domain = "example.org", .selector = "s"});
    const Signer simple_signer(ed25519_key(), {.domain = "example.org",
                                               .selector = "s",
                                               .header_canonicalization = simple,
                                               .body_canonicalization = simple});
    const std::string crlf = "From: a@example.org\r\nSubject: x\r\n y\r\n\r\nl1\r\nl2\r\n";
    const std::string lf = "From: a@example.org\nSubject: x\n y\n\nl1\nl2";
    const std::string cr = "From: a@example.org\rSubject: x\r y\r\rl1\rl2\r";
    for (const Signer* s : {&relaxed_signer, &simple_signer}) {
        EXPECT_EQ(sign_one(*s, lf), sign_one(*s, crlf));
        EXPECT_EQ(sign_one(*s, cr), sign_one(*s, crlf));
    }
}

TEST(DkimSigner, RefusesMessagesItWouldBreak) {
    SignerOptions o{.domain = "example.org", .selector = "s", .require_alignment = true};
    const Signer signer(ed25519_key(), o);
    EXPECT_TRUE(throws([&] { (void)sign_one(signer, "To: b@example.com\r\n\r\nhi\r\n"); },
                       errc::invalid_input,
                       "DKIM: the message has no From field (RFC 5322 3.6 requires one, and DKIM "
                       "signs it)"));
    EXPECT_TRUE(throws(
        [&] { (void)sign_one(signer, "From: a@example.org\r\nFROM: b@example.org\r\n\r\nhi\r\n"); },
        errc::invalid_input,
        "DKIM: the message has 2 From fields; RFC 5322 3.6 allows one, and a verifier could not "
        "tell which was signed"));
    EXPECT_TRUE(throws([&] { (void)sign_one(signer, "From: x@evil.example\r\n\r\nhi\r\n"); },
                       errc::invalid_input,
                       "DKIM: From address 'x@evil.example' is not in the signing domain "
                       "example.org (alignment was asked for)"));
    EXPECT_TRUE(throws(
        [&] { (void)sign_one(signer, "From: a@example.org, x@notexample.org\r\n\r\nhi\r\n"); },
        errc::invalid_input,
        "DKIM: From address 'x@notexample.org' is not in the signing domain example.org "
        "(alignment was asked for)"));
    EXPECT_TRUE(throws([&] { (void)sign_one(signer, "From: <<<\r\n\r\nhi\r\n"); },
                       errc::invalid_input, "DKIM: From: address \"<<<\": missing @ at offset 1"));
    EXPECT_TRUE(throws([&] { (void)sign_one(signer, "From: a@example.org\r\nbroken\r\n\r\n"); },
                       errc::invalid_input, "DKIM: header line 2 is not a field: 'broken'"));
    // Aligned: the domain itself, or one under it, in any case.
    EXPECT_NO_THROW((void)sign_one(signer, "From: A <a@Mail.Example.org>\r\n\r\nhi\r\n"));
    // Without alignment asked for, another domain is signed.
    const Signer any(ed25519_key(), {.domain = "example.org", .selector = "s"});
    EXPECT_NO_THROW((void)sign_one(any, "From: x@other.example\r\n\r\nhi\r\n"));
}

TEST(DkimSigner, RefusesBadOptionsWhenMade) {
    const auto make = [](SignerOptions o) { return [o] { (void)Signer(ed25519_key(), o); }; };
    EXPECT_TRUE(
        throws(make({.domain = "exa mple.org", .selector = "s"}), errc::config,
               "DKIM domain: domain \"exa mple.org\": has a character a domain may not have"));
    EXPECT_TRUE(throws(make({.domain = "localhost", .selector = "s"}), errc::config,
                       "DKIM domain 'localhost' is not a domain name (labels of letters, digits "
                       "and hyphens separated by dots)"));
    EXPECT_TRUE(throws(make({.domain = "example.org", .selector = "a;b"}), errc::config,
                       "DKIM selector 'a;b' is not a selector (RFC 6376 3.1: letters, digits and "
                       "hyphens, in labels separated by dots)"));
    EXPECT_TRUE(throws(make({.domain = "example.org", .selector = ""}), errc::config,
                       "DKIM selector '' is not a selector (RFC 6376 3.1: letters, digits and "
                       "hyphens, in labels separated by dots)"));
    EXPECT_TRUE(throws(make({.domain = "example.org", .selector = "s", .headers = {"To"}}),
                       errc::config, "DKIM: the signed headers must include From (RFC 6376 5.4)"));
    EXPECT_TRUE(
        throws(make({.domain = "example.org", .selector = "s", .headers = {"From", "Bad Name"}}),
               errc::config, "DKIM: 'Bad Name' in the signed headers is no field name"));
    EXPECT_TRUE(throws(make({.domain = "example.org",
                             .selector = "s",
                             .headers = {"From"},
                             .oversign = std::vector<std::string>{"To"}}),
                       errc::config,
                       "DKIM: 'To' is to be over-signed but is not in the signed headers"));
    EXPECT_TRUE(throws(make({.domain = "example.org", .selector = "s", .identity = "a@evil.org"}),
                       errc::config,
                       "DKIM identity (i=) 'a@evil.org' is not within the signing domain "
                       "example.org (RFC 6376 3.5)"));
    EXPECT_TRUE(throws(make({.domain = "example.org", .selector = "s", .identity = "a;b@x.org"}),
                       errc::config,
                       "DKIM identity (i=) 'a;b@x.org' is not [local-part]@domain of plain "
                       "characters"));
    EXPECT_TRUE(throws(make({.domain = "example.org",
                             .selector = "s",
                             .timestamp = rfc_time,
                             .expiration = rfc_time}),
                       errc::config,
                       "DKIM: the expiration (x=) must come after the timestamp (t=) (RFC 6376 "
                       "3.5)"));
    // A subdomain identity is fine, and its domain is written in lower case.
    const Signer ok(ed25519_key(),
                    {.domain = "example.org", .selector = "s", .identity = "Ada@Mail.Example.org"});
    EXPECT_EQ(ok.options().identity, "Ada@mail.example.org");
}

TEST(DkimSigner, UnicodeDomainIsWrittenAsALabels) {
    const Signer signer(ed25519_key(), {.domain = "bücher.example", .selector = "s"});
    EXPECT_EQ(signer.options().domain, "xn--bcher-kva.example");
}

TEST(DkimSigner, SignsWithTheBodyHashItNeeds) {
    const Signer signer(ed25519_key(), {.domain = "example.org", .selector = "s"});
    MessageHasher hasher({simple});
    hasher.update("From: a@example.org\r\n\r\nx\r\n");
    const HashedMessage hashed = hasher.finish();
    EXPECT_TRUE(throws([&] { (void)signer.sign(hashed); }, errc::invalid_input,
                       "DKIM: the message was hashed without the relaxed body canonicalization "
                       "this signer uses"));
}

TEST(DkimSigner, HeaderTooLargeIsRefused) {
    MessageHasher hasher({relaxed});
    const std::string line = "X-Filler: " + std::string(900, 'a') + "\r\n";
    EXPECT_TRUE(throws(
        [&] {
            for (int i = 0; i < 2000; ++i) {
                hasher.update(line);
            }
        },
        errc::invalid_input, "the message's header passes 1024 KiB"));
}

}  // namespace
