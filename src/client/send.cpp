#include <missive/client/client.hpp>
#include <missive/error.hpp>
#include <missive/send.hpp>

#include <charconv>
#include <string>

namespace missive {

namespace {

struct HostPort {
    std::string host;
    std::uint16_t port = 25;
};

HostPort split_server(std::string_view server) {
    HostPort hp;
    std::string_view port;
    if (!server.empty() && server.front() == '[') {  // "[::1]:2525"
        const std::size_t close = server.find(']');
        if (close == std::string_view::npos) {
            throw Error(errc::invalid_input, "server \"" + std::string(server) +
                                                 "\" lacks the closing ']' of its address");
        }
        hp.host = std::string(server.substr(1, close - 1));
        const std::string_view rest = server.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                throw Error(errc::invalid_input,
                            "server \"" + std::string(server) + "\" is not host:port");
            }
            port = rest.substr(1);
        }
    } else {
        const std::size_t colon = server.rfind(':');
        if (colon != std::string_view::npos && server.find(':') != colon) {
            hp.host = std::string(server);  // a bare IPv6 literal, no port
        } else {
            hp.host = std::string(server.substr(0, colon));
            if (colon != std::string_view::npos) {
                port = server.substr(colon + 1);
            }
        }
    }
    if (hp.host.empty()) {
        throw Error(errc::invalid_input, "server \"" + std::string(server) + "\" names no host");
    }
    if (!port.empty() || server.back() == ':') {
        unsigned value = 0;
        const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc{} || ptr != port.data() + port.size() || value == 0 || value > 65535) {
            throw Error(errc::invalid_input, "server \"" + std::string(server) +
                                                 "\" has an invalid port \"" + std::string(port) +
                                                 "\"");
        }
        hp.port = static_cast<std::uint16_t>(value);
    }
    return hp;
}

// Connects to `server`, sends with `send_with`, says QUIT.
template <typename Send>
smtp::SendResult send_to(std::string_view server, const client::Options& options,
                         Send&& send_with) {
    client::Client c(options);
    if (server.find("://") != std::string_view::npos) {
        c.connect(net::Url::parse(server));
    } else {
        const HostPort hp = split_server(server);
        c.connect(hp.host, hp.port);
    }
    smtp::SendResult result = send_with(c);
    try {
        c.quit();
    } catch (const Error&) {
        // The message is accepted; a QUIT that goes wrong changes nothing about it.
    }
    return result;
}

}  // namespace

smtp::SendResult send(std::string_view server, const smtp::Envelope& envelope,
                      std::string_view message, const client::Options& options) {
    return send_to(server, options, [&](client::Client& c) { return c.send(envelope, message); });
}

smtp::SendResult send(std::string_view server, const mime::Message& message,
                      const client::Options& options) {
    return send_to(server, options, [&](client::Client& c) { return c.send(message); });
}

}  // namespace missive
