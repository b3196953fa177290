#pragma once

// Checks of the names a DKIM signature carries (private: not installed).

#include <string>
#include <string_view>

namespace missive::dkim::detail {

/**
 * @param what how the error names the value ("DKIM domain")
 * @return the domain in ASCII (A-labels for a UTF-8 domain), lower case
 * @throws Error errc::config when it is not a domain name of labels (letters, digits, hyphens;
 *         none longer than 63 octets; at most 253 in all)
 */
std::string checked_domain(std::string_view domain, std::string_view what);

/**
 * @return the selector (RFC 6376 3.1: labels separated by dots), lower case
 * @throws Error errc::config when it is not one
 */
std::string checked_selector(std::string_view selector);

}  // namespace missive::dkim::detail
