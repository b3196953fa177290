#include "sasl/text.hpp"

#include <missive/error.hpp>

#include "util/text.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

namespace missive::sasl::detail {

namespace {

struct Range {
    char32_t first;
    char32_t last;
};

bool in(char32_t c, const auto& ranges) {
    return std::ranges::any_of(ranges, [c](const Range& r) { return r.first <= c && c <= r.last; });
}

// RFC 3454 B.1: commonly mapped to nothing.
constexpr std::array<Range, 8> mapped_to_nothing = {{{0x00AD, 0x00AD},
                                                     {0x034F, 0x034F},
                                                     {0x1806, 0x1806},
                                                     {0x180B, 0x180D},
                                                     {0x200B, 0x200D},
                                                     {0x2060, 0x2060},
                                                     {0xFE00, 0xFE0F},
                                                     {0xFEFF, 0xFEFF}}};

// RFC 3454 C.1.2: non-ASCII space characters, mapped to SPACE by RFC 4013 2.1.
constexpr std::array<Range, 6> non_ascii_spaces = {{{0x00A0, 0x00A0},
                                                    {0x1680, 0x1680},
                                                    {0x2000, 0x200B},
                                                    {0x202F, 0x202F},
                                                    {0x205F, 0x205F},
                                                    {0x3000, 0x3000}}};

// RFC 3454 C.2.2 (non-ASCII controls), C.3 (private use), C.4 (non-characters, with the plane
// ends checked apart), C.6 (inappropriate for plain text), C.7 (ideographic description),
// C.8 (change display properties), C.9 (tagging). C.1.2 is mapped away first, C.2.1 is ASCII
// and C.5 (surrogates) cannot come out of the UTF-8 decoder.
constexpr std::array<Range, 19> prohibited = {{{0x0080, 0x009F},
                                               {0x0340, 0x0341},
                                               {0x06DD, 0x06DD},
                                               {0x070F, 0x070F},
                                               {0x180E, 0x180E},
                                               {0x200C, 0x200F},
                                               {0x2028, 0x202E},
                                               {0x2060, 0x2063},
                                               {0x206A, 0x206F},
                                               {0x2FF0, 0x2FFB},
                                               {0xE000, 0xF8FF},
                                               {0xFDD0, 0xFDEF},
                                               {0xFEFF, 0xFEFF},
                                               {0xFFF9, 0xFFFD},
                                               {0x1D173, 0x1D17A},
                                               {0xE0001, 0xE0001},
                                               {0xE0020, 0xE007F},
                                               {0xF0000, 0xFFFFD},
                                               {0x100000, 0x10FFFD}}};

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
std::optional<std::vector<char32_t>> decode_utf8(std::string_view s) {
    std::vector<char32_t> out;
    for (std::size_t i = 0; i < s.size();) {
        const auto b = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        char32_t c = 0;
        char32_t min = 0;
        if (b < 0x80U) {
            out.push_back(b);
            ++i;
            continue;
        }
        if ((b & 0xE0U) == 0xC0U) {
            n = 1;
            c = b & 0x1FU;
            min = 0x80;
        } else if ((b & 0xF0U) == 0xE0U) {
            n = 2;
            c = b & 0x0FU;
            min = 0x800;
        } else if ((b & 0xF8U) == 0xF0U) {
            n = 3;
            c = b & 0x07U;
            min = 0x10000;
        } else {
            return std::nullopt;
        }
        if (i + n >= s.size()) {
            return std::nullopt;
        }
        for (std::size_t k = 1; k <= n; ++k) {
            const auto cont = static_cast<unsigned char>(s[i + k]);
            if ((cont & 0xC0U) != 0x80U) {
                return std::nullopt;
            }
            c = c << 6U | (cont & 0x3FU);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
            return std::nullopt;
        }
        out.push_back(c);
        i += n + 1;
    }
    return out;
}

[[noreturn]] void refuse(std::string_view mechanism, std::string_view what, std::string_view why) {
    throw Error(errc::invalid_input, std::string(mechanism) + ": " + std::string(what) + " " +
                                         std::string(why) + " (SASLprep, RFC 4013)");
}

}  // namespace

std::string saslprep(std::string_view text, std::string_view mechanism, std::string_view what) {
    const auto decoded = decode_utf8(text);
    if (!decoded) {
        refuse(mechanism, what, "is not UTF-8");
    }
    std::string out;
    out.reserve(text.size());
    for (char32_t c : *decoded) {
        if (in(c, mapped_to_nothing)) {  // RFC 4013 2.1, B.1 before C.1.2 (as libidn does)
            continue;
        }
        if (in(c, non_ascii_spaces)) {
            c = U' ';
        }
        if (c < 0x20 || c == 0x7F) {  // RFC 3454 C.2.1
            refuse(mechanism, what, "contains a control character");
        }
        if (in(c, prohibited) || (c & 0xFFFEU) == 0xFFFEU) {  // C.4: U+xFFFE, U+xFFFF
            refuse(mechanism, what, "contains a prohibited character");
        }
        util::append_utf8(out, c);
    }
    return out;
}

std::string saslname(std::string_view name) {
    std::string out;
    for (char c : name) {
        if (c == '=') {
            out += "=3D";
        } else if (c == ',') {
            out += "=2C";
        } else {
            out += c;
        }
    }
    return out;
}

std::string latin1_if_possible(std::string_view text) {
    const auto decoded = decode_utf8(text);
    if (!decoded || std::ranges::any_of(*decoded, [](char32_t c) { return c > 0xFF; })) {
        return std::string(text);
    }
    std::string out;
    for (char32_t c : *decoded) {
        out += static_cast<char>(c);
    }
    return out;
}

std::string printable(std::string_view text) {
    std::string out;
    for (char c : text.substr(0, 200)) {
        out += c >= 0x20 && c < 0x7F ? c : '?';
    }
    if (text.size() > 200) {
        out += "...";
    }
    return out;
}

}  // namespace missive::sasl::detail
