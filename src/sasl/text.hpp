#pragma once

#include <string>
#include <string_view>

namespace missive::sasl::detail {

/**
 * SASLprep (RFC 4013) as far as it goes without Unicode tables: the two mappings (non-ASCII
 * spaces to SPACE, "commonly mapped to nothing" removed) and the prohibited characters of
 * RFC 4013 2.3. Two steps are left out: NFKC normalisation (input that is already NFKC, such as
 * all ASCII and what keyboards produce, is unaffected) and the check for code points unassigned in
 * Unicode 3.2. The bidirectional check (RFC 3454 6) is left out too.
 * @param mechanism for the message, e.g. "SCRAM-SHA-256"
 * @param what for the message, e.g. "the user name"
 * @throws Error errc::invalid_input when `text` is not UTF-8 or holds a prohibited character
 */
std::string saslprep(std::string_view text, std::string_view mechanism, std::string_view what);

/** RFC 5802 5.1 and RFC 5801 4 saslname: "=" as "=3D" and "," as "=2C". */
std::string saslname(std::string_view name);

/**
 * RFC 2831 2.1.2.1: UTF-8 text whose characters are all in ISO 8859-1 is hashed as ISO 8859-1.
 * @return `text` in ISO 8859-1, or `text` unchanged when it has a character outside it (or is
 * not UTF-8)
 */
std::string latin1_if_possible(std::string_view text);

/** @return `text` fit for an error message: bytes outside printable ASCII as '?', at most 200. */
std::string printable(std::string_view text);

}  // namespace missive::sasl::detail
