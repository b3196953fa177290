#include <missive/error.hpp>
#include <missive/net/proxy.hpp>
#include <missive/net/url.hpp>

#include <openssl/evp.h>

#include <array>
#include <string>
#include <vector>

namespace missive::net {

namespace {

[[noreturn]] void refused(const Proxy& proxy, std::string_view host, std::uint16_t port,
                          const std::string& why) {
    throw Error(errc::connect_failed, "proxy " + proxy.redacted() + " could not connect to " +
                                          std::string(host) + ":" + std::to_string(port) + ": " +
                                          why);
}

// Reads exactly n bytes (the proxy's replies have known lengths).
std::string read_exact(BlockingStream& s, std::size_t n, Deadline deadline,
                       const std::stop_token& stop, const Proxy& proxy) {
    std::string out;
    std::array<char, 512> buf{};
    while (out.size() < n) {
        const std::size_t want = std::min(buf.size(), n - out.size());
        const std::size_t got = s.read_some(std::span<char>(buf.data(), want), deadline, stop);
        if (got == 0) {
            s.close();
            throw Error(errc::connect_failed, "proxy " + proxy.redacted() +
                                                  " closed the connection during its handshake");
        }
        out.append(buf.data(), got);
    }
    return out;
}

std::string base64(std::string_view in) {
    std::string out(4 * ((in.size() + 2) / 3), '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(in.data()),
                                  static_cast<int>(in.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

const char* socks5_reason(unsigned char rep) {
    switch (rep) {  // RFC 1928 6
        case 1:
            return "general SOCKS server failure";
        case 2:
            return "connection not allowed by ruleset";
        case 3:
            return "network unreachable";
        case 4:
            return "host unreachable";
        case 5:
            return "connection refused";
        case 6:
            return "TTL expired";
        case 7:
            return "command not supported";
        case 8:
            return "address type not supported";
        default:
            return "unknown SOCKS5 error";
    }
}

void socks5(BlockingStream& s, const Proxy& p, std::string_view host, std::uint16_t port,
            Deadline deadline, const std::stop_token& stop) {
    const bool auth = !p.user.empty() || !p.password.empty();
    if (p.user.size() > 255 || p.password.size() > 255 || host.size() > 255) {
        throw Error(errc::config, "SOCKS5 user, password and host name are at most 255 octets");
    }
    // Greeting: version 5, the methods we offer: 0 (none) or 2 (user/password, RFC 1929).
    std::string hello = auth ? std::string("\x05\x01\x02", 3) : std::string("\x05\x01\x00", 3);
    s.write_all(hello, deadline, stop);
    const std::string choice = read_exact(s, 2, deadline, stop, p);
    if (choice[0] != 5) {
        s.close();
        throw Error(errc::protocol, "proxy " + p.redacted() + " does not speak SOCKS5");
    }
    if (static_cast<unsigned char>(choice[1]) == 0xff) {
        s.close();
        refused(p, host, port,
                auth ? "it does not accept user/password authentication"
                     : "it requires authentication");
    }
    if (choice[1] == 2) {
        std::string login = "\x01";
        login += static_cast<char>(p.user.size());
        login += p.user;
        login += static_cast<char>(p.password.size());
        login += p.password;
        s.write_all(login, deadline, stop);
        const std::string status = read_exact(s, 2, deadline, stop, p);
        if (status[1] != 0) {
            s.close();
            refused(p, host, port, "it refused the user name or password");
        }
    } else if (choice[1] != 0) {
        s.close();
        throw Error(errc::protocol, "proxy " + p.redacted() + " chose an unknown SOCKS5 method");
    }
    // CONNECT by name (ATYP 3), so that the proxy resolves it (an IP literal is a name too).
    std::string request("\x05\x01\x00", 3);
    request += '\x03';
    request += static_cast<char>(host.size());
    request += host;
    request += static_cast<char>(port >> 8);
    request += static_cast<char>(port & 0xff);
    s.write_all(request, deadline, stop);
    const std::string head = read_exact(s, 5, deadline, stop, p);
    if (head[0] != 5) {
        s.close();
        throw Error(errc::protocol, "proxy " + p.redacted() + " sent a malformed SOCKS5 reply");
    }
    if (head[1] != 0) {
        s.close();
        refused(p, host, port, socks5_reason(static_cast<unsigned char>(head[1])));
    }
    // The bound address that follows: IPv4 (4), name (1 + length), IPv6 (16), then the port.
    std::size_t rest = 0;
    switch (head[3]) {
        case 1:
            rest = 4 - 1 + 2;
            break;
        case 3:
            rest = static_cast<unsigned char>(head[4]) + 2;
            break;
        case 4:
            rest = 16 - 1 + 2;
            break;
        default:
            s.close();
            throw Error(errc::protocol, "proxy " + p.redacted() + " sent a malformed SOCKS5 reply");
    }
    (void)read_exact(s, rest, deadline, stop, p);
}

void http_connect(BlockingStream& s, const Proxy& p, std::string_view host, std::uint16_t port,
                  Deadline deadline, const std::stop_token& stop) {
    const std::string target =
        (host.find(':') != std::string_view::npos ? "[" + std::string(host) + "]"
                                                  : std::string(host)) +
        ":" + std::to_string(port);
    std::string request = "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n";
    if (!p.user.empty() || !p.password.empty()) {
        request += "Proxy-Authorization: Basic " + base64(p.user + ":" + p.password) + "\r\n";
    }
    request += "\r\n";
    s.write_all(request, deadline, stop);
    // Read the response head byte by byte: what follows it belongs to the mail server.
    std::string head;
    constexpr std::size_t max_head = 8192;
    while (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0) {
        if (head.size() >= max_head) {
            s.close();
            throw Error(errc::protocol, "proxy " + p.redacted() + " sent an endless response");
        }
        head += read_exact(s, 1, deadline, stop, p);
    }
    const std::string status = head.substr(0, head.find("\r\n"));
    if (status.rfind("HTTP/1.", 0) != 0 || status.size() < 12) {
        s.close();
        throw Error(errc::protocol, "proxy " + p.redacted() + " did not answer in HTTP");
    }
    if (status[9] != '2') {
        s.close();
        refused(p, host, port, "it answered " + status);
    }
}

}  // namespace

Proxy Proxy::parse(std::string_view url) {
    Proxy p;
    if (url.rfind("socks5://", 0) == 0 || url.rfind("socks5h://", 0) == 0) {
        p.kind = Kind::socks5;
        p.port = 1080;
    } else if (url.rfind("http://", 0) == 0) {
        p.kind = Kind::http;
        p.port = 8080;
    } else {
        throw Error(errc::config, "proxy URL must start with socks5:// or http://");
    }
    // The authority has the same shape as a mail server URL's: parse it as one.
    const std::string as_smtp = "smtp://" + std::string(url.substr(url.find("://") + 3));
    const Url u = Url::parse(as_smtp);
    if (!u.query.empty()) {
        throw Error(errc::config, "proxy URL takes no options");
    }
    p.host = u.host;
    p.user = u.user;
    p.password = u.password;
    // Url fills in SMTP's port 25 when none is given; keep the proxy's default then.
    std::string_view authority = url.substr(url.find("://") + 3);
    authority = authority.substr(
        authority.rfind('@') == std::string_view::npos ? 0 : authority.rfind('@') + 1);
    const std::size_t bracket = authority.rfind(']');
    const bool explicit_port =
        authority.find(':', bracket == std::string_view::npos ? 0 : bracket) !=
        std::string_view::npos;
    if (explicit_port) {
        p.port = u.port;
    }
    return p;
}

std::string Proxy::redacted() const {
    std::string out = kind == Kind::socks5 ? "socks5://" : "http://";
    if (!user.empty() || !password.empty()) {
        out += user + (password.empty() ? "" : ":***") + "@";  // never the password
    }
    return out + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
           std::to_string(port);
}

void open_tunnel(BlockingStream& stream, const Proxy& proxy, std::string_view host,
                 std::uint16_t port, Deadline deadline, const std::stop_token& stop) {
    if (proxy.kind == Proxy::Kind::socks5) {
        socks5(stream, proxy, host, port, deadline, stop);
    } else {
        http_connect(stream, proxy, host, port, deadline, stop);
    }
}

}  // namespace missive::net
