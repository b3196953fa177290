#include <missive/sasl/oauthbearer.hpp>

#include "sasl/crypto.hpp"
#include "sasl/text.hpp"

#include <string_view>

namespace missive::sasl {

namespace {

Secret initial_response(const Credentials& c, std::string_view host, std::uint16_t port) {
    const std::string& authzid = c.authzid.empty() ? c.user : c.authzid;
    const std::string_view token = c.password.reveal();
    for (std::string_view field : {std::string_view(authzid), host, token}) {
        if (field.find_first_of(std::string_view("\x01\0", 2)) != std::string_view::npos) {
            detail::invalid("OAUTHBEARER",
                            "the user, the host and the token must not contain ^A or NUL");
        }
    }
    // RFC 7628 3.1: gs2-header kvsep *kvpair kvsep, kvsep being ^A
    std::string r = "n,a=" + detail::saslname(authzid) + ",\x01";
    if (!host.empty()) {
        r += "host=";
        r += host;
        r += '\x01';
    }
    if (port != 0) {
        r += "port=" + std::to_string(port) + '\x01';
    }
    r += "auth=Bearer ";
    r += token;
    r += "\x01\x01";
    return r;
}

}  // namespace

OAuthBearer::OAuthBearer(const Credentials& credentials, std::string_view host, std::uint16_t port)
    : OAuth(initial_response(credentials, host, port), "\x01") {}

std::string OAuthBearer::name() const {
    return "OAUTHBEARER";
}

std::unique_ptr<Mechanism> make_oauthbearer(const Credentials& credentials, std::string_view host,
                                            std::uint16_t port) {
    return std::make_unique<OAuthBearer>(credentials, host, port);
}

}  // namespace missive::sasl
