#pragma once

#include <missive/net/tls.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>

namespace missive::net {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

/**
 * A blocking TCP byte stream in which every call has a deadline and can be cancelled through a
 * `std::stop_token`. Built on Asio: each call runs a private `io_context` until the operation
 * completes, the deadline passes, or the stop token fires; in the last two cases the socket is
 * closed, so a timed-out or cancelled stream is never half-way through a write.
 *
 * Not thread-safe: one thread uses it at a time (the stop token may fire from any thread).
 */
class BlockingStream {
public:
    BlockingStream();
    BlockingStream(BlockingStream&& other) noexcept;
    BlockingStream& operator=(BlockingStream&& other) noexcept;
    BlockingStream(const BlockingStream&) = delete;
    BlockingStream& operator=(const BlockingStream&) = delete;
    ~BlockingStream();

    /**
     * Resolves `host` (IPv6 and IPv4; a literal needs no lookup) and connects to each address in
     * turn until one answers. Sets TCP_NODELAY, since missive coalesces its writes itself. The
     * deadline and the stop token also cut a slow name lookup short (the lookup itself runs on
     * and finishes on a thread of its own, since getaddrinfo cannot be interrupted).
     * A connection this stream held before is closed first.
     * @throws Error errc::connect_failed (cause: the last OS or resolver error; what() e.g.
     * "connect to mail.example.org:25 failed: Connection refused"), errc::timeout ("timed out
     * after 30 s connecting to mail.example.org:25"), errc::cancelled
     */
    void connect(std::string_view host, std::uint16_t port, Deadline deadline,
                 const std::stop_token& stop = {});

    /**
     * Connects to a Unix-domain stream socket (LMTP's usual home, e.g. /run/dovecot/lmtp).
     * @throws Error errc::connect_failed ("connect to unix:/run/x failed: No such file or
     * directory"), errc::timeout, errc::cancelled
     */
    void connect_local(std::string_view path, Deadline deadline, const std::stop_token& stop = {});

    /**
     * Takes over a connected stream socket (TCP or Unix-domain) made by the caller, as Go's
     * `smtp.NewClient(conn, host)`; the stream owns the descriptor from then on.
     * @throws Error errc::invalid_input when `fd` is not a connected stream socket
     */
    void adopt(int fd);

    /**
     * Reads what is available, at least one byte.
     * @param buffer where the bytes go; must not be empty
     * @return the number of bytes read; 0 when the peer closed the connection
     * @throws Error errc::connection_lost (cause: the OS error), errc::timeout ("timed out after
     * 30 s waiting to read from 127.0.0.1:2525"), errc::cancelled, errc::invalid_input for an
     * empty buffer (a zero-byte read would be mistaken for the end of the stream)
     */
    std::size_t read_some(std::span<char> buffer, Deadline deadline,
                          const std::stop_token& stop = {});

    /**
     * Writes every byte, in one system call when the kernel takes it.
     * @throws Error errc::connection_lost, errc::timeout, errc::cancelled
     */
    void write_all(std::string_view bytes, Deadline deadline, const std::stop_token& stop = {});

    /**
     * Runs a TLS client handshake over the connection (after STARTTLS, or at once for implicit
     * TLS); later reads and writes are encrypted. Unless the context skips verification, the
     * certificate must carry `name` (a host name, or an IP address literal), which SNI also
     * sends unless it is an address. A session the context kept for this server and name is
     * offered for resumption, and the sessions the server issues are kept there.
     * @param context made once for the TLS settings and shared (see TlsContext::shared); the
     * stream holds it until closed
     * @throws Error errc::certificate (the reason in words: "certificate has expired",
     * "Hostname mismatch", …), errc::tls, errc::timeout, errc::cancelled
     */
    void start_tls(const std::shared_ptr<TlsContext>& context, std::string_view name,
                   Deadline deadline, const std::stop_token& stop = {});

    /** @return the TLS parameters once `start_tls` succeeded, else nullptr. */
    [[nodiscard]] const TlsInfo* tls() const;

    /** Closes the connection; never throws. */
    void close() noexcept;

    /** @return true between a successful connect and close (or a failure). */
    [[nodiscard]] bool is_open() const;

    /** @return the peer as "address:port" ("[::1]:25" for IPv6), or "" when not connected. */
    [[nodiscard]] std::string remote_endpoint() const;

    /** @return true when connected to a loopback address (127.0.0.0/8, ::1, or an IPv4-mapped
     * 127.x), as the kernel reports the peer, or over a Unix-domain socket: a name never
     * decides. */
    [[nodiscard]] bool remote_is_local() const;

    /** @return this end's address as an RFC 5321 4.1.3 address literal ("[192.0.2.1]",
     * "[IPv6:2001:db8::1]"), or "" when not connected. */
    [[nodiscard]] std::string local_address_literal() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace missive::net
