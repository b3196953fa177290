#pragma once

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
 * The client side of a proxy's handshake as a state machine without I/O, so that every stream
 * (blocking or asynchronous) drives the same code: write `output()`, read at most
 * `input_wanted()` bytes and pass them to `receive`, until `done()`. It never asks for a byte
 * past the end of the proxy's answer: what follows belongs to the mail server.
 */
class ProxyHandshake {
public:
    /** @throws Error errc::config for a SOCKS5 user, password or host over 255 octets */
    ProxyHandshake(Proxy proxy, std::string_view host, std::uint16_t port);

    /** @return bytes to write to the proxy now (empty when it is the proxy's turn). */
    [[nodiscard]] std::string_view output() const;

    /** Marks `n` bytes of `output()` as written. */
    void consume_output(std::size_t n);

    /** @return the most bytes to read now: 0 while there is output, or when done. */
    [[nodiscard]] std::size_t input_wanted() const;

    /**
     * Passes bytes read from the proxy (at most `input_wanted()`).
     * @throws Error errc::connect_failed with the proxy's reason ("SOCKS5 proxy refused:
     * connection refused", "… it answered HTTP/1.1 403 Forbidden"), errc::protocol for an answer
     * that is not SOCKS5 or HTTP
     */
    void receive(std::string_view bytes);

    /** The proxy closed the connection. @throws Error errc::connect_failed, always */
    [[noreturn]] void receive_eof();

    /** @return true once the tunnel is open. */
    [[nodiscard]] bool done() const;

private:
    enum class Step {
        socks_method,
        socks_login,
        socks_reply_head,
        socks_bound_address,
        http_head,
        done
    };

    void socks_reply();
    void socks_connect();
    void http_head();
    [[noreturn]] void refused(const std::string& why) const;
    [[noreturn]] void malformed(const char* what) const;

    Proxy proxy_;
    std::string host_;
    std::uint16_t port_;
    Step step_ = Step::done;
    std::size_t need_ = 0;  // SOCKS5: the length of the answer awaited
    std::string out_;
    std::size_t out_pos_ = 0;
    std::string in_;
};

}  // namespace missive::net
