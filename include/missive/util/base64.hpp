#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace missive::util {

/** @return `bytes` in base64 (RFC 4648 4), with padding, without line breaks. */
std::string base64_encode(std::string_view bytes);

/**
 * Strict base64 decoding (RFC 4648 4): only the alphabet, correct padding, a length that is a
 * multiple of four, no white space.
 * @return the bytes, or nullopt when `text` is not such base64
 */
std::optional<std::string> base64_decode(std::string_view text);

/**
 * Appends `bytes` to `out` as a MIME body in base64 (RFC 2045 6.8): lines of exactly 76
 * characters, each ending in CRLF, then a shorter last line (with padding), also ending in CRLF.
 * Empty input appends nothing.
 *
 * Streaming: each line holds 57 input bytes, so a caller may encode a file in chunks whose sizes
 * are multiples of 57 (all but the last chunk, which may have any size); the concatenated output
 * is then the same as encoding the whole at once. Other chunk sizes give valid base64 per chunk
 * but a padded, shorter line in between.
 *
 * `out` grows once, by exactly the encoded size.
 * @param bytes the body, any bytes
 * @param out receives the encoded lines; what it held stays in front
 */
void base64_encode_lines(std::string_view bytes, std::string& out);

/**
 * Lenient base64 decoding for what MIME readers meet (RFC 2045 6.8): CR, LF, SP and TAB are
 * skipped wherever they are; the padding at the end may be missing or partial; non-zero bits
 * under the padding are ignored.
 * @return the bytes, or nullopt for any other character, data after `=`, more `=` than the
 *         last group can have, or a last group of a single character (6 bits cannot be a byte)
 */
std::optional<std::string> base64_decode_mime(std::string_view text);

}  // namespace missive::util
