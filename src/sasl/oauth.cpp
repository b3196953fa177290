#include <missive/sasl/mechanisms.hpp>

#include "sasl/crypto.hpp"

namespace missive::sasl {

namespace {

// XOAUTH2 and OAUTHBEARER differ only in the initial response and in what answers an error.
class Bearer final : public OAuth {
public:
    Bearer(std::string name, std::string initial, std::string error_answer)
        : name_(std::move(name))
        , initial_(std::move(initial))
        , error_answer_(std::move(error_answer)) {}

    [[nodiscard]] std::string name() const override { return name_; }

    std::optional<std::string> start() override { return initial_; }

    // The only challenge is the server's error, as JSON (RFC 7628 3.2.2); the answer lets the
    // server send its final 5xx.
    std::string step(std::string_view challenge) override {
        if (!error_.empty()) {
            detail::fail(name_, "the server sent a second challenge");
        }
        error_ = std::string(challenge);
        return error_answer_;
    }

    [[nodiscard]] const std::string& error_json() const override { return error_; }

private:
    std::string name_;
    std::string initial_;
    std::string error_answer_;
    std::string error_;
};

}  // namespace

std::unique_ptr<Mechanism> make_xoauth2(const Credentials& credentials) {
    return std::make_unique<Bearer>("XOAUTH2",
                                    "user=" + credentials.user + "\x01" + "auth=Bearer " +
                                        std::string(credentials.password.reveal()) + "\x01\x01",
                                    "");
}

std::unique_ptr<Mechanism> make_oauthbearer(const Credentials& credentials, const std::string& host,
                                            std::uint16_t port) {
    // RFC 7628 3.1: gs2-header, then kvpairs separated by ^A.
    return std::make_unique<Bearer>("OAUTHBEARER",
                                    "n,a=" + credentials.user + ",\x01" + "host=" + host + "\x01" +
                                        "port=" + std::to_string(port) + "\x01" + "auth=Bearer " +
                                        std::string(credentials.password.reveal()) + "\x01\x01",
                                    "\x01");
}

}  // namespace missive::sasl
