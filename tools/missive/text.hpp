#pragma once

// Text the CLI did not write itself (server replies, error messages that quote them, the
// trace, file contents) made safe for a terminal, a log line or JSON.

#include <string>
#include <string_view>

namespace missive::cli {

/**
 * @return `s` safe to print on a terminal or in a log line: valid UTF-8 without control
 * characters. C0 controls (ESC, BEL, CR, LF, NUL, TAB …) and DEL become `\x1b`-style escapes, C1
 * controls (U+0080–U+009F) and the bidirectional formatting characters that reorder what a
 * terminal shows (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) `\u0085`-style, each byte
 * of invalid UTF-8 `\xff`-style, and a backslash `\\`, so that what is printed cannot be mistaken
 * for an escape. Every other character, in any language, is kept.
 */
std::string printable(std::string_view s);

/**
 * @return `s` as a JSON string literal (RFC 8259), always valid: `"` and `\` escaped, control
 * characters (C0, DEL, C1) as `\u00XX`, and invalid UTF-8 replaced by U+FFFD (`\ufffd`).
 */
std::string json_string(std::string_view s);

}  // namespace missive::cli
