#pragma once

#include <missive/sasl/mechanism.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace missive::sasl {

/**
 * DIGEST-MD5 (RFC 2831), legacy (RFC 6331 moved it to Historic) and never chosen unless asked for
 * by name; only qop=auth, without integrity or confidentiality layers.
 *
 * Theory of operation. No initial response. The first challenge carries realm (the first one
 * offered is used), nonce, qop (must offer "auth"), charset and algorithm (must be "md5-sess");
 * the answer is the digest-response with a client nonce, nc=00000001 and digest-uri
 * "<service>/<host>". The second challenge is "rspauth=<hex>", the server's proof that it knows
 * the password: it is compared with the value computed here, `verified()` turns true, and the
 * answer is empty. When the server announces charset=utf-8 the names go as UTF-8 and are hashed
 * as ISO 8859-1 when they fit (RFC 2831 2.1.2.1); when it does not, they go as ISO 8859-1.
 */
class DigestMd5 final : public Mechanism {
public:
    /**
     * @param credentials user, password and optional authzid
     * @param host the server's name, for the digest-uri
     * @param cnonce the client nonce; empty (the default): 12 bytes from RAND_bytes in base64,
     * new for each `start()`. Tests pass the RFC's.
     * @param service the digest-uri's serv-type: "smtp" for mail submission
     */
    DigestMd5(Credentials credentials, std::string_view host, std::string cnonce = {},
              std::string_view service = "smtp");

    /** @return "DIGEST-MD5" */
    [[nodiscard]] std::string name() const override;

    /**
     * @return nullopt: DIGEST-MD5 waits for the server's challenge
     * @throws Error errc::auth_failed when no random nonce can be made
     */
    std::optional<std::string> start() override;

    /**
     * @return the digest-response for the first challenge, "" for a correct rspauth
     * @throws Error errc::auth_failed for a malformed challenge (no nonce or two, no qop "auth",
     * algorithm not md5-sess, an unterminated quoted string …), names that the server's
     * character set cannot carry, a wrong rspauth, or a challenge out of turn
     */
    std::string step(std::string_view challenge) override;

    /** @return true once rspauth has been checked */
    [[nodiscard]] bool verified() const override;

private:
    enum class State { idle, started, sent_response, verified, failed };

    std::string respond(std::string_view challenge);
    void check_rspauth(std::string_view challenge);

    Credentials credentials_;
    std::string digest_uri_;
    std::string fixed_cnonce_;
    std::string cnonce_;
    Secret expected_rspauth_;
    State state_ = State::idle;
};

/** @return a new DigestMd5 (see there) behind the base interface, as `choose` returns them. */
std::unique_ptr<Mechanism> make_digest_md5(const Credentials& credentials, std::string_view host,
                                           std::string cnonce = {},
                                           std::string_view service = "smtp");

}  // namespace missive::sasl
