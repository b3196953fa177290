#include <missive/sasl/oauth.hpp>

#include "sasl/crypto.hpp"

#include <utility>

namespace missive::sasl {

OAuth::OAuth(Secret initial, std::string error_answer)
    : initial_(std::move(initial))
    , error_answer_(std::move(error_answer)) {}

const std::string& OAuth::error_json() const {
    return error_json_;
}

std::optional<std::string> OAuth::start() {
    started_ = true;
    answered_ = false;
    error_json_.clear();
    return std::string(initial_.reveal());
}

// The only challenge is the server's error (RFC 7628 3.2.2); the answer lets the server send
// its final 5xx.
std::string OAuth::step(std::string_view challenge) {
    if (std::exchange(answered_, true)) {
        detail::fail(name(), "the server sent a second challenge");
    }
    error_json_ = std::string(challenge);
    return error_answer_;
}

bool OAuth::verified() const {
    return started_;
}

}  // namespace missive::sasl
