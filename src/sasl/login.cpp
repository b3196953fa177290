#include <missive/sasl/login.hpp>

#include "sasl/crypto.hpp"

#include <utility>

namespace missive::sasl {

Login::Login(Credentials credentials)
    : credentials_(std::move(credentials)) {}

std::string Login::name() const {
    return "LOGIN";
}

std::optional<std::string> Login::start() {
    started_ = true;
    answered_ = 0;
    return std::nullopt;
}

// The challenges say "Username:" and "Password:" in varying spellings and languages: answer
// by order.
std::string Login::step(std::string_view /*challenge*/) {
    switch (answered_) {
        case 0:
            ++answered_;
            return credentials_.user;
        case 1:
            ++answered_;
            return std::string(credentials_.password.reveal());
        default:
            detail::fail("LOGIN", "the server asked for more than the user and the password");
    }
}

bool Login::verified() const {
    return started_;
}

std::unique_ptr<Mechanism> make_login(const Credentials& credentials) {
    return std::make_unique<Login>(credentials);
}

}  // namespace missive::sasl
