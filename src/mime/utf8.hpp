#pragma once

#include <cstddef>
#include <string>
#include <string_view>

// UTF-8 helpers shared by the mime layer; not installed.
namespace missive::mime::detail {

/** @return the offset of the first byte that breaks strict UTF-8 (RFC 3629), or npos. */
std::size_t invalid_utf8_at(std::string_view s);

/** @return `s` with every byte that breaks strict UTF-8 replaced by U+FFFD. */
std::string sanitize_utf8(std::string_view s);

/**
 * Decodes the code point at `s[i]` of valid UTF-8 and advances `i` past it.
 * @return the code point
 */
char32_t next_code_point(std::string_view s, std::size_t& i);

/** @return true for a byte of a non-ASCII UTF-8 sequence. */
constexpr bool is_non_ascii(char c) {
    return static_cast<unsigned char>(c) >= 0x80;
}

/** @return true for RFC 5322 atext (3.2.3), ASCII only. */
constexpr bool is_atext(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

/** @return true for CR, LF or NUL, which no header may contain where a caller put them. */
constexpr bool is_forbidden(char c) {
    return c == '\r' || c == '\n' || c == '\0';
}

/** @return true for an ASCII control character or DEL. */
constexpr bool is_control(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
}

/**
 * @return `s` for an error message: controls as C escapes, at most about 80 bytes (cut on a
 *         character boundary, then "...").
 */
std::string excerpt(std::string_view s);

}  // namespace missive::mime::detail
