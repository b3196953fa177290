#include <missive/sasl/choose.hpp>
#include <missive/sasl/cram_md5.hpp>
#include <missive/sasl/digest_md5.hpp>
#include <missive/sasl/login.hpp>
#include <missive/sasl/oauthbearer.hpp>
#include <missive/sasl/plain.hpp>
#include <missive/sasl/scram.hpp>
#include <missive/sasl/xoauth2.hpp>

#include <algorithm>
#include <array>

namespace missive::sasl {

namespace {

// RFC 4422 3.1: mechanism names are upper-case, but servers and users are not always careful.
bool same_name(std::string_view a, std::string_view b) {
    const auto upper = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; };
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [&](char x, char y) { return upper(x) == upper(y); });
}

std::unique_ptr<Mechanism> make(std::string_view name, const Credentials& c, std::string_view host,
                                std::uint16_t port) {
    if (same_name(name, "SCRAM-SHA-256")) {
        return make_scram(c, ScramHash::sha256);
    }
    if (same_name(name, "SCRAM-SHA-1")) {
        return make_scram(c, ScramHash::sha1);
    }
    if (same_name(name, "CRAM-MD5")) {
        return make_cram_md5(c);
    }
    if (same_name(name, "PLAIN")) {
        return make_plain(c);
    }
    if (same_name(name, "LOGIN")) {
        return make_login(c);
    }
    if (same_name(name, "DIGEST-MD5")) {
        return make_digest_md5(c, host);
    }
    if (same_name(name, "XOAUTH2")) {
        return make_xoauth2(c);
    }
    if (same_name(name, "OAUTHBEARER")) {
        return make_oauthbearer(c, host, port);
    }
    return nullptr;
}

}  // namespace

std::unique_ptr<Mechanism> choose(const std::vector<std::string>& offered,
                                  const Credentials& credentials,
                                  std::span<const std::string> preference, std::string_view host,
                                  std::uint16_t port) {
    static const std::array<std::string, 5> strongest_first = {"SCRAM-SHA-256", "SCRAM-SHA-1",
                                                               "CRAM-MD5", "PLAIN", "LOGIN"};
    const std::span<const std::string> order =
        preference.empty() ? std::span<const std::string>(strongest_first) : preference;
    for (const std::string& name : order) {
        const bool is_offered =
            std::ranges::any_of(offered, [&](const std::string& o) { return same_name(o, name); });
        if (is_offered) {
            if (auto m = make(name, credentials, host, port)) {
                return m;
            }
        }
    }
    return nullptr;
}

}  // namespace missive::sasl
