#pragma once

#include <string>
#include <string_view>

namespace missive::sasl::detail {

/** The digests the mechanisms use, from OpenSSL's libcrypto. */
enum class Digest { md5, sha1, sha256 };

std::string hash(Digest d, std::string_view data);
std::string hmac(Digest d, std::string_view key, std::string_view data);
std::string pbkdf2(Digest d, std::string_view password, std::string_view salt, unsigned iterations);
std::string random_bytes(std::size_t n);
std::string hex(std::string_view data);  ///< lower-case

/** Throws Error(errc::auth_failed, "<mechanism>: <what>"). */
[[noreturn]] void fail(std::string_view mechanism, std::string_view what);

}  // namespace missive::sasl::detail
