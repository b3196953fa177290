#include <missive/dkim/key.hpp>
#include <missive/error.hpp>

#include "support/dkim.hpp"
#include "support/throws.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

using missive::errc;
using missive::dkim::dns_txt_record;
using missive::dkim::dns_txt_value;
using missive::dkim::KeyType;
using missive::dkim::PrivateKey;
using missive::test::throws;
using missive::test::dkim::rfc8463_ed25519_pem;
using missive::test::dkim::rfc8463_ed25519_public;

namespace {

// A key made by OpenSSL itself, as PEM (PKCS#8).
std::string openssl_pem(const char* type, std::size_t bits) {
    EVP_PKEY* key = bits == 0 ? EVP_PKEY_Q_keygen(nullptr, nullptr, type)
                              : EVP_PKEY_Q_keygen(nullptr, nullptr, type, bits);
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    EVP_PKEY_free(key);
    return pem;
}

TEST(DkimKey, Rfc8463Ed25519KeyGivesThePublishedPublicKey) {
    const PrivateKey key = PrivateKey::from_pem(rfc8463_ed25519_pem());
    EXPECT_EQ(key.type(), KeyType::ed25519);
    EXPECT_EQ(key.bits(), 256);
    EXPECT_EQ(key.public_key(), rfc8463_ed25519_public);
    EXPECT_EQ(dns_txt_record(key, "brisbane", "football.example.com"),
              "brisbane._domainkey.football.example.com. IN TXT \"v=DKIM1; k=ed25519; "
              "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"");
}

TEST(DkimKey, Rfc8463RsaKeyGivesThePublishedPublicKey) {
    const PrivateKey key = PrivateKey::from_pem(std::string(missive::test::dkim::rfc8463_rsa_pem));
    EXPECT_EQ(key.type(), KeyType::rsa);
    EXPECT_EQ(key.bits(), 1024);
    // RFC 8463 A.2, test._domainkey.football.example.com
    EXPECT_EQ(
        dns_txt_value(key),
        "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08"
        "a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMK"
        "rM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB");
}

TEST(DkimKey, GeneratedKeysRoundTripThroughPem) {
    for (const auto& [type, bits] : {std::pair{KeyType::ed25519, 0}, {KeyType::rsa, 1024}}) {
        const PrivateKey key = PrivateKey::generate(type, bits);
        const PrivateKey again = PrivateKey::from_pem(key.to_pem());
        EXPECT_EQ(again.type(), type);
        EXPECT_EQ(again.public_key(), key.public_key());
        EXPECT_TRUE(key.to_pem().reveal().starts_with("-----BEGIN PRIVATE KEY-----\n"));
    }
}

TEST(DkimKey, LongRecordIsCutIntoStringsOf255) {
    const PrivateKey key = PrivateKey::generate(KeyType::rsa, 2048);
    const std::string record = dns_txt_record(key, "sel", "Example.org");
    const std::string prefix = "sel._domainkey.example.org. IN TXT ";
    ASSERT_TRUE(record.starts_with(prefix));
    std::string joined;
    std::size_t strings = 0;
    std::size_t at = prefix.size();
    while (at < record.size()) {
        ASSERT_EQ(record[at], '"');
        const std::size_t end = record.find('"', at + 1);
        ASSERT_NE(end, std::string::npos);
        EXPECT_LE(end - at - 1, 255U);
        joined += record.substr(at + 1, end - at - 1);
        ++strings;
        at = end + 1;
        if (at < record.size()) {
            ASSERT_EQ(record[at], ' ');
            ++at;
        }
    }
    EXPECT_EQ(strings, 2U);
    EXPECT_EQ(joined, dns_txt_value(key));
    EXPECT_EQ(dns_txt_value(key).substr(0, 18), "v=DKIM1; k=rsa; p=");
}

TEST(DkimKey, RefusesWhatCannotSignWithoutShowingTheKey) {
    const std::string secret =
        "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXZhbHVl\n-----END PRIVATE KEY-----\n";
    EXPECT_TRUE(throws([&] { (void)PrivateKey::from_pem(secret); }, errc::config,
                       "DKIM key: not a PEM private key (PKCS#8 \"PRIVATE KEY\" or \"RSA PRIVATE "
                       "KEY\")"));
    EXPECT_TRUE(throws([&] { (void)PrivateKey::from_pem(openssl_pem("X25519", 0)); }, errc::config,
                       "DKIM key: the key's type is X25519; DKIM signs with RSA or Ed25519"));
    EXPECT_TRUE(throws([&] { (void)PrivateKey::from_pem(openssl_pem("RSA", 512)); }, errc::config,
                       "DKIM key: an RSA key of 512 bits; DKIM keys have 1024 to 4096 bits (RFC "
                       "8301 3.2)"));
    EXPECT_TRUE(throws([&] { (void)PrivateKey::generate(KeyType::rsa, 8192); }, errc::config,
                       "DKIM key: an RSA key of 8192 bits; DKIM keys have 1024 to 4096 bits (RFC "
                       "8301 3.2)"));
    EXPECT_TRUE(throws(
        [&] {
            (void)PrivateKey::from_pem(
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE "
                "KEY-----\n");
        },
        errc::config,
        "DKIM key: the PEM key is encrypted; store it without a pass phrase (`openssl pkey -in KEY "
        "-out PLAIN`) and protect the file instead (mode 0600)"));
}

TEST(DkimKey, ReadsKeyFilesAndNamesTheFileOnError) {
    const auto dir = std::filesystem::temp_directory_path();
    const auto path =
        dir / ("missive-dkim-key-test-" +
               std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + ".pem");
    { std::ofstream(path) << rfc8463_ed25519_pem(); }
    EXPECT_EQ(PrivateKey::from_pem_file(path).public_key(), rfc8463_ed25519_public);
    { std::ofstream(path) << "not a key"; }
    EXPECT_TRUE(throws([&] { (void)PrivateKey::from_pem_file(path); }, errc::config,
                       "DKIM key file '" + path.string() +
                           "': not a PEM private key (PKCS#8 \"PRIVATE KEY\" or \"RSA PRIVATE "
                           "KEY\")"));
    std::filesystem::remove(path);
    EXPECT_TRUE(throws([&] { (void)PrivateKey::from_pem_file(path); }, errc::config,
                       "DKIM key file '" + path.string() + "' cannot be read"));
}

TEST(DkimKey, SelectorAndDomainOfTheRecordAreChecked) {
    const PrivateKey key = PrivateKey::from_pem(rfc8463_ed25519_pem());
    EXPECT_TRUE(throws([&] { (void)dns_txt_record(key, "a b", "example.org"); }, errc::config,
                       "DKIM selector 'a b' is not a selector (RFC 6376 3.1: letters, digits and "
                       "hyphens, in labels separated by dots)"));
}

}  // namespace
