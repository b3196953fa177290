#include "mime/utf8.hpp"

#include <array>

namespace missive::mime::detail {

namespace {

// Length of the sequence a lead byte starts, and the smallest code point it may encode (so that
// overlong forms are refused); 0 for a byte that cannot lead.
struct Lead {
    std::size_t length;
    char32_t min;
    char32_t bits;
};

Lead lead(unsigned char b) {
    if (b < 0x80U) {
        return {1, 0, b};
    }
    if ((b & 0xE0U) == 0xC0U) {
        return {2, 0x80, b & 0x1FU};
    }
    if ((b & 0xF0U) == 0xE0U) {
        return {3, 0x800, b & 0x0FU};
    }
    if ((b & 0xF8U) == 0xF0U) {
        return {4, 0x10000, b & 0x07U};
    }
    return {0, 0, 0};
}

// @return the length of the valid sequence at s[i], or 0.
std::size_t valid_at(std::string_view s, std::size_t i) {
    const Lead l = lead(static_cast<unsigned char>(s[i]));
    if (l.length == 0 || i + l.length > s.size()) {
        return 0;
    }
    char32_t c = l.bits;
    for (std::size_t k = 1; k < l.length; ++k) {
        const auto cont = static_cast<unsigned char>(s[i + k]);
        if ((cont & 0xC0U) != 0x80U) {
            return 0;
        }
        c = c << 6U | (cont & 0x3FU);
    }
    if (c < l.min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        return 0;
    }
    return l.length;
}

}  // namespace

std::size_t invalid_utf8_at(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = valid_at(s, i);
        if (n == 0) {
            return i;
        }
        i += n;
    }
    return std::string_view::npos;
}

std::string sanitize_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = valid_at(s, i);
        if (n == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else {
            out.append(s.substr(i, n));
            i += n;
        }
    }
    return out;
}

char32_t next_code_point(std::string_view s, std::size_t& i) {
    const Lead l = lead(static_cast<unsigned char>(s[i]));
    char32_t c = l.bits;
    for (std::size_t k = 1; k < l.length; ++k) {
        c = c << 6U | (static_cast<unsigned char>(s[i + k]) & 0x3FU);
    }
    i += l.length == 0 ? 1 : l.length;
    return c;
}

std::string excerpt(std::string_view s) {
    static constexpr std::size_t limit = 80;
    static constexpr std::string_view hex = "0123456789abcdef";
    std::string out;
    std::size_t i = 0;
    for (; i < s.size() && i < limit; ++i) {
        const char c = s[i];
        if (c == '\r') {
            out += "\\r";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (is_control(c)) {
            const auto u = static_cast<unsigned char>(c);
            out += "\\x";
            out += hex[u >> 4U];
            out += hex[u & 15U];
        } else {
            out += c;
        }
    }
    if (i < s.size()) {
        while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0U) == 0x80U) {
            out.pop_back();  // a continuation byte: drop the cut character whole
        }
        if (!out.empty() && is_non_ascii(out.back())) {
            out.pop_back();
        }
        out += "...";
    }
    return sanitize_utf8(out);
}

}  // namespace missive::mime::detail
