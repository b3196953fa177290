#include "sasl/crypto.hpp"

#include <missive/error.hpp>

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
    return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string hash(Digest d, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned len = 0;
    EVP_Digest(data.data(), data.size(), out.data(), &len, md_of(d), nullptr);
    return {reinterpret_cast<const char*>(out.data()), len};
}

std::string hmac(Digest d, std::string_view key, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned len = 0;
    HMAC(md_of(d), key.data(), static_cast<int>(key.size()), bytes(data), data.size(), out.data(),
         &len);
    return {reinterpret_cast<const char*>(out.data()), len};
}

std::string pbkdf2(Digest d, std::string_view password, std::string_view salt,
                   unsigned iterations) {
    std::string out(static_cast<std::size_t>(EVP_MD_get_size(md_of(d))), '\0');
    PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), bytes(salt),
                      static_cast<int>(salt.size()), static_cast<int>(iterations), md_of(d),
                      static_cast<int>(out.size()), reinterpret_cast<unsigned char*>(out.data()));
    return out;
}

std::string random_bytes(std::size_t n) {
    std::string out(n, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
        throw Error(errc::auth_failed, "no random bytes for a SASL nonce");
    }
    return out;
}

std::string hex(std::string_view data) {
    static constexpr std::string_view digits = "0123456789abcdef";
    std::string out;
    for (char c : data) {
        const auto u = static_cast<unsigned char>(c);
        out += digits[u >> 4U];
        out += digits[u & 15U];
    }
    return out;
}

void fail(std::string_view mechanism, std::string_view what) {
    throw Error(errc::auth_failed, std::string(mechanism) + ": " + std::string(what));
}

}  // namespace missive::sasl::detail
