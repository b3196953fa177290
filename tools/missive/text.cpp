#include "text.hpp"

#include <array>
#include <cstdint>
#include <cstdio>

namespace missive::cli {

namespace {

// The length of the valid UTF-8 sequence at the start of `s` (RFC 3629: no overlong forms,
// no surrogates, nothing above U+10FFFF) and its code point; 0 when it is not valid.
std::size_t utf8_sequence(std::string_view s, char32_t& cp) {
    const auto b0 = static_cast<unsigned char>(s[0]);
    std::size_t n = 0;
    char32_t min = 0;
    if (b0 < 0x80) {
        cp = b0;
        return 1;
    }
    if (b0 >= 0xc2 && b0 <= 0xdf) {
        n = 2;
        cp = b0 & 0x1fU;
        min = 0x80;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
        n = 3;
        cp = b0 & 0x0fU;
        min = 0x800;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        n = 4;
        cp = b0 & 0x07U;
        min = 0x10000;
    } else {
        return 0;
    }
    if (s.size() < n) {
        return 0;
    }
    for (std::size_t i = 1; i < n; ++i) {
        const auto b = static_cast<unsigned char>(s[i]);
        if ((b & 0xc0U) != 0x80) {
            return 0;
        }
        cp = (cp << 6U) | (b & 0x3fU);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return n;
}

bool is_control(char32_t cp) {
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

// Bidirectional formatting characters reorder what a terminal shows around them (Trojan Source,
// CVE-2021-42574): a server could make "refused" read as something else.
bool reorders_display(char32_t cp) {
    return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

std::string hex_escape(const char* format, unsigned value) {
    std::array<char, 12> buf{};
    std::snprintf(buf.data(), buf.size(), format, value);
    return buf.data();
}

}  // namespace

std::string printable(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    while (!s.empty()) {
        char32_t cp = 0;
        const std::size_t n = utf8_sequence(s, cp);
        if (n == 0) {
            out += hex_escape("\\x%02x", static_cast<unsigned char>(s[0]));
            s.remove_prefix(1);
            continue;
        }
        if (cp == '\\') {
            out += "\\\\";
        } else if (cp < 0x80 && is_control(cp)) {
            out += hex_escape("\\x%02x", static_cast<unsigned>(cp));
        } else if (is_control(cp) || reorders_display(cp)) {
            out += hex_escape("\\u%04x", static_cast<unsigned>(cp));
        } else {
            out.append(s.substr(0, n));
        }
        s.remove_prefix(n);
    }
    return out;
}

std::string json_string(std::string_view s) {
    std::string out = "\"";
    while (!s.empty()) {
        char32_t cp = 0;
        const std::size_t n = utf8_sequence(s, cp);
        if (n == 0) {
            out += "\\ufffd";  // RFC 8259 8.1: JSON text is UTF-8
            s.remove_prefix(1);
            continue;
        }
        if (cp == '"' || cp == '\\') {
            out += '\\';
            out += static_cast<char>(cp);
        } else if (cp == '\n') {
            out += "\\n";
        } else if (cp == '\r') {
            out += "\\r";
        } else if (cp == '\t') {
            out += "\\t";
        } else if (is_control(cp) || reorders_display(cp)) {
            out += hex_escape("\\u%04x", static_cast<unsigned>(cp));
        } else {
            out.append(s.substr(0, n));
        }
        s.remove_prefix(n);
    }
    return out + '"';
}

}  // namespace missive::cli
