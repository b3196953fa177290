#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace missive::sasl::detail {

/** The digests the mechanisms use, from OpenSSL's libcrypto. */
enum class Digest { md5, sha1, sha256 };

// Each throws Error(errc::auth_failed) when libcrypto fails (e.g. MD5 in a FIPS-only provider).
std::string hash(Digest d, std::string_view data);
std::string hmac(Digest d, std::string_view key, std::string_view data);
std::string pbkdf2(Digest d, std::string_view password, std::string_view salt, unsigned iterations);
std::string random_bytes(std::size_t n);

/** @return `data` in lower-case hex. */
std::string hex(std::string_view data);

/** @return true when `a` and `b` are equal, in time that depends only on their sizes. */
bool equal(std::string_view a, std::string_view b);

/** Throws Error(errc::auth_failed, "<mechanism>: <what>"): the server misbehaved. */
[[noreturn]] void fail(std::string_view mechanism, std::string_view what);

/** Throws Error(errc::invalid_input, "<mechanism>: <what>"): the caller's input cannot be sent. */
[[noreturn]] void invalid(std::string_view mechanism, std::string_view what);

}  // namespace missive::sasl::detail
