#include "mime/fold.hpp"

#include <missive/error.hpp>

#include <algorithm>

namespace missive::mime::detail {

namespace {

bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}

}  // namespace

void append_field(std::string& out, std::string_view name, std::string_view value) {
    out += name;
    out += ':';
    std::size_t column = name.size() + 1;
    if (!value.empty() && !is_wsp(value.front())) {
        // A first word that would pass 78 columns after the name goes on a line of its own
        // (the fold is the white space after the colon), e.g. a 75-character encoded word.
        const std::size_t first = std::min(value.find_first_of(" \t"), value.size());
        out += column + 1 + first > fold_width && 1 + first <= fold_width ? "\r\n " : " ";
        column =
            out.back() == ' ' && out.size() >= 2 && out[out.size() - 2] == '\n' ? 1 : column + 1;
    }
    std::size_t i = 0;
    while (i < value.size()) {
        // The next piece: whitespace (maybe none) and the word after it.
        std::size_t word = i;
        while (word < value.size() && is_wsp(value[word])) {
            ++word;
        }
        std::size_t end = word;
        while (end < value.size() && !is_wsp(value[end])) {
            ++end;
        }
        const std::size_t length = end - i;
        // Fold before the whitespace, unless the line holds nothing but the name yet or the
        // piece is trailing whitespace (a line of only white space is obsolete syntax).
        if (word > i && end > word && column + length > fold_width && column > name.size() + 2) {
            out += "\r\n";
            column = 0;
        }
        if (column + length > max_line) {
            throw Error(errc::invalid_input,
                        "header '" + std::string(name) +
                            "' has a word that cannot be folded into lines of 998 octets");
        }
        out.append(value.substr(i, length));
        column += length;
        i = end;
    }
    out += "\r\n";
}

}  // namespace missive::mime::detail
