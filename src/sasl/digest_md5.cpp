#include <missive/sasl/digest_md5.hpp>
#include <missive/util/base64.hpp>

#include "sasl/crypto.hpp"
#include "sasl/text.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace missive::sasl {

namespace {

constexpr std::string_view mechanism = "DIGEST-MD5";

using Directives = std::vector<std::pair<std::string, std::string>>;

bool is_lws(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// RFC 2831 7.1 (and RFC 2616 2.2): 1#( token "=" ( token | quoted-string ) ), with empty list
// elements and linear white space allowed. Keys are returned in lower case.
Directives parse(std::string_view s) {
    Directives out;
    std::size_t i = 0;
    const auto skip_separators = [&] {
        while (i < s.size() && (is_lws(s[i]) || s[i] == ',')) {
            ++i;
        }
    };
    const auto token_char = [](char c) {
        return c > 0x20 && c < 0x7F &&
               std::string_view("()<>@,;:\\\"/[]?={}").find(c) == std::string_view::npos;
    };
    skip_separators();
    while (i < s.size()) {
        const std::size_t key_begin = i;
        while (i < s.size() && token_char(s[i])) {
            ++i;
        }
        std::string key = util::ascii_lower(s.substr(key_begin, i - key_begin));
        while (i < s.size() && is_lws(s[i])) {
            ++i;
        }
        if (key.empty() || i == s.size() || s[i] != '=') {
            detail::fail(mechanism, "malformed challenge: \"" + detail::printable(s) + "\"");
        }
        ++i;
        while (i < s.size() && is_lws(s[i])) {
            ++i;
        }
        std::string value;
        if (i < s.size() && s[i] == '"') {
            for (++i; i < s.size() && s[i] != '"'; ++i) {
                if (s[i] == '\\') {  // quoted-pair
                    ++i;
                    if (i == s.size()) {
                        break;
                    }
                }
                value += s[i];
            }
            if (i == s.size()) {
                detail::fail(mechanism, "unterminated quoted string in the challenge");
            }
            ++i;
        } else {
            const std::size_t value_begin = i;
            while (i < s.size() && token_char(s[i])) {
                ++i;
            }
            value = std::string(s.substr(value_begin, i - value_begin));
        }
        while (i < s.size() && is_lws(s[i])) {
            ++i;
        }
        if (i < s.size() && s[i] != ',') {
            detail::fail(mechanism, "malformed challenge: \"" + detail::printable(s) + "\"");
        }
        out.emplace_back(std::move(key), std::move(value));
        skip_separators();
    }
    return out;
}

// The values of `key`, in order.
std::vector<std::string_view> all(const Directives& d, std::string_view key) {
    std::vector<std::string_view> out;
    for (const auto& [k, v] : d) {
        if (k == key) {
            out.emplace_back(v);
        }
    }
    return out;
}

// The value of a directive that may appear at most once (RFC 2831 2.1.1); nullopt when absent.
std::optional<std::string_view> once(const Directives& d, std::string_view key) {
    const auto values = all(d, key);
    if (values.size() > 1) {
        detail::fail(mechanism, "the challenge has " + std::string(key) + " more than once");
    }
    return values.empty() ? std::nullopt : std::optional(values.front());
}

// qop-options: a quoted, comma-separated list of tokens.
bool offers_auth(std::string_view qop) {
    while (!qop.empty()) {
        const std::size_t comma = qop.find(',');
        std::string_view item = qop.substr(0, comma);
        while (!item.empty() && is_lws(item.front())) {
            item.remove_prefix(1);
        }
        while (!item.empty() && is_lws(item.back())) {
            item.remove_suffix(1);
        }
        if (util::ascii_lower(item) == "auth") {
            return true;
        }
        qop = comma == std::string_view::npos ? std::string_view{} : qop.substr(comma + 1);
    }
    return false;
}

// RFC 2831 7.2: quoted-string, with '"' and '\' as quoted-pairs.
std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + '"';
}

// ISO 8859-1 for a server without charset=utf-8, or nullopt when `s` does not fit.
std::optional<std::string> latin1(std::string_view s) {
    const std::string converted = detail::latin1_if_possible(s);
    const bool ascii = std::ranges::all_of(s, [](char c) { return (c & 0x80) == 0; });
    if (!ascii && converted == s) {
        return std::nullopt;  // has a character outside ISO 8859-1, or is not UTF-8
    }
    return converted;
}

std::string md5(std::string_view s) {
    return detail::hash(detail::Digest::md5, s);
}

std::string md5_hex(std::string_view s) {
    return detail::hex(md5(s));
}

}  // namespace

DigestMd5::DigestMd5(Credentials credentials, std::string_view host, std::string cnonce,
                     std::string_view service)
    : credentials_(std::move(credentials))
    , digest_uri_(std::string(service) + "/" + std::string(host))
    , fixed_cnonce_(std::move(cnonce)) {}

std::string DigestMd5::name() const {
    return std::string(mechanism);
}

std::optional<std::string> DigestMd5::start() {
    cnonce_ = fixed_cnonce_.empty() ? util::base64_encode(detail::random_bytes(12)) : fixed_cnonce_;
    expected_rspauth_ = Secret();
    state_ = State::started;
    return std::nullopt;
}

std::string DigestMd5::step(std::string_view challenge) {
    // A throw ends the exchange: whatever comes next is out of turn.
    switch (std::exchange(state_, State::failed)) {
        case State::started: {
            std::string answer = respond(challenge);
            state_ = State::sent_response;
            return answer;
        }
        case State::sent_response:
            check_rspauth(challenge);
            state_ = State::verified;
            return {};
        case State::idle:
        case State::verified:
        case State::failed:
            break;
    }
    detail::fail(mechanism, "challenge out of turn (DIGEST-MD5 has two)");
}

bool DigestMd5::verified() const {
    return state_ == State::verified;
}

// RFC 2831 2.1.2
std::string DigestMd5::respond(std::string_view challenge) {
    const Directives d = parse(challenge);
    const auto nonce = once(d, "nonce");
    if (!nonce) {
        detail::fail(mechanism, "the challenge has no nonce");
    }
    const auto qop = once(d, "qop");  // absent means "auth"
    if (qop && !offers_auth(*qop)) {
        detail::fail(mechanism, "the server does not offer qop=auth");
    }
    const auto algorithm = once(d, "algorithm");
    if (!algorithm || util::ascii_lower(*algorithm) != "md5-sess") {
        detail::fail(mechanism, "the challenge's algorithm is not md5-sess");
    }
    const auto charset = once(d, "charset");
    if (charset && util::ascii_lower(*charset) != "utf-8") {
        detail::fail(mechanism, "the challenge's charset is not utf-8");
    }
    const auto realms = all(d, "realm");
    const std::string realm = realms.empty() ? std::string() : std::string(realms.front());

    // Names as sent, and as hashed (RFC 2831 2.1.2.1).
    std::string user = credentials_.user;
    std::string hashed_user;
    std::string hashed_realm;
    Secret hashed_password;
    if (charset) {
        hashed_user = detail::latin1_if_possible(user);
        hashed_realm = detail::latin1_if_possible(realm);
        hashed_password = detail::latin1_if_possible(credentials_.password.reveal());
    } else {
        auto u = latin1(user);
        auto p = latin1(credentials_.password.reveal());
        if (!u || !p) {
            detail::fail(mechanism,
                         "the server does not accept UTF-8, and the user name or the password "
                         "does not fit ISO 8859-1");
        }
        user = *u;
        hashed_user = std::move(*u);
        hashed_realm = realm;  // as the server sent it
        hashed_password = std::move(*p);
    }

    // A1 = H(user ":" realm ":" password) ":" nonce ":" cnonce [":" authzid]
    const Secret a1 =
        md5(hashed_user + ":" + hashed_realm + ":" + std::string(hashed_password.reveal())) + ":" +
        std::string(*nonce) + ":" + cnonce_ +
        (credentials_.authzid.empty() ? "" : ":" + credentials_.authzid);
    const Secret ha1 = md5_hex(a1.reveal());
    const auto kd = [&](std::string_view a2) {
        return md5_hex(std::string(ha1.reveal()) + ":" + std::string(*nonce) +
                       ":00000001:" + cnonce_ + ":auth:" + md5_hex(a2));
    };
    expected_rspauth_ = kd(":" + digest_uri_);  // RFC 2831 2.1.3: A2 without "AUTHENTICATE"

    std::string r = charset ? "charset=utf-8," : "";
    r += "username=" + quoted(user);
    if (!realms.empty()) {
        r += ",realm=" + quoted(realm);
    }
    r += ",nonce=" + quoted(*nonce) + ",nc=00000001,cnonce=" + quoted(cnonce_) +
         ",digest-uri=" + quoted(digest_uri_) + ",response=" + kd("AUTHENTICATE:" + digest_uri_) +
         ",qop=auth";
    if (!credentials_.authzid.empty()) {
        r += ",authzid=" + quoted(credentials_.authzid);
    }
    return r;
}

// RFC 2831 2.1.3: response-auth = "rspauth" "=" response-value
void DigestMd5::check_rspauth(std::string_view challenge) {
    const Directives d = parse(challenge);
    const auto rspauth = once(d, "rspauth");
    if (!rspauth) {
        detail::fail(mechanism, "the second challenge has no rspauth");
    }
    if (!detail::equal(*rspauth, expected_rspauth_.reveal())) {
        detail::fail(mechanism, "the server's rspauth is wrong: it does not know the password");
    }
}

std::unique_ptr<Mechanism> make_digest_md5(const Credentials& credentials, std::string_view host,
                                           std::string cnonce, std::string_view service) {
    return std::make_unique<DigestMd5>(credentials, host, std::move(cnonce), service);
}

}  // namespace missive::sasl
