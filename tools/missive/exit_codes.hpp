#pragma once

#include <missive/error.hpp>

#include <string_view>

namespace missive::cli {

// sysexits.h, as sendmail and msmtp use them.
inline constexpr int exit_ok = 0;
inline constexpr int exit_usage = 64;        ///< EX_USAGE: bad command line
inline constexpr int exit_data = 65;         ///< EX_DATAERR: bad message or address
inline constexpr int exit_no_input = 66;     ///< EX_NOINPUT: the message or a file cannot be read
inline constexpr int exit_unavailable = 69;  ///< EX_UNAVAILABLE: permanent refusal (5xx)
inline constexpr int exit_software = 70;     ///< EX_SOFTWARE: a bug
inline constexpr int exit_no_host = 68;      ///< EX_NOHOST: unknown host
inline constexpr int exit_cant_create = 73;  ///< EX_CANTCREAT: the outbox cannot be written
inline constexpr int exit_io = 74;  ///< EX_IOERR: outcome unknown (lost after the end of the data)
inline constexpr int exit_temp_fail = 75;  ///< EX_TEMPFAIL: try again later (4xx, timeouts)
inline constexpr int exit_protocol = 76;   ///< EX_PROTOCOL: the server broke the protocol
inline constexpr int exit_no_perm = 77;    ///< EX_NOPERM: authentication refused
inline constexpr int exit_config = 78;     ///< EX_CONFIG: configuration error

/** @return the name of an error kind as in the code, e.g. "reply_permanent" (for --json). */
std::string_view kind_name(errc kind);

/**
 * @return the exit status for an error, per the table in missive(1): 74 when the outcome is
 * unknown; 78, 65, 77, 76, 68 for configuration, input, authentication, protocol and unknown
 * host errors; else 75 when Error::transient(), 69 when Error::permanent(), 70 otherwise.
 */
int exit_code_for(const Error& e);

}  // namespace missive::cli
