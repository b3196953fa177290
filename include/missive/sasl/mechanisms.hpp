#pragma once

#include <missive/sasl/mechanism.hpp>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace missive::sasl {

/** PLAIN (RFC 4616): authzid NUL user NUL password, in the initial response. */
std::unique_ptr<Mechanism> make_plain(const Credentials& credentials);

/** LOGIN (draft-murchison-sasl-login): the user, then the password, one per challenge. */
std::unique_ptr<Mechanism> make_login(const Credentials& credentials);

/** CRAM-MD5 (RFC 2195): "user HMAC-MD5(password, challenge)" in hex. */
std::unique_ptr<Mechanism> make_cram_md5(const Credentials& credentials);

/** The hash of a SCRAM mechanism. */
enum class ScramHash { sha1, sha256 };

/**
 * SCRAM-SHA-1 / SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding. The server's
 * signature is verified; an iteration count above 1,000,000 is refused (CPU bound against a
 * hostile server).
 * @param nonce the client nonce; empty: 24 random bytes, base64 (tests pass the RFC's)
 */
std::unique_ptr<Mechanism> make_scram(const Credentials& credentials, ScramHash hash,
                                      std::string nonce = {});

/** XOAUTH2 (Google, Microsoft): user and bearer token (Credentials::password). A 334 with the
 * server's error JSON is answered with an empty line; `error_json` of the returned mechanism
 * (see OAuth below) keeps it. */
std::unique_ptr<Mechanism> make_xoauth2(const Credentials& credentials);

/** OAUTHBEARER (RFC 7628): GS2 header with the user, host and port, bearer token. */
std::unique_ptr<Mechanism> make_oauthbearer(const Credentials& credentials, const std::string& host,
                                            std::uint16_t port);

/** What an OAuth mechanism learnt from a failed attempt. */
class OAuth : public Mechanism {
public:
    /** @return the JSON the server sent with its error challenge, or "". */
    [[nodiscard]] virtual const std::string& error_json() const = 0;
};

/**
 * DIGEST-MD5 (RFC 2831), legacy and never chosen automatically. The server's rspauth is
 * verified. The digest-uri is service "/" host.
 * @param cnonce the client nonce; empty: random
 */
std::unique_ptr<Mechanism> make_digest_md5(const Credentials& credentials, const std::string& host,
                                           std::string cnonce = {}, std::string service = "smtp");

/**
 * Picks the mechanism to use. Without a preference: the strongest that both sides have, in the
 * order SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN (DIGEST-MD5 and the OAuth ones only
 * when asked for). With a preference list: its first entry the server offers.
 * @param host the server's name, for OAUTHBEARER and DIGEST-MD5
 * @return nullptr when there is none
 */
std::unique_ptr<Mechanism> choose(const std::vector<std::string>& offered,
                                  const Credentials& credentials,
                                  std::span<const std::string> preference, const std::string& host,
                                  std::uint16_t port);

}  // namespace missive::sasl
