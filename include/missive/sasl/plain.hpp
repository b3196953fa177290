#pragma once

#include <missive/sasl/mechanism.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace missive::sasl {

/**
 * PLAIN (RFC 4616): "authzid NUL user NUL password" as the initial response; no challenge.
 * Verifies nothing about the server: use it over TLS only.
 */
class Plain final : public Mechanism {
public:
    /**
     * @param credentials user, password and optional authzid
     * @throws Error errc::invalid_input when one of them contains NUL (RFC 4616 2)
     */
    explicit Plain(Credentials credentials);

    /** @return "PLAIN" */
    [[nodiscard]] std::string name() const override;

    /** @return authzid NUL user NUL password */
    std::optional<std::string> start() override;

    /** @throws Error errc::auth_failed always: PLAIN has no challenge */
    std::string step(std::string_view challenge) override;

    /** @return true once started */
    [[nodiscard]] bool verified() const override;

private:
    Credentials credentials_;
    bool started_ = false;
};

/** @return a new Plain (see there) behind the base interface, as `choose` returns them. */
std::unique_ptr<Mechanism> make_plain(const Credentials& credentials);

}  // namespace missive::sasl
