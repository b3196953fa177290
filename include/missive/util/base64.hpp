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

}  // namespace missive::util
