#include <missive/sasl/mechanisms.hpp>

#include "sasl/crypto.hpp"

namespace missive::sasl {

namespace {

class Plain final : public Mechanism {
public:
    explicit Plain(Credentials c)
        : c_(std::move(c)) {}

    [[nodiscard]] std::string name() const override { return "PLAIN"; }

    std::optional<std::string> start() override {
        // RFC 4616 2: [authzid] NUL authcid NUL passwd
        std::string r = c_.authzid;
        r += '\0';
        r += c_.user;
        r += '\0';
        r += c_.password.reveal();
        return r;
    }

    std::string step(std::string_view /*challenge*/) override {
        detail::fail("PLAIN", "the server sent a challenge after the credentials");
    }

private:
    Credentials c_;
};

class Login final : public Mechanism {
public:
    explicit Login(Credentials c)
        : c_(std::move(c)) {}

    [[nodiscard]] std::string name() const override { return "LOGIN"; }

    std::optional<std::string> start() override { return std::nullopt; }

    // The challenges say "Username:" and "Password:", in varying spellings: answer by order.
    std::string step(std::string_view /*challenge*/) override {
        switch (steps_++) {
            case 0:
                return c_.user;
            case 1:
                return std::string(c_.password.reveal());
            default:
                detail::fail("LOGIN", "the server asked for more than user and password");
        }
    }

private:
    Credentials c_;
    int steps_ = 0;
};

class CramMd5 final : public Mechanism {
public:
    explicit CramMd5(Credentials c)
        : c_(std::move(c)) {}

    [[nodiscard]] std::string name() const override { return "CRAM-MD5"; }

    std::optional<std::string> start() override { return std::nullopt; }

    std::string step(std::string_view challenge) override {
        if (done_) {
            detail::fail("CRAM-MD5", "the server sent a second challenge");
        }
        done_ = true;
        // RFC 2195 2: user SP hex(HMAC-MD5(password, challenge))
        return c_.user + " " +
               detail::hex(detail::hmac(detail::Digest::md5, c_.password.reveal(), challenge));
    }

private:
    Credentials c_;
    bool done_ = false;
};

}  // namespace

std::unique_ptr<Mechanism> make_plain(const Credentials& credentials) {
    return std::make_unique<Plain>(credentials);
}

std::unique_ptr<Mechanism> make_login(const Credentials& credentials) {
    return std::make_unique<Login>(credentials);
}

std::unique_ptr<Mechanism> make_cram_md5(const Credentials& credentials) {
    return std::make_unique<CramMd5>(credentials);
}

}  // namespace missive::sasl
