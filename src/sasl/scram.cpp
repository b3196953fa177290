#include <missive/sasl/mechanisms.hpp>
#include <missive/util/base64.hpp>

#include "sasl/crypto.hpp"

#include <charconv>

namespace missive::sasl {

namespace {

// RFC 5802 5.1: "=" and "," in names are escaped.
std::string saslname(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '=') {
            out += "=3D";
        } else if (c == ',') {
            out += "=2C";
        } else {
            out += c;
        }
    }
    return out;
}

// The value of attribute `key` in "k=v,k=v" (RFC 5802 7), or nullopt.
std::optional<std::string_view> attribute(std::string_view message, char key) {
    while (!message.empty()) {
        const std::size_t comma = message.find(',');
        const std::string_view item = message.substr(0, comma);
        if (item.size() >= 2 && item[0] == key && item[1] == '=') {
            return item.substr(2);
        }
        message = comma == std::string_view::npos ? std::string_view{} : message.substr(comma + 1);
    }
    return std::nullopt;
}

class Scram final : public Mechanism {
public:
    Scram(Credentials c, ScramHash hash, std::string nonce)
        : c_(std::move(c))
        , digest_(hash == ScramHash::sha1 ? detail::Digest::sha1 : detail::Digest::sha256)
        , name_(hash == ScramHash::sha1 ? "SCRAM-SHA-1" : "SCRAM-SHA-256")
        , nonce_(nonce.empty() ? util::base64_encode(detail::random_bytes(24)) : std::move(nonce)) {
    }

    [[nodiscard]] std::string name() const override { return name_; }

    std::optional<std::string> start() override {
        gs2_ = c_.authzid.empty() ? "n,," : "n,a=" + saslname(c_.authzid) + ",";
        first_bare_ = "n=" + saslname(c_.user) + ",r=" + nonce_;
        return gs2_ + first_bare_;
    }

    std::string step(std::string_view challenge) override {
        switch (state_) {
            case State::first:
                state_ = State::last;
                return client_final(challenge);
            case State::last:
                state_ = State::done;
                check_server_final(challenge);
                return {};
            case State::done:
                break;
        }
        detail::fail(name_, "the server sent more challenges than SCRAM has");
    }

    [[nodiscard]] bool verified() const override { return verified_; }

private:
    enum class State { first, last, done };

    std::string client_final(std::string_view server_first) {
        if (attribute(server_first, 'm')) {
            detail::fail(name_, "the server asks for an extension this client does not know");
        }
        const auto nonce = attribute(server_first, 'r');
        const auto salt64 = attribute(server_first, 's');
        const auto iter = attribute(server_first, 'i');
        if (!nonce || !salt64 || !iter) {
            detail::fail(name_, "malformed server-first-message");
        }
        if (nonce->substr(0, nonce_.size()) != nonce_ || nonce->size() == nonce_.size()) {
            detail::fail(name_, "the server's nonce does not extend ours");
        }
        const auto salt = util::base64_decode(*salt64);
        unsigned iterations = 0;
        const auto [ptr, ec] =
            std::from_chars(iter->data(), iter->data() + iter->size(), iterations);
        if (!salt || ec != std::errc{} || ptr != iter->data() + iter->size() || iterations == 0) {
            detail::fail(name_, "malformed salt or iteration count");
        }
        if (iterations > 1'000'000) {
            detail::fail(name_, "iteration count " + std::string(*iter) + " is above 1000000");
        }
        const std::string salted = detail::pbkdf2(digest_, c_.password.reveal(), *salt, iterations);
        const std::string client_key = detail::hmac(digest_, salted, "Client Key");
        const std::string stored_key = detail::hash(digest_, client_key);
        const std::string without_proof =
            "c=" + util::base64_encode(gs2_) + ",r=" + std::string(*nonce);
        const std::string auth_message =
            first_bare_ + "," + std::string(server_first) + "," + without_proof;
        std::string proof = detail::hmac(digest_, stored_key, auth_message);
        for (std::size_t i = 0; i < proof.size(); ++i) {
            proof[i] = static_cast<char>(proof[i] ^ client_key[i]);
        }
        const std::string server_key = detail::hmac(digest_, salted, "Server Key");
        server_signature_ = detail::hmac(digest_, server_key, auth_message);
        return without_proof + ",p=" + util::base64_encode(proof);
    }

    void check_server_final(std::string_view server_final) {
        if (const auto e = attribute(server_final, 'e')) {
            detail::fail(name_, "the server says " + std::string(*e));
        }
        const auto v = attribute(server_final, 'v');
        if (!v || util::base64_decode(*v) != server_signature_) {
            detail::fail(name_, "the server's signature is wrong: it does not know the password");
        }
        verified_ = true;
    }

    Credentials c_;
    detail::Digest digest_;
    std::string name_;
    std::string nonce_;
    std::string gs2_;
    std::string first_bare_;
    std::string server_signature_;
    State state_ = State::first;
    bool verified_ = false;
};

}  // namespace

std::unique_ptr<Mechanism> make_scram(const Credentials& credentials, ScramHash hash,
                                      std::string nonce) {
    return std::make_unique<Scram>(credentials, hash, std::move(nonce));
}

}  // namespace missive::sasl
