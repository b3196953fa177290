// Prints, for each line of UTF-8 on stdin, a Subject and a From header field with the line
// encoded by mime::encode_header_text and mime::format_mailbox, folded greedily at spaces to 78
// columns with CRLF SP. tests/integration/check/header_words.py reads them with Python's email
// package, an independent decoder. A line that cannot be encoded prints "Error: " and what().
#include <missive/error.hpp>
#include <missive/mime/address.hpp>
#include <missive/mime/encoded_word.hpp>

#include <cstddef>
#include <iostream>
#include <string>
#include <string_view>

namespace {

constexpr std::size_t max_line = 78;  // RFC 5322 2.1.1

// Folds at the spaces that are followed by something other than a space, so that no
// continuation line is white space only (RFC 5322 3.2.2).
std::string fold(std::string_view field) {
    std::string out;
    std::size_t line_start = 0;  // in out
    std::size_t i = 0;
    while (i < field.size()) {
        // The next piece: a space (or the start) and the word after it.
        std::size_t end = field.find(' ', i + 1);
        while (end != std::string_view::npos && end + 1 < field.size() && field[end + 1] == ' ') {
            end = field.find(' ', end + 1);
        }
        if (end == std::string_view::npos) {
            end = field.size();
        }
        const std::string_view piece = field.substr(i, end - i);
        if (i > 0 && out.size() - line_start + piece.size() > max_line) {
            out += "\r\n";
            line_start = out.size();
        }
        out += piece;
        i = end;
    }
    return out + "\r\n";
}

}  // namespace

int main() {
    std::string line;
    while (std::getline(std::cin, line)) {
        try {
            std::cout << fold("Subject: " + missive::mime::encode_header_text(line));
            std::cout << fold("From: " + missive::mime::format_mailbox({line, "user@example.com"}));
        } catch (const missive::Error& e) {
            std::cout << "Error: " << e.what() << "\r\n";
        }
    }
    return 0;
}
