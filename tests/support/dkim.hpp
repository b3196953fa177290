#pragma once

// Helpers of the dkim tests: the RFC 8463 Appendix A keys and message, and reading tags back.

#include <missive/dkim/key.hpp>
#include <missive/util/base64.hpp>

#include <map>
#include <string>
#include <string_view>

namespace missive::test::dkim {

// RFC 8463 A.2: the Ed25519 private key (its 32-octet seed) and public key.
inline constexpr std::string_view rfc8463_ed25519_seed =
    "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
inline constexpr std::string_view rfc8463_ed25519_public =
    "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

// RFC 8463 A.2: the RSA private key.
inline constexpr std::string_view rfc8463_rsa_pem =
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIICXQIBAAKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQi\n"
    "Y/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqM\n"
    "KrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB\n"
    "AoGAH0cxOhFZDgzXWhDhnAJDw5s4roOXN4OhjiXa8W7Y3rhX3FJqmJSPuC8N9vQm\n"
    "6SVbaLAE4SG5mLMueHlh4KXffEpuLEiNp9Ss3O4YfLiQpbRqE7Tm5SxKjvvQoZZe\n"
    "zHorimOaChRL2it47iuWxzxSiRMv4c+j70GiWdxXnxe4UoECQQDzJB/0U58W7RZy\n"
    "6enGVj2kWF732CoWFZWzi1FicudrBFoy63QwcowpoCazKtvZGMNlPWnC7x/6o8Gc\n"
    "uSe0ga2xAkEA8C7PipPm1/1fTRQvj1o/dDmZp243044ZNyxjg+/OPN0oWCbXIGxy\n"
    "WvmZbXriOWoSALJTjExEgraHEgnXssuk7QJBALl5ICsYMu6hMxO73gnfNayNgPxd\n"
    "WFV6Z7ULnKyV7HSVYF0hgYOHjeYe9gaMtiJYoo0zGN+L3AAtNP9huqkWlzECQE1a\n"
    "licIeVlo1e+qJ6Mgqr0Q7Aa7falZ448ccbSFYEPD6oFxiOl9Y9se9iYHZKKfIcst\n"
    "o7DUw1/hz2Ck4N5JrgUCQQCyKveNvjzkkd8HjYs0SwM0fPjK16//5qDZ2UiDGnOe\n"
    "uEzxBDAr518Z8VFbR41in3W4Y3yCDgQlLlcETrS+zYcL\n"
    "-----END RSA PRIVATE KEY-----\n";

// RFC 8463 A.3: the message, before it was signed.
inline constexpr std::string_view rfc8463_message =
    "From: Joe SixPack <joe@football.example.com>\r\n"
    "To: Suzie Q <suzie@shopping.example.net>\r\n"
    "Subject: Is dinner ready?\r\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
    "\r\n"
    "Hi.\r\n"
    "\r\n"
    "We lost the game.  Are you hungry yet?\r\n"
    "\r\n"
    "Joe.\r\n";

/** @return the Ed25519 key of RFC 8463 as PKCS#8 PEM (RFC 8410 7: a fixed prefix, the seed) */
inline std::string rfc8463_ed25519_pem() {
    std::string der("\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x22\x04\x20", 16);
    der += *util::base64_decode(rfc8463_ed25519_seed);
    return "-----BEGIN PRIVATE KEY-----\n" + util::base64_encode(der) +
           "\n-----END PRIVATE KEY-----\n";
}

/** @return the tags of a DKIM-Signature field, white space removed from each value */
inline std::map<std::string, std::string> tags(std::string_view field) {
    std::map<std::string, std::string> out;
    std::string_view value = field.substr(field.find(':') + 1);
    while (!value.empty()) {
        const std::size_t semi = value.find(';');
        const std::string_view item = value.substr(0, semi);
        std::string clean;
        for (const char c : item) {
            if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
                clean += c;
            }
        }
        const std::size_t eq = clean.find('=');
        if (eq != std::string::npos) {
            out[clean.substr(0, eq)] = clean.substr(eq + 1);
        }
        if (semi == std::string_view::npos) {
            break;
        }
        value.remove_prefix(semi + 1);
    }
    return out;
}

/** @return the field without the value of b= (its last tag) nor the CRLF that ends it */
inline std::string without_b(std::string_view field) {
    // The tag b= starts after white space or ';' (an "b=" inside a base64 value cannot).
    std::size_t b = field.size();
    while ((b = field.rfind("b=", b == 0 ? 0 : b - 1)) != std::string_view::npos && b > 0) {
        const char before = field[b - 1];
        if (before == ' ' || before == '\t' || before == ';') {
            break;
        }
    }
    return std::string(field.substr(0, b + 2));
}

}  // namespace missive::test::dkim
