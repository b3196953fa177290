#pragma once

#include <missive/sasl/mechanism.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace missive::sasl {

/**
 * LOGIN (draft-murchison-sasl-login): no initial response; the first challenge is answered with
 * the user, the second with the password. Servers word the challenges differently ("Username:",
 * "User Name", localised text), so they are answered by order, not by text. `authzid` is not
 * supported by LOGIN and ignored. Verifies nothing about the server: use it over TLS only.
 */
class Login final : public Mechanism {
public:
    /** @param credentials user and password */
    explicit Login(Credentials credentials);

    /** @return "LOGIN" */
    [[nodiscard]] std::string name() const override;

    /** @return nullopt: LOGIN waits for the server's first challenge */
    std::optional<std::string> start() override;

    /**
     * @return the user for the first challenge, the password for the second
     * @throws Error errc::auth_failed on a third challenge
     */
    std::string step(std::string_view challenge) override;

    /** @return true once started */
    [[nodiscard]] bool verified() const override;

private:
    Credentials credentials_;
    bool started_ = false;
    int answered_ = 0;
};

/** @return a new Login (see there) behind the base interface, as `choose` returns them. */
std::unique_ptr<Mechanism> make_login(const Credentials& credentials);

}  // namespace missive::sasl
