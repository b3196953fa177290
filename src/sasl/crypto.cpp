#include "sasl/crypto.hpp"

#include <missive/error.hpp>

#include <climits>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>

namespace missive::sasl::detail {

namespace {

const EVP_MD* md_of(Digest d) {
    switch (d) {
        case Digest::md5:
            return EVP_md5();
        case Digest::sha1:
            return EVP_sha1();
        case Digest::sha256:
            return EVP_sha256();
    }
    return EVP_sha256();
}

const unsigned char* bytes(std::string_view s) {
    // An empty view may hold a null pointer, which HMAC reads as "keep the previous key".
    static const unsigned char none = 0;
    return s.empty() ? &none : reinterpret_cast<const unsigned char*>(s.data());
}

int length(std::string_view s) {
    if (s.size() > INT_MAX) {
        throw Error(errc::invalid_input, "SASL: input too long for libcrypto");
    }
    return static_cast<int>(s.size());
}

void check(bool ok, const char* what) {
    if (!ok) {
        throw Error(errc::auth_failed, std::string("SASL: libcrypto failed to compute ") + what);
    }
}

}  // namespace

std::string hash(Digest d, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned len = 0;
    check(EVP_Digest(bytes(data), data.size(), out.data(), &len, md_of(d), nullptr) == 1,
          "a digest");
    return {reinterpret_cast<const char*>(out.data()), len};
}

std::string hmac(Digest d, std::string_view key, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned len = 0;
    check(HMAC(md_of(d), bytes(key), length(key), bytes(data), data.size(), out.data(), &len) !=
              nullptr,
          "an HMAC");
    return {reinterpret_cast<const char*>(out.data()), len};
}

std::string pbkdf2(Digest d, std::string_view password, std::string_view salt,
                   unsigned iterations) {
    std::string out(static_cast<std::size_t>(EVP_MD_get_size(md_of(d))), '\0');
    check(PKCS5_PBKDF2_HMAC(password.empty() ? "" : password.data(), length(password), bytes(salt),
                            length(salt), static_cast<int>(iterations), md_of(d),
                            static_cast<int>(out.size()),
                            reinterpret_cast<unsigned char*>(out.data())) == 1,
          "PBKDF2");
    return out;
}

std::string random_bytes(std::size_t n) {
    std::string out(n, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
        throw Error(errc::auth_failed, "SASL: no random bytes for a nonce");
    }
    return out;
}

std::string hex(std::string_view data) {
    static constexpr std::string_view digits = "0123456789abcdef";
    std::string out;
    out.reserve(data.size() * 2);
    for (char c : data) {
        const auto u = static_cast<unsigned char>(c);
        out += digits[u >> 4U];
        out += digits[u & 15U];
    }
    return out;
}

bool equal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(bytes(a), bytes(b), a.size()) == 0;
}

void fail(std::string_view mechanism, std::string_view what) {
    throw Error(errc::auth_failed, std::string(mechanism) + ": " + std::string(what));
}

void invalid(std::string_view mechanism, std::string_view what) {
    throw Error(errc::invalid_input, std::string(mechanism) + ": " + std::string(what));
}

}  // namespace missive::sasl::detail
