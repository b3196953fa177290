#pragma once

#include <missive/sasl/mechanism.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace missive::sasl {

/** The hash of a SCRAM mechanism. */
enum class ScramHash {
    sha1,    ///< SCRAM-SHA-1 (RFC 5802)
    sha256,  ///< SCRAM-SHA-256 (RFC 7677)
};

/**
 * SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding: GS2 header "n,,"
 * or "n,a=<authzid>,".
 *
 * Theory of operation. `start()` sends client-first "n=<user>,r=<client nonce>". The server's
 * first challenge (server-first: "r=<nonce>,s=<salt>,i=<iterations>") must extend our nonce; the
 * password, salted by PBKDF2 with that many iterations, yields the client proof sent in
 * client-final, and the signature the server must send back. The second challenge (server-final)
 * must be "v=<that signature>": only then is the mechanism `verified()`, and only a server that
 * knows the password (or its stored keys) can produce it. "e=<error>" there is the server's
 * refusal. Every failure throws Error(errc::auth_failed).
 *
 * User name and password go through SASLprep (RFC 4013; see the limits in the constructor), and
 * "," and "=" in the names are escaped as "=2C" and "=3D" (RFC 5802 5.1). Iteration counts from 1
 * to 1,000,000 are accepted: the upper bound keeps a hostile server from burning our CPU.
 */
class Scram final : public Mechanism {
public:
    /** The largest iteration count accepted from a server. */
    static constexpr unsigned max_iterations = 1'000'000;

    /**
     * @param credentials user, password and optional authzid
     * @param hash SHA-1 or SHA-256
     * @param nonce the client nonce, printable ASCII without ","; empty (the default): 18 bytes
     * from RAND_bytes in base64, new for each `start()`. Tests pass the RFC's.
     * @throws Error errc::invalid_input when the user is empty, a name or the password fails
     * SASLprep (not UTF-8, control or prohibited characters; normalisation to NFKC and the
     * unassigned-code-point check are not done, so non-ASCII text should already be NFKC), or
     * the nonce is not printable
     */
    Scram(const Credentials& credentials, ScramHash hash, std::string nonce = {});

    /** @return "SCRAM-SHA-1" or "SCRAM-SHA-256" */
    [[nodiscard]] std::string name() const override;

    /**
     * @return client-first-message: gs2-header "n=" user ",r=" nonce
     * @throws Error errc::auth_failed when no random nonce can be made
     */
    std::optional<std::string> start() override;

    /**
     * @return client-final-message for server-first; "" for a verified server-final
     * @throws Error errc::auth_failed for a malformed server-first (nonce not extending ours,
     * bad salt, iteration count 0 or above `max_iterations`, unknown mandatory extension "m="),
     * a server-final with "e=" or a wrong signature, or a challenge out of turn
     */
    std::string step(std::string_view challenge) override;

    /** @return true once the server's signature has been checked */
    [[nodiscard]] bool verified() const override;

private:
    enum class State { idle, sent_first, sent_final, verified, failed };

    std::string client_final(std::string_view server_first);
    void check_server_final(std::string_view server_final);

    ScramHash hash_;
    std::string user_;  // SASLprep'd, escaped
    std::string gs2_;   // "n,," or "n,a=<authzid>,"
    Secret password_;   // SASLprep'd
    std::string fixed_nonce_;
    std::string nonce_;
    std::string first_bare_;
    Secret server_signature_;
    State state_ = State::idle;
};

/** @return a new Scram (see there) behind the base interface, as `choose` returns them. */
std::unique_ptr<Mechanism> make_scram(const Credentials& credentials, ScramHash hash,
                                      std::string nonce = {});

}  // namespace missive::sasl
