#pragma once

#include <missive/sasl/oauth.hpp>

#include <memory>
#include <string>

namespace missive::sasl {

/**
 * XOAUTH2 (Google, Microsoft): "user=<user>^Aauth=Bearer <token>^A^A" as the initial response,
 * the token taken from `Credentials::password`. An error challenge (JSON) is answered with an
 * empty response and kept in `error_json()`. Never chosen unless asked for by name.
 */
class XOAuth2 final : public OAuth {
public:
    /**
     * @param credentials the user and, in `password`, the OAuth 2.0 access token; `authzid` is
     * not supported and ignored
     * @throws Error errc::invalid_input when the user or the token contains ^A or NUL
     */
    explicit XOAuth2(const Credentials& credentials);

    /** @return "XOAUTH2" */
    [[nodiscard]] std::string name() const override;
};

/** @return a new XOAuth2 (see there) behind the base interface, as `choose` returns them. */
std::unique_ptr<Mechanism> make_xoauth2(const Credentials& credentials);

}  // namespace missive::sasl
