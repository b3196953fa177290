#pragma once

#include <string>

namespace missive::client::detail {

/**
 * @return this machine's fully qualified name, looked up once per process (the host name when
 * it has a dot, else the resolver's canonical name for it, given two seconds), or "" when there
 * is none; the caller then uses an address literal (RFC 5321 4.1.4).
 */
const std::string& system_fqdn();

}  // namespace missive::client::detail
