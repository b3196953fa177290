#pragma once

#include <missive/sasl/mechanism.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace missive::sasl {

/**
 * Picks the mechanism to authenticate with. Names compare without regard to case.
 *
 * Without a preference list: the strongest that both sides have, in the order SCRAM-SHA-256,
 * SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN. DIGEST-MD5 (historic) and the OAuth mechanisms (which need
 * a token, not a password) are never picked this way.
 *
 * With a preference list: its first entry that the server offers and this library implements
 * (PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5, SCRAM-SHA-1, SCRAM-SHA-256, XOAUTH2, OAUTHBEARER); other
 * names are skipped. For XOAUTH2 and OAUTHBEARER, `credentials.password` holds the access token.
 *
 * @param offered the mechanisms of the server's EHLO AUTH line
 * @param credentials who to authenticate as; copied into the mechanism
 * @param preference the caller's choice, most wanted first; empty: the strongest
 * @param host the server's name: OAUTHBEARER's "host=", DIGEST-MD5's digest-uri "smtp/<host>"
 * @param port the server's port: OAUTHBEARER's "port=" (left out when 0)
 * @return the mechanism, or nullptr when none fits
 * @throws Error errc::invalid_input when the credentials cannot be sent with the mechanism
 * picked (see each mechanism's constructor)
 */
std::unique_ptr<Mechanism> choose(const std::vector<std::string>& offered,
                                  const Credentials& credentials,
                                  std::span<const std::string> preference = {},
                                  std::string_view host = {}, std::uint16_t port = 0);

}  // namespace missive::sasl
