#pragma once

#include <missive/sasl/oauth.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace missive::sasl {

/**
 * OAUTHBEARER (RFC 7628): "n,a=<user>,^Ahost=<host>^Aport=<port>^Aauth=Bearer <token>^A^A" as
 * the initial response, the token taken from `Credentials::password`. An error challenge (JSON,
 * RFC 7628 3.2.2) is answered with "^A" and kept in `error_json()`. Never chosen unless asked for
 * by name.
 */
class OAuthBearer final : public OAuth {
public:
    /**
     * @param credentials the user and, in `password`, the OAuth 2.0 access token. The GS2
     * authzid ("a=") is `authzid` when set, else `user` (as mail clients send it), escaped as a
     * saslname (RFC 5801 4)
     * @param host the server's name, sent as "host="; left out when empty
     * @param port the server's port, sent as "port="; left out when 0
     * @throws Error errc::invalid_input when a field contains ^A or NUL
     */
    OAuthBearer(const Credentials& credentials, std::string_view host = {}, std::uint16_t port = 0);

    /** @return "OAUTHBEARER" */
    [[nodiscard]] std::string name() const override;
};

/** @return a new OAuthBearer (see there) behind the base interface, as `choose` returns them. */
std::unique_ptr<Mechanism> make_oauthbearer(const Credentials& credentials,
                                            std::string_view host = {}, std::uint16_t port = 0);

}  // namespace missive::sasl
