// libFuzzer target: net::Url::parse. Property: never crash; a URL names a host and a port, or a
// socket path alone; what names a host prints back (with every part percent-encoded) to a URL
// that parses to the same fields.
#include <missive/error.hpp>
#include <missive/net/url.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using missive::net::Url;

namespace {

std::string encode(std::string_view s) {
    static constexpr std::string_view hex = "0123456789ABCDEF";
    std::string out;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
            c == '.' || c == '-' || c == '_') {
            out += c;
        } else {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 15];
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    Url u;
    try {
        u = Url::parse(text);
    } catch (const missive::Error&) {
        return 0;
    }
    if (!u.socket_path.empty()) {
        // A Unix-domain socket: a path, and neither host nor port.
        if (u.socket_path.front() != '/' || !u.host.empty() || u.port != 0) {
            std::abort();
        }
        return 0;
    }
    if (u.host.empty() || u.port == 0) {
        std::abort();
    }
    // Hosts are taken as written; only those that need no escaping are printed back.
    if (u.host.find_first_of("@/?[]") != std::string::npos ||
        (u.host.find(':') != std::string::npos && u.host.find('%') != std::string::npos)) {
        return 0;
    }
    std::string again = u.scheme + "://";
    if (!u.user.empty() || u.has_password) {
        again += encode(u.user) + (u.has_password ? ":" + encode(u.password) : "") + "@";
    }
    again += (u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host) + ":" +
             std::to_string(u.port);
    char sep = '?';
    for (const auto& [k, v] : u.query) {
        again += sep + encode(k) + "=" + encode(v);
        sep = '&';
    }
    Url back;
    try {
        back = Url::parse(again);
    } catch (const missive::Error&) {
        std::abort();
    }
    if (back.scheme != u.scheme || back.host != u.host || back.port != u.port ||
        back.user != u.user || back.password != u.password || back.query != u.query ||
        back.tls != u.tls) {
        std::abort();
    }
    return 0;
}
