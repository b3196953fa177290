#include <missive/sasl/cram_md5.hpp>

#include "sasl/crypto.hpp"

#include <utility>

namespace missive::sasl {

CramMd5::CramMd5(Credentials credentials)
    : credentials_(std::move(credentials)) {}

std::string CramMd5::name() const {
    return "CRAM-MD5";
}

std::optional<std::string> CramMd5::start() {
    started_ = true;
    answered_ = false;
    return std::nullopt;
}

std::string CramMd5::step(std::string_view challenge) {
    if (std::exchange(answered_, true)) {
        detail::fail("CRAM-MD5", "the server sent a second challenge");
    }
    // RFC 2195 2: user SP hex(HMAC-MD5(password, challenge)), the hex in lower case
    return credentials_.user + " " +
           detail::hex(
               detail::hmac(detail::Digest::md5, credentials_.password.reveal(), challenge));
}

bool CramMd5::verified() const {
    return started_;
}

std::unique_ptr<Mechanism> make_cram_md5(const Credentials& credentials) {
    return std::make_unique<CramMd5>(credentials);
}

}  // namespace missive::sasl
