#pragma once

// What to do next: a line of advice for an error a person can act on, in the words of the
// command line (its flags and URL schemes), where the library's message names only the cause.

#include <missive/client/options.hpp>
#include <missive/error.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace missive::cli {

/**
 * @param error a failure talking to the server
 * @param server the server's URL as given to the client
 * @param options the client's options (the TLS mode asked for)
 * @return advice for `error`, or "" when there is none: a TLS handshake that met plain text
 * under implicit TLS (a STARTTLS port), no greeting without implicit TLS (a port that expects
 * TLS at once), a certificate not accepted (--ca-file, --tls-peer)
 */
std::string advice_for(const Error& error, std::string_view server, const client::Options& options);

/**
 * @param text an address list that does not parse, as given
 * @return advice for it, or "": "use a comma" when it holds ';', "did you mean 'Bob Smith
 * <bob@example.org>'?" when it is words followed by a bare address
 */
std::string address_advice(std::string_view text);

/**
 * @return the candidate closest to `word` (at most two edits or transpositions away, and fewer
 * than half its length), or nullopt: for "did you mean …?"
 */
std::optional<std::string> closest(std::string_view word,
                                   const std::vector<std::string>& candidates);

}  // namespace missive::cli
