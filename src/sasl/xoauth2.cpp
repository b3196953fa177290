#include <missive/sasl/xoauth2.hpp>

#include "sasl/crypto.hpp"

#include <string_view>

namespace missive::sasl {

namespace {

Secret initial_response(const Credentials& c) {
    const std::string_view token = c.password.reveal();
    for (std::string_view field : {std::string_view(c.user), token}) {
        if (field.find_first_of(std::string_view("\x01\0", 2)) != std::string_view::npos) {
            detail::invalid("XOAUTH2", "the user and the token must not contain ^A or NUL");
        }
    }
    std::string r = "user=" + c.user + "\x01" + "auth=Bearer ";
    r += token;
    r += "\x01\x01";
    return r;
}

}  // namespace

XOAuth2::XOAuth2(const Credentials& credentials)
    : OAuth(initial_response(credentials), "") {}

std::string XOAuth2::name() const {
    return "XOAUTH2";
}

std::unique_ptr<Mechanism> make_xoauth2(const Credentials& credentials) {
    return std::make_unique<XOAuth2>(credentials);
}

}  // namespace missive::sasl
