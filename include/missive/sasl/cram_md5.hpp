#pragma once

#include <missive/sasl/mechanism.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace missive::sasl {

/**
 * CRAM-MD5 (RFC 2195): the one challenge is answered with "user SP hex(HMAC-MD5(password,
 * challenge))", hex in lower case. The password does not cross the wire, but the server proves
 * nothing and MD5 is weak: prefer SCRAM. `authzid` is not supported and ignored.
 */
class CramMd5 final : public Mechanism {
public:
    /** @param credentials user and password */
    explicit CramMd5(Credentials credentials);

    /** @return "CRAM-MD5" */
    [[nodiscard]] std::string name() const override;

    /** @return nullopt: CRAM-MD5 waits for the server's challenge */
    std::optional<std::string> start() override;

    /**
     * @return "user digest" for the first challenge
     * @throws Error errc::auth_failed on a second challenge
     */
    std::string step(std::string_view challenge) override;

    /** @return true once started */
    [[nodiscard]] bool verified() const override;

private:
    Credentials credentials_;
    bool started_ = false;
    bool answered_ = false;
};

/** @return a new CramMd5 (see there) behind the base interface, as `choose` returns them. */
std::unique_ptr<Mechanism> make_cram_md5(const Credentials& credentials);

}  // namespace missive::sasl
