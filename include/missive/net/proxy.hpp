#pragma once

#include <missive/net/blocking_stream.hpp>

#include <cstdint>
#include <stop_token>
#include <string>
#include <string_view>

namespace missive::net {

/**
 * A proxy that the connection to the mail server goes through, below TLS: SOCKS5 (RFC 1928,
 * with user/password authentication RFC 1929, the server's name resolved by the proxy) or an
 * HTTP proxy's CONNECT method (with Basic authentication).
 */
struct Proxy {
    enum class Kind { socks5, http };
    Kind kind = Kind::socks5;
    std::string host{};
    std::uint16_t port = 0;
    std::string user{};
    std::string password{};

    /**
     * @param url `socks5://[user:password@]host[:port]` (port 1080 by default) or
     * `http://[user:password@]host[:port]` (port 8080 by default); user and password
     * percent-decoded
     * @throws Error errc::config
     */
    static Proxy parse(std::string_view url);

    /** @return the proxy as a URL without its password, for messages. */
    [[nodiscard]] std::string redacted() const;
};

/**
 * Asks the proxy that `stream` is connected to for a tunnel to `host`:`port`. Afterwards the
 * stream talks to the mail server.
 * @throws Error errc::connect_failed with the proxy's reason ("SOCKS5 proxy refused: connection
 * refused", "HTTP proxy answered: HTTP/1.1 403 Forbidden"), errc::protocol for a reply that is
 * not SOCKS5 or HTTP, errc::timeout, errc::cancelled
 */
void open_tunnel(BlockingStream& stream, const Proxy& proxy, std::string_view host,
                 std::uint16_t port, Deadline deadline, const std::stop_token& stop = {});

}  // namespace missive::net
