#pragma once

#include <missive/sasl/mechanism.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace missive::sasl {

/**
 * What XOAUTH2 and OAUTHBEARER share: the bearer token goes in the initial response, and the only
 * challenge a server sends is its error report, a JSON object (RFC 7628 3.2.2; Google's XOAUTH2
 * does the same). That challenge is answered with what lets the server send its final 5xx, and
 * the JSON is kept for `error_json()`, so that the caller can learn why (an expired token, a
 * missing scope).
 */
class OAuth : public Mechanism {
public:
    /** @return the server's error JSON, raw as received; empty when none came */
    [[nodiscard]] const std::string& error_json() const;

    /** @return the initial response with the token */
    std::optional<std::string> start() override;

    /**
     * Keeps the server's error JSON.
     * @return the answer that ends the exchange ("" for XOAUTH2, "\x01" for OAUTHBEARER)
     * @throws Error errc::auth_failed on a second challenge
     */
    std::string step(std::string_view challenge) override;

    /** @return true once started: the server proves nothing */
    [[nodiscard]] bool verified() const override;

protected:
    /**
     * @param initial the initial response
     * @param error_answer the answer to the error challenge
     */
    OAuth(Secret initial, std::string error_answer);

private:
    Secret initial_;
    std::string error_answer_;
    std::string error_json_;
    bool started_ = false;
    bool answered_ = false;
};

}  // namespace missive::sasl
