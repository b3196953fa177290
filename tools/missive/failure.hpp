#pragma once

// Failures found before any server is contacted (the command line, the config, the message's
// files), reported as the failures of a send are: a line on stderr, and with --json one object
// on stdout.

#include <stdexcept>
#include <string_view>

namespace missive::cli {

/** A mistake on the command line found after parsing (no --from, no recipient): exit 64. */
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/**
 * Prints "missive: MESSAGE" on stderr and, when `json`, one object on stdout shaped as a failed
 * send's: `{"status":"failed","server":"","reply":null,"queue_id":"","recipients":[],
 * "error":{"kind":KIND,"message":MESSAGE,"exit":STATUS}}`. The message goes through printable
 * (stderr) and json_string (stdout).
 * @return status
 */
int report_failure(bool json, std::string_view kind, std::string_view message, int status);

}  // namespace missive::cli
