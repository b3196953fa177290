#pragma once

#include <missive/util/secret.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace missive::dkim {

/** The key types DKIM signs with: RSA (RFC 6376, RFC 8301) and Ed25519 (RFC 8463). */
enum class KeyType {
    rsa,      ///< a=rsa-sha256, k=rsa; 1024 to 4096 bits (RFC 8301 asks for 2048 or more)
    ed25519,  ///< a=ed25519-sha256, k=ed25519
};

/**
 * A private key for signing, held by OpenSSL 3 (EVP). Copies share the key, which is never
 * changed after loading, so one key may sign on several threads at once. The key's bytes never
 * appear in an error message: a key that cannot be used is reported by what is wrong with it.
 */
class PrivateKey {
public:
    /** The sizes of RSA key accepted, in bits. */
    static constexpr int min_rsa_bits = 1024;
    static constexpr int max_rsa_bits = 4096;

    /**
     * Reads a key in PEM: PKCS#8 ("PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY").
     * @param pem the text of the PEM file
     * @throws Error errc::config when it is no such key, is encrypted, is neither RSA nor Ed25519,
     *         or is an RSA key of fewer than 1024 or more than 4096 bits
     */
    static PrivateKey from_pem(const Secret& pem);

    /**
     * Reads a key from a PEM file (see `from_pem`).
     * @throws Error errc::config when the file cannot be read, naming it, or as `from_pem`
     */
    static PrivateKey from_pem_file(const std::filesystem::path& path);

    /**
     * Makes a new key.
     * @param bits the size of an RSA key (ignored for Ed25519)
     * @throws Error errc::config for an RSA size outside 1024 to 4096 bits, or when OpenSSL fails
     */
    static PrivateKey generate(KeyType type, int bits = 2048);

    /** @return the key's type */
    [[nodiscard]] KeyType type() const;

    /** @return the key's size in bits (256 for Ed25519) */
    [[nodiscard]] int bits() const;

    /**
     * @return the public key as the p= tag of a DNS key record has it (RFC 6376 3.6.1): base64
     *         of the SubjectPublicKeyInfo for RSA, of the 32-octet key for Ed25519 (RFC 8463 4)
     */
    [[nodiscard]] std::string public_key() const;

    /** @return the private key as PKCS#8 PEM, for a key file */
    [[nodiscard]] Secret to_pem() const;

    /**
     * @return the signature of a SHA-256 digest: RSASSA-PKCS1-v1_5 with SHA-256 for RSA (RFC 6376
     *         3.3.1), PureEd25519 of the 32 digest octets for Ed25519 (RFC 8463 3)
     * @throws Error errc::config when OpenSSL fails to sign
     */
    [[nodiscard]] std::string sign_digest(std::string_view sha256_digest) const;

private:
    struct Impl;
    explicit PrivateKey(std::shared_ptr<const Impl> impl);
    std::shared_ptr<const Impl> impl_;
};

/** @return "rsa" or "ed25519", as in the k= tag; the a= tag adds "-sha256". */
std::string_view name(KeyType type);

/** @return the text of the DNS TXT record for `key` (RFC 6376 3.6.1): "v=DKIM1; k=…; p=…". */
std::string dns_txt_value(const PrivateKey& key);

/**
 * @return the record to publish, as a line of a zone file: `SELECTOR._domainkey.DOMAIN. IN TXT
 *         "v=DKIM1; k=…; p=…"`, the text cut into strings of at most 255 octets (RFC 1035 3.3.14;
 *         a 2048-bit RSA key needs two), which the receiver joins (RFC 6376 3.6.2.2)
 * @throws Error errc::config for a selector or domain that is not a domain name
 */
std::string dns_txt_record(const PrivateKey& key, std::string_view selector,
                           std::string_view domain);

}  // namespace missive::dkim
