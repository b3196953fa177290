#pragma once

#include <missive/util/secret.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace missive::sasl {

/**
 * One SASL mechanism (RFC 4422) as a challenge → response machine without I/O, in the spirit of
 * Go's `smtp.Auth`. `smtp::Session::authenticate` drives it and does the base64 both ways; a user
 * can implement it for a mechanism of their own and hand it to `client::Client::authenticate`.
 *
 * Theory of operation. `start()` begins an exchange and gives the initial response, if any; it
 * may be called again to begin a new exchange (a retry), which forgets the previous one. Each
 * server challenge (334) then goes to `step()`, whose return value is the answer. When the server
 * says the exchange succeeded (235), the session asks `verified()`: a mechanism that proves the
 * server knows the password too (SCRAM, DIGEST-MD5) says true only once that proof arrived, so
 * that a server which skips it is refused. A challenge that makes no sense throws
 * `Error(errc::auth_failed)`; the session then cancels the exchange with "*".
 *
 * Copying and moving are protected: a concrete mechanism may be copied as itself, never sliced
 * through this base.
 */
class Mechanism {
public:
    virtual ~Mechanism() = default;

    /** @return the IANA name, upper-case, e.g. "SCRAM-SHA-256". */
    [[nodiscard]] virtual std::string name() const = 0;

    /**
     * Begins an exchange.
     * @return the initial response (raw bytes, not base64), or nullopt when the mechanism has none
     * and waits for the first challenge (LOGIN, CRAM-MD5, DIGEST-MD5). An empty string is an empty
     * initial response, "=" on the wire.
     * @throws Error errc::auth_failed when no nonce can be made (no randomness)
     */
    virtual std::optional<std::string> start() = 0;

    /**
     * Answers a server challenge.
     * @param challenge raw, already base64-decoded
     * @return the answer, raw (the session encodes it)
     * @throws Error errc::auth_failed when the challenge is malformed, unexpected, or fails
     * verification (SCRAM's server signature, DIGEST-MD5's rspauth), or when it is the server's
     * error report (SCRAM's "e="); `what()` says which
     */
    virtual std::string step(std::string_view challenge) = 0;

    /**
     * @return true when the mechanism has verified what it needs from the server: SCRAM once the
     * server signature checked out, DIGEST-MD5 once rspauth did. Mechanisms that verify nothing
     * return true once started. The session refuses a 235 while this is false.
     */
    [[nodiscard]] virtual bool verified() const = 0;

protected:
    Mechanism() = default;
    Mechanism(const Mechanism&) = default;
    Mechanism& operator=(const Mechanism&) = default;
    Mechanism(Mechanism&&) = default;
    Mechanism& operator=(Mechanism&&) = default;
};

/**
 * Who to authenticate as. The OAuth 2.0 mechanisms (XOAUTH2, OAUTHBEARER) need a bearer token
 * instead of a password: they take it from `password`.
 */
struct Credentials {
    std::string user{};     ///< authentication identity (authcid), UTF-8
    Secret password{};      ///< the password, or the OAuth 2.0 access token
    std::string authzid{};  ///< authorization identity (act as another user); usually empty
};

}  // namespace missive::sasl
