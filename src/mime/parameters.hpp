#pragma once

#include <string>
#include <utility>
#include <vector>

namespace missive::mime::detail {

/**
 * Formats MIME parameters for a Content-Type or Content-Disposition value: "; name=value" for
 * each, the value a token when it can be one, else a quoted string when it is short printable
 * ASCII, else an RFC 2231 extended value (`name*=utf-8''%E2%82%AC`), split into numbered
 * continuations (`name*0*=…; name*1*=…`) so that no piece passes 78 columns. The space after
 * each ';' is a fold point.
 */
std::string format_parameters(const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace missive::mime::detail
