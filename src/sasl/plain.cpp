#include <missive/sasl/plain.hpp>

#include "sasl/crypto.hpp"

#include <utility>

namespace missive::sasl {

Plain::Plain(Credentials credentials)
    : credentials_(std::move(credentials)) {
    // RFC 4616 2: the fields are separated by NUL, so none may hold one.
    const auto has_nul = [](std::string_view s) { return s.find('\0') != std::string_view::npos; };
    if (has_nul(credentials_.user) || has_nul(credentials_.password.reveal()) ||
        has_nul(credentials_.authzid)) {
        detail::invalid("PLAIN", "user, password and authzid must not contain NUL");
    }
}

std::string Plain::name() const {
    return "PLAIN";
}

std::optional<std::string> Plain::start() {
    started_ = true;
    // RFC 4616 2: message = [authzid] UTF8NUL authcid UTF8NUL passwd
    std::string r = credentials_.authzid;
    r += '\0';
    r += credentials_.user;
    r += '\0';
    r += credentials_.password.reveal();
    return r;
}

std::string Plain::step(std::string_view /*challenge*/) {
    detail::fail("PLAIN", "the server sent a challenge after the credentials");
}

bool Plain::verified() const {
    return started_;
}

std::unique_ptr<Mechanism> make_plain(const Credentials& credentials) {
    return std::make_unique<Plain>(credentials);
}

}  // namespace missive::sasl
