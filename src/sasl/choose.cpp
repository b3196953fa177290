#include <missive/sasl/mechanisms.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace missive::sasl {

namespace {

std::unique_ptr<Mechanism> make(std::string_view name, const Credentials& c,
                                const std::string& host, std::uint16_t port) {
    if (name == "SCRAM-SHA-256") {
        return make_scram(c, ScramHash::sha256);
    }
    if (name == "SCRAM-SHA-1") {
        return make_scram(c, ScramHash::sha1);
    }
    if (name == "CRAM-MD5") {
        return make_cram_md5(c);
    }
    if (name == "PLAIN") {
        return make_plain(c);
    }
    if (name == "LOGIN") {
        return make_login(c);
    }
    if (name == "DIGEST-MD5") {
        return make_digest_md5(c, host);
    }
    if (name == "XOAUTH2") {
        return make_xoauth2(c);
    }
    if (name == "OAUTHBEARER") {
        return make_oauthbearer(c, host, port);
    }
    return nullptr;
}

}  // namespace

std::unique_ptr<Mechanism> choose(const std::vector<std::string>& offered,
                                  const Credentials& credentials,
                                  std::span<const std::string> preference, const std::string& host,
                                  std::uint16_t port) {
    static constexpr std::array<std::string_view, 5> strongest_first = {
        "SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN"};
    auto is_offered = [&](std::string_view name) {
        return std::find(offered.begin(), offered.end(), name) != offered.end();
    };
    if (!preference.empty()) {
        for (const auto& wanted : preference) {
            std::string name(wanted);
            for (char& ch : name) {
                ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
            }
            if (is_offered(name)) {
                return make(name, credentials, host, port);
            }
        }
        return nullptr;
    }
    for (std::string_view name : strongest_first) {
        if (is_offered(name)) {
            return make(name, credentials, host, port);
        }
    }
    return nullptr;
}

}  // namespace missive::sasl
