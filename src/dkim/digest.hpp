#pragma once

// SHA-256 for the dkim layer (private: not installed).

#include <openssl/evp.h>

namespace missive::dkim::detail {

/**
 * @return SHA-256, fetched from OpenSSL's default provider once per process (EVP_sha256()
 *         would fetch it again at every EVP_DigestInit_ex, which costs as much as hashing a
 *         few kilobytes); nullptr when OpenSSL has none
 */
const EVP_MD* sha256();

}  // namespace missive::dkim::detail
