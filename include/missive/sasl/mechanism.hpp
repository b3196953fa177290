#pragma once

#include <missive/util/secret.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace missive::sasl {

/**
 * One SASL mechanism as a challenge → response machine without I/O (Go's `smtp.Auth`). The
 * session base64-encodes and decodes around it; a user can implement it for a mechanism of their
 * own and hand it to `Client::authenticate`.
 */
class Mechanism {
public:
    Mechanism() = default;
    Mechanism(const Mechanism&) = delete;
    Mechanism& operator=(const Mechanism&) = delete;
    Mechanism(Mechanism&&) = delete;
    Mechanism& operator=(Mechanism&&) = delete;
    virtual ~Mechanism() = default;

    /** @return the IANA name, upper-case, e.g. "SCRAM-SHA-256". */
    [[nodiscard]] virtual std::string name() const = 0;

    /**
     * @return the initial response (raw bytes, not base64), or nullopt when the mechanism starts
     * by waiting for a challenge (LOGIN, CRAM-MD5). An empty string is sent as "=".
     */
    virtual std::optional<std::string> start() = 0;

    /**
     * Answers a challenge (raw, already base64-decoded).
     * @throws Error errc::auth_failed when the challenge is malformed or fails verification
     */
    virtual std::string step(std::string_view challenge) = 0;

    /**
     * @return true when the mechanism needs nothing more from the server. SCRAM and DIGEST-MD5
     * return true only after checking the server's proof: a server that says 235 without it is
     * not the one that knows the password.
     */
    [[nodiscard]] virtual bool verified() const { return true; }
};

/** Who to authenticate as. */
struct Credentials {
    std::string user{};     ///< authentication identity
    Secret password{};      ///< the password, or the OAuth 2.0 token for XOAUTH2/OAUTHBEARER
    std::string authzid{};  ///< authorization identity (act as another user); usually empty
};

}  // namespace missive::sasl
