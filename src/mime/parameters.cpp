#include "mime/parameters.hpp"

#include <algorithm>
#include <string_view>

namespace missive::mime::detail {

namespace {

// Pieces stay short enough that "; name*12*=" plus the piece fits in 78 columns.
constexpr std::size_t max_piece = 60;

bool is_token_char(char c) {
    constexpr std::string_view tspecials = "()<>@,;:\\\"/[]?=";
    return c > ' ' && c < 127 && tspecials.find(c) == std::string_view::npos;
}

// RFC 2231 7 attribute-char: a token character other than '*', '\'' and '%'.
bool is_attribute_char(char c) {
    return is_token_char(c) && c != '*' && c != '\'' && c != '%';
}

bool is_printable_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= ' ' && c < 127; });
}

// The RFC 2231 percent-encoded pieces of `value`, each at most max_piece characters; a %XX
// triplet is never split.
std::vector<std::string> extended_pieces(std::string_view value) {
    static constexpr std::string_view hex = "0123456789ABCDEF";
    std::vector<std::string> pieces(1);
    for (const char c : value) {
        std::string unit;
        if (is_attribute_char(c)) {
            unit = c;
        } else {
            const auto u = static_cast<unsigned char>(c);
            unit = {'%', hex[u >> 4], hex[u & 15]};
        }
        if (pieces.back().size() + unit.size() > max_piece) {
            pieces.emplace_back();
        }
        pieces.back() += unit;
    }
    return pieces;
}

std::string quoted(std::string_view value) {
    std::string out = "\"";
    for (const char c : value) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    out += '"';
    return out;
}

}  // namespace

std::string format_parameters(const std::vector<std::pair<std::string, std::string>>& params) {
    std::string out;
    for (const auto& [name, value] : params) {
        if (!value.empty() && value.size() <= max_piece &&
            std::all_of(value.begin(), value.end(), is_token_char)) {
            out.append("; ").append(name).append("=").append(value);
        } else if (value.size() <= max_piece && is_printable_ascii(value)) {
            out.append("; ").append(name).append("=").append(quoted(value));
        } else {
            const std::vector<std::string> pieces = extended_pieces(value);
            if (pieces.size() == 1) {
                out.append("; ").append(name).append("*=utf-8''").append(pieces.front());
                continue;
            }
            for (std::size_t i = 0; i < pieces.size(); ++i) {
                out.append("; ").append(name).append("*").append(std::to_string(i)).append("*=");
                out.append(i == 0 ? "utf-8''" : "").append(pieces[i]);
            }
        }
    }
    return out;
}

}  // namespace missive::mime::detail
