#include <missive/util/secret.hpp>

#include <openssl/crypto.h>

#include <utility>

namespace missive {

namespace {

void wipe(std::string& s) {
    if (!s.empty()) {
        OPENSSL_cleanse(s.data(), s.size());
    }
    s.clear();
}

}  // namespace

Secret::Secret(Secret&& other) noexcept
    : value_(std::move(other.value_)) {
    wipe(other.value_);
}

Secret& Secret::operator=(Secret&& other) noexcept {
    if (this != &other) {
        wipe(value_);
        value_ = std::move(other.value_);
        wipe(other.value_);
    }
    return *this;
}

Secret::~Secret() {
    wipe(value_);
}

}  // namespace missive
