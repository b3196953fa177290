#pragma once

// The one byte stream under both clients (private to the library): TCP or a Unix-domain socket,
// connected here or handed over by the caller, with TLS on top once started. Its operations are
// C++20 coroutines on the stream's executor; `BlockingStream` runs them on a private io_context,
// `AsyncClient` on the caller's. Deadlines are the driver's: it calls `cancel()` when one passes.

#include <missive/net/tls.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace missive::net {

class AsyncStream {
public:
    explicit AsyncStream(asio::any_io_executor executor);
    AsyncStream(AsyncStream&&) noexcept;
    AsyncStream& operator=(AsyncStream&&) noexcept;
    AsyncStream(const AsyncStream&) = delete;
    AsyncStream& operator=(const AsyncStream&) = delete;
    ~AsyncStream();

    /**
     * Resolves `host` (a literal needs no lookup; a name is looked up on a thread of its own,
     * which a cancellation leaves behind) and connects to each address in turn; TCP_NODELAY.
     * @throws Error errc::connect_failed ("connect to mx.example.org:25 failed: Connection
     * refused"), errc::cancelled (cancel() or the coroutine's cancellation slot)
     */
    asio::awaitable<void> connect(std::string host, std::uint16_t port);

    /** Connects to a Unix-domain stream socket. @throws Error as connect */
    asio::awaitable<void> connect_local(std::string path);

    /** Takes over a connected stream socket (TCP or Unix-domain) the caller made. */
    void adopt(asio::ip::tcp::socket socket);
    void adopt(asio::local::stream_protocol::socket socket);

    /**
     * Takes over a connected stream socket given by its descriptor (the stream owns it then).
     * @throws Error errc::invalid_input when `fd` is not a connected stream socket
     */
    void adopt(int fd);

    /** @return bytes read (at least one), 0 at the end of the stream. @throws Error
     * errc::connection_lost, errc::cancelled */
    asio::awaitable<std::size_t> read_some(std::span<char> buffer);

    /** Writes every byte. @throws Error errc::connection_lost, errc::cancelled */
    asio::awaitable<void> write_all(std::string_view bytes);

    /** TLS client handshake against `name` (see BlockingStream::start_tls). @throws Error
     * errc::certificate, errc::tls, errc::cancelled */
    asio::awaitable<void> start_tls(std::shared_ptr<TlsContext> context, std::string name);

    /** Makes the operation in progress (lookup, connect, read, write, handshake) end at once
     * with errc::cancelled. The connection is then unusable: close it. */
    void cancel() noexcept;

    /** Closes the connection; never throws. */
    void close() noexcept;

    [[nodiscard]] bool is_open() const;
    /**
     * Whether something can be read now, without waiting (poll with a zero timeout): bytes,
     * the end of the stream or an error. On a connection where nothing was asked (an idle SMTP
     * connection) that means the peer closed it or sent a 421. False when closed.
     */
    [[nodiscard]] bool has_unread_input() const;
    [[nodiscard]] const TlsInfo* tls() const;
    /** @return "127.0.0.1:25", "[::1]:25", "unix:/run/dovecot/lmtp" or the target while
     * connecting; "" when closed */
    [[nodiscard]] std::string remote_endpoint() const;
    /** @return true for a loopback address (as the kernel reports the peer) or a Unix socket. */
    [[nodiscard]] bool remote_is_local() const;
    /** @return this end as an RFC 5321 address literal, or "" (not TCP, or not connected). */
    [[nodiscard]] std::string local_address_literal() const;

private:
    void adopt_native(asio::generic::stream_protocol protocol, int fd);

    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace missive::net
