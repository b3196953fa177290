#pragma once

#include <string>
#include <string_view>

namespace missive::mime::detail {

/** The longest line RFC 5322 2.1.1 allows, without its CRLF. */
constexpr std::size_t max_line = 998;

/** The line length folding aims at (RFC 5322 2.1.1 "SHOULD be no more than 78"). */
constexpr std::size_t fold_width = 78;

/**
 * Appends "name: value" CRLF to `out`, folded (RFC 5322 2.2.3): a line break is put before a
 * space or tab of `value` where the line would pass 78 columns. `value` must already be encoded:
 * every space or tab in it may become a fold. Whitespace is kept, so unfolding gives `value` back.
 * @throws Error errc::invalid_input when a word is so long that a line would pass 998 octets
 */
void append_field(std::string& out, std::string_view name, std::string_view value);

}  // namespace missive::mime::detail
