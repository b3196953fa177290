#include <missive/sasl/scram.hpp>
#include <missive/util/base64.hpp>

#include "sasl/crypto.hpp"
#include "sasl/text.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

namespace missive::sasl {

namespace {

detail::Digest digest_of(ScramHash hash) {
    return hash == ScramHash::sha1 ? detail::Digest::sha1 : detail::Digest::sha256;
}

// RFC 5802 7: printable = %x21-2B / %x2D-7E (no ",").
bool printable_nonce(std::string_view s) {
    return !s.empty() &&
           std::ranges::all_of(s, [](char c) { return c >= 0x21 && c <= 0x7E && c != ','; });
}

// Splits "a=x,b=y" into its attributes, in order; each must be "<letter>=<value>".
class Attributes {
public:
    explicit Attributes(std::string_view message)
        : rest_(message) {}

    // The next attribute if its name is `key`, consumed; nullopt otherwise.
    std::optional<std::string_view> take(char key) {
        if (rest_.size() < 2 || rest_[0] != key || rest_[1] != '=') {
            return std::nullopt;
        }
        const std::size_t comma = rest_.find(',');
        const std::string_view value = rest_.substr(2, comma - 2);
        rest_ = comma == std::string_view::npos ? std::string_view{} : rest_.substr(comma + 1);
        done_ = comma == std::string_view::npos;
        return value;
    }

    [[nodiscard]] bool done() const { return done_; }

private:
    std::string_view rest_;
    bool done_ = false;
};

}  // namespace

Scram::Scram(const Credentials& credentials, ScramHash hash, std::string nonce)
    : hash_(hash)
    , fixed_nonce_(std::move(nonce)) {
    const std::string mechanism = name();
    const std::string user = detail::saslprep(credentials.user, mechanism, "the user name");
    if (user.empty()) {
        detail::invalid(mechanism, "the user name is empty");  // RFC 5802 5.1
    }
    user_ = detail::saslname(user);
    gs2_ = credentials.authzid.empty()
               ? "n,,"
               : "n,a=" +
                     detail::saslname(detail::saslprep(credentials.authzid, mechanism,
                                                       "the authorization identity")) +
                     ",";
    password_ = detail::saslprep(credentials.password.reveal(), mechanism, "the password");
    if (!fixed_nonce_.empty() && !printable_nonce(fixed_nonce_)) {
        detail::invalid(mechanism, "the client nonce must be printable ASCII without \",\"");
    }
}

std::string Scram::name() const {
    return hash_ == ScramHash::sha1 ? "SCRAM-SHA-1" : "SCRAM-SHA-256";
}

std::optional<std::string> Scram::start() {
    nonce_ = fixed_nonce_.empty() ? util::base64_encode(detail::random_bytes(18)) : fixed_nonce_;
    first_bare_ = "n=" + user_ + ",r=" + nonce_;
    server_signature_ = Secret();
    state_ = State::sent_first;
    return gs2_ + first_bare_;
}

std::string Scram::step(std::string_view challenge) {
    // A throw ends the exchange: whatever comes next is out of turn.
    switch (std::exchange(state_, State::failed)) {
        case State::sent_first: {
            std::string answer = client_final(challenge);
            state_ = State::sent_final;
            return answer;
        }
        case State::sent_final:
            check_server_final(challenge);
            state_ = State::verified;
            return {};
        case State::idle:
        case State::verified:
        case State::failed:
            break;
    }
    detail::fail(name(), "challenge out of turn (SCRAM has two)");
}

bool Scram::verified() const {
    return state_ == State::verified;
}

// RFC 5802 3 and 7: server-first-message = [reserved-mext ","] nonce "," salt ","
// iteration-count ["," extensions]
std::string Scram::client_final(std::string_view server_first) {
    const std::string mechanism = name();
    Attributes a(server_first);
    if (a.take('m')) {
        detail::fail(mechanism, "the server requires an extension this client does not know");
    }
    const auto nonce = a.take('r');
    const auto salt64 = nonce ? a.take('s') : std::nullopt;
    const auto iter = salt64 ? a.take('i') : std::nullopt;
    if (!iter) {
        detail::fail(mechanism,
                     "malformed server-first-message: \"" + detail::printable(server_first) + "\"");
    }
    if (!nonce->starts_with(nonce_) || nonce->size() == nonce_.size() || !printable_nonce(*nonce)) {
        detail::fail(mechanism, "the server's nonce does not extend ours");
    }
    const auto salt = util::base64_decode(*salt64);
    if (!salt || salt->empty()) {
        detail::fail(mechanism, "the server's salt is not base64");
    }
    unsigned iterations = 0;
    const char* end = iter->data() + iter->size();
    const auto [ptr, ec] = std::from_chars(iter->data(), end, iterations);
    // posit-number = %x31-39 *DIGIT: no sign, no leading zero
    if (iter->empty() || iter->front() == '0' || ec == std::errc::invalid_argument || ptr != end) {
        detail::fail(mechanism, "the server's iteration count is not a positive number");
    }
    if (ec == std::errc::result_out_of_range || iterations > max_iterations) {
        detail::fail(mechanism, "the server's iteration count " + detail::printable(*iter) +
                                    " is above the limit of 1000000");
    }
    const detail::Digest d = digest_of(hash_);
    // RFC 5802 3: SaltedPassword := Hi(Normalize(password), salt, i), Hi being PBKDF2
    const Secret salted = detail::pbkdf2(d, password_.reveal(), *salt, iterations);
    const Secret client_key = detail::hmac(d, salted.reveal(), "Client Key");
    const std::string stored_key = detail::hash(d, client_key.reveal());
    std::string without_proof = "c=" + util::base64_encode(gs2_) + ",r=" + std::string(*nonce);
    const std::string auth_message =
        first_bare_ + "," + std::string(server_first) + "," + without_proof;
    std::string proof = detail::hmac(d, stored_key, auth_message);
    const std::string_view key = client_key.reveal();
    for (std::size_t i = 0; i < proof.size(); ++i) {
        proof[i] = static_cast<char>(proof[i] ^ key[i]);
    }
    const Secret server_key = detail::hmac(d, salted.reveal(), "Server Key");
    server_signature_ = detail::hmac(d, server_key.reveal(), auth_message);
    return std::move(without_proof) + ",p=" + util::base64_encode(proof);
}

// RFC 5802 7: server-final-message = (server-error / verifier) ["," extensions]
void Scram::check_server_final(std::string_view server_final) {
    const std::string mechanism = name();
    Attributes a(server_final);
    if (const auto e = a.take('e')) {
        detail::fail(mechanism, "the server refused: " + detail::printable(*e));
    }
    const auto v = a.take('v');
    if (!v) {
        detail::fail(mechanism,
                     "malformed server-final-message: \"" + detail::printable(server_final) + "\"");
    }
    const auto signature = util::base64_decode(*v);
    if (!signature || !detail::equal(*signature, server_signature_.reveal())) {
        detail::fail(mechanism, "the server's signature is wrong: it does not know the password");
    }
}

std::unique_ptr<Mechanism> make_scram(const Credentials& credentials, ScramHash hash,
                                      std::string nonce) {
    return std::make_unique<Scram>(credentials, hash, std::move(nonce));
}

}  // namespace missive::sasl
