#include <missive/sasl/mechanisms.hpp>
#include <missive/util/base64.hpp>

#include "sasl/crypto.hpp"

#include <map>

namespace missive::sasl {

namespace {

// RFC 2831 7.1: key=value or key="quoted\"value", separated by commas.
std::map<std::string, std::string> directives(std::string_view s) {
    std::map<std::string, std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ',' || s[i] == ' ')) {
            ++i;
        }
        const std::size_t eq = s.find('=', i);
        if (eq == std::string_view::npos) {
            break;
        }
        std::string key(s.substr(i, eq - i));
        std::string value;
        i = eq + 1;
        if (i < s.size() && s[i] == '"') {
            for (++i; i < s.size() && s[i] != '"'; ++i) {
                if (s[i] == '\\' && i + 1 < s.size()) {
                    ++i;
                }
                value += s[i];
            }
            ++i;
        } else {
            const std::size_t comma = s.find(',', i);
            value = std::string(s.substr(i, comma - i));
            i = comma == std::string_view::npos ? s.size() : comma;
        }
        out.try_emplace(std::move(key), std::move(value));  // the first realm wins
    }
    return out;
}

class DigestMd5 final : public Mechanism {
public:
    DigestMd5(Credentials c, const std::string& host, std::string cnonce, std::string service)
        : c_(std::move(c))
        , uri_(std::move(service) + "/" + host)
        , cnonce_(cnonce.empty() ? util::base64_encode(detail::random_bytes(12))
                                 : std::move(cnonce)) {}

    [[nodiscard]] std::string name() const override { return "DIGEST-MD5"; }

    std::optional<std::string> start() override { return std::nullopt; }

    std::string step(std::string_view challenge) override {
        if (step_++ == 0) {
            return respond(directives(challenge));
        }
        const auto d = directives(challenge);
        const auto it = d.find("rspauth");
        if (step_ != 2 || it == d.end() || it->second != expected_rspauth_) {
            detail::fail("DIGEST-MD5",
                         "the server's rspauth is wrong: it does not know the password");
        }
        verified_ = true;
        return {};
    }

    [[nodiscard]] bool verified() const override { return verified_; }

private:
    // RFC 2831 2.1.2.1
    [[nodiscard]] std::string response_value(const std::string& a2) const {
        using detail::Digest;
        std::string a1 = detail::hash(Digest::md5, c_.user + ":" + realm_ + ":" +
                                                       std::string(c_.password.reveal())) +
                         ":" + nonce_ + ":" + cnonce_;
        if (!c_.authzid.empty()) {
            a1 += ":" + c_.authzid;
        }
        return detail::hex(detail::hash(
            Digest::md5, detail::hex(detail::hash(Digest::md5, a1)) + ":" + nonce_ + ":00000001:" +
                             cnonce_ + ":auth:" + detail::hex(detail::hash(Digest::md5, a2))));
    }

    std::string respond(const std::map<std::string, std::string>& d) {
        const auto nonce = d.find("nonce");
        if (nonce == d.end()) {
            detail::fail("DIGEST-MD5", "the challenge has no nonce");
        }
        const auto qop = d.find("qop");
        if (qop != d.end() && qop->second.find("auth") == std::string::npos) {
            detail::fail("DIGEST-MD5", "the server does not offer qop=auth");
        }
        nonce_ = nonce->second;
        const auto realm = d.find("realm");
        realm_ = realm == d.end() ? std::string() : realm->second;
        expected_rspauth_ = response_value(":" + uri_);
        std::string r = "charset=utf-8,username=\"" + c_.user + "\",realm=\"" + realm_ +
                        "\",nonce=\"" + nonce_ + "\",nc=00000001,cnonce=\"" + cnonce_ +
                        "\",digest-uri=\"" + uri_ +
                        "\",response=" + response_value("AUTHENTICATE:" + uri_) + ",qop=auth";
        if (!c_.authzid.empty()) {
            r += ",authzid=\"" + c_.authzid + "\"";
        }
        return r;
    }

    Credentials c_;
    std::string uri_;
    std::string cnonce_;
    std::string nonce_;
    std::string realm_;
    std::string expected_rspauth_;
    int step_ = 0;
    bool verified_ = false;
};

}  // namespace

std::unique_ptr<Mechanism> make_digest_md5(const Credentials& credentials, const std::string& host,
                                           std::string cnonce, std::string service) {
    return std::make_unique<DigestMd5>(credentials, host, std::move(cnonce), std::move(service));
}

}  // namespace missive::sasl
