#pragma once

// Small text helpers shared by the layers (private: not installed).

#include <string>
#include <string_view>

namespace missive::util {

/** @return `s` with ASCII letters in lower case (protocol keywords, charset names). */
std::string ascii_lower(std::string_view s);

/** @return `s` without the spaces and tabs at either end. */
std::string_view trim_blanks(std::string_view s);

/** Appends code point `c` (at most U+10FFFF, not a surrogate) to `out` as UTF-8. */
void append_utf8(std::string& out, char32_t c);

}  // namespace missive::util
