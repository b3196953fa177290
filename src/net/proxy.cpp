#include <missive/error.hpp>
#include <missive/net/proxy.hpp>
#include <missive/net/url.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <vector>

namespace missive::net {

namespace {

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

constexpr std::size_t max_http_head = 8192;

}  // namespace

ProxyHandshake::ProxyHandshake(Proxy proxy, std::string_view host, std::uint16_t port)
    : proxy_(std::move(proxy))
    , host_(host)
    , port_(port) {
    if (proxy_.kind == Proxy::Kind::socks5) {
        if (proxy_.user.size() > 255 || proxy_.password.size() > 255 || host_.size() > 255) {
            throw Error(errc::config, "SOCKS5 user, password and host name are at most 255 octets");
        }
        // Greeting: version 5, the methods we offer: 0 (none) or 2 (user/password, RFC 1929).
        const bool auth = !proxy_.user.empty() || !proxy_.password.empty();
        out_ = auth ? std::string("\x05\x01\x02", 3) : std::string("\x05\x01\x00", 3);
        step_ = Step::socks_method;
        need_ = 2;
    } else {
        const std::string target =
            (host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_) + ":" +
            std::to_string(port_);
        out_ = "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n";
        if (!proxy_.user.empty() || !proxy_.password.empty()) {
            out_ += "Proxy-Authorization: Basic " + base64(proxy_.user + ":" + proxy_.password) +
                    "\r\n";
        }
        out_ += "\r\n";
        step_ = Step::http_head;
        need_ = 4;
    }
}

std::string_view ProxyHandshake::output() const {
    return std::string_view(out_).substr(out_pos_);
}

void ProxyHandshake::consume_output(std::size_t n) {
    out_pos_ = std::min(out_.size(), out_pos_ + n);
    if (out_pos_ == out_.size()) {
        out_.clear();
        out_pos_ = 0;
    }
}

std::size_t ProxyHandshake::input_wanted() const {
    if (step_ == Step::done || !output().empty()) {
        return 0;
    }
    if (step_ == Step::http_head) {
        // Never past the blank line that ends the head: what follows is the mail server's.
        for (std::size_t k = 3; k > 0; --k) {
            if (in_.size() >= k && std::string_view(in_).substr(in_.size() - k) ==
                                       std::string_view("\r\n\r\n").substr(0, k)) {
                return 4 - k;
            }
        }
        return 4;
    }
    return need_ - in_.size();
}

void ProxyHandshake::receive(std::string_view bytes) {
    if (bytes.size() > input_wanted()) {
        throw Error(errc::invalid_input, "ProxyHandshake::receive: more bytes than asked for");
    }
    in_.append(bytes);
    if (step_ == Step::http_head) {
        http_head();
    } else if (in_.size() == need_) {
        socks_reply();
    }
}

void ProxyHandshake::receive_eof() {
    throw Error(errc::connect_failed,
                "proxy " + proxy_.redacted() + " closed the connection during its handshake");
}

bool ProxyHandshake::done() const {
    return step_ == Step::done;
}

void ProxyHandshake::refused(const std::string& why) const {
    throw Error(errc::connect_failed, "proxy " + proxy_.redacted() + " could not connect to " +
                                          host_ + ":" + std::to_string(port_) + ": " + why);
}

void ProxyHandshake::malformed(const char* what) const {
    throw Error(errc::protocol, "proxy " + proxy_.redacted() + " " + what);
}

void ProxyHandshake::socks_reply() {
    const std::string reply = std::exchange(in_, std::string());
    switch (step_) {
        case Step::socks_method:
            if (reply[0] != 5) {
                malformed("does not speak SOCKS5");
            }
            if (static_cast<unsigned char>(reply[1]) == 0xff) {
                refused(proxy_.user.empty() && proxy_.password.empty()
                            ? "it requires authentication"
                            : "it does not accept user/password authentication");
            }
            if (reply[1] == 2) {
                out_ = "\x01";
                out_ += static_cast<char>(proxy_.user.size());
                out_ += proxy_.user;
                out_ += static_cast<char>(proxy_.password.size());
                out_ += proxy_.password;
                step_ = Step::socks_login;
                need_ = 2;
                return;
            }
            if (reply[1] != 0) {
                malformed("chose an unknown SOCKS5 method");
            }
            socks_connect();
            return;
        case Step::socks_login:
            if (reply[1] != 0) {
                refused("it refused the user name or password");
            }
            socks_connect();
            return;
        case Step::socks_reply_head: {
            if (reply[0] != 5) {
                malformed("sent a malformed SOCKS5 reply");
            }
            if (reply[1] != 0) {
                refused(socks5_reason(static_cast<unsigned char>(reply[1])));
            }
            // The bound address that follows: IPv4 (4), name (1 + length), IPv6 (16), then
            // the port; the head's last octet is the first of it.
            switch (reply[3]) {
                case 1:
                    need_ = 4 - 1 + 2;
                    break;
                case 3:
                    need_ = static_cast<unsigned char>(reply[4]) + std::size_t{2};
                    break;
                case 4:
                    need_ = 16 - 1 + 2;
                    break;
                default:
                    malformed("sent a malformed SOCKS5 reply");
            }
            step_ = Step::socks_bound_address;
            return;
        }
        case Step::socks_bound_address:
            step_ = Step::done;
            return;
        default:
            return;
    }
}

void ProxyHandshake::socks_connect() {
    // CONNECT by name (ATYP 3), so that the proxy resolves it (an IP literal is a name too).
    out_ = std::string("\x05\x01\x00\x03", 4);
    out_ += static_cast<char>(host_.size());
    out_ += host_;
    out_ += static_cast<char>(port_ >> 8);
    out_ += static_cast<char>(port_ & 0xff);
    step_ = Step::socks_reply_head;
    need_ = 5;
}

void ProxyHandshake::http_head() {
    if (in_.size() < 4 || in_.compare(in_.size() - 4, 4, "\r\n\r\n") != 0) {
        if (in_.size() >= max_http_head) {
            malformed("sent an endless response");
        }
        return;
    }
    const std::string status = in_.substr(0, in_.find("\r\n"));
    if (status.rfind("HTTP/1.", 0) != 0 || status.size() < 12) {
        malformed("did not answer in HTTP");
    }
    if (status[9] != '2') {
        refused("it answered " + status);
    }
    in_.clear();
    step_ = Step::done;
}

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

}  // namespace missive::net
