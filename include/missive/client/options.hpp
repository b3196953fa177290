#pragma once

#include <missive/dkim/signer.hpp>
#include <missive/net/proxy.hpp>
#include <missive/net/tls.hpp>
#include <missive/sasl/mechanism.hpp>
#include <missive/smtp/reply.hpp>
#include <missive/smtp/reply_parser.hpp>
#include <missive/smtp/session.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace missive::client {

/** What an Observer is told about. */
enum class EventKind {
    connecting,       ///< about to resolve and connect; `peer` is "host:port"
    connected,        ///< TCP is up; `peer` is the address it reached
    bytes_sent,       ///< `bytes` octets were written
    bytes_received,   ///< `bytes` octets were read
    tls_established,  ///< the TLS handshake succeeded (`Client::tls()` tells the details)
    reply,            ///< a complete reply arrived: `reply`
    closed,           ///< the connection was closed
};

/** One connection event; the views and pointer are valid during the call only. */
struct Event {
    EventKind kind{};
    std::string_view peer{};
    std::size_t bytes = 0;
    const smtp::Reply* reply = nullptr;
};

/** Instrumentation of a connection (Qore's socket events, Nim's debug output). It should not
 * throw: an exception it throws is caught and dropped, so that it can never end the program
 * from `close()` or a destructor, nor leave an operation half done. */
using Observer = std::function<void(const Event&)>;

using TlsMode = net::TlsMode;

/** How a client connects and talks; every field has a safe default. */
struct Options {
    /// The name given in EHLO/HELO; empty: this machine's host name, else "localhost".
    std::string local_name{};
    smtp::Protocol protocol = smtp::Protocol::smtp;
    /// Resolving and connecting, all addresses together (with a proxy: reaching the proxy and
    /// opening its tunnel).
    std::chrono::milliseconds connect_timeout = std::chrono::seconds(30);
    /// Waiting for the greeting, for each reply and for each TLS handshake (RFC 5321 4.5.3.2
    /// asks for 5 minutes).
    std::chrono::milliseconds command_timeout = std::chrono::minutes(5);
    /// Each write of message data must finish within this, and each BDAT chunk's reply arrive
    /// within it (RFC 5321 4.5.3.2.5, "data block": 3 minutes). Data goes out in writes of at
    /// most 64 KiB, so a server that stops reading is noticed after this long, however large
    /// the message.
    std::chrono::milliseconds data_block_timeout = std::chrono::minutes(3);
    /// Waiting for the reply after the end of the data (RFC 5321 4.5.3.2.6: 10 minutes).
    std::chrono::milliseconds final_reply_timeout = std::chrono::minutes(10);
    /// No wait goes past this point in time (Go's `Conn.SetDeadline`): an overall limit for a
    /// whole connect-and-send, whatever the limits above allow. Unset: none.
    /// `Client::set_deadline` changes it between operations.
    std::optional<std::chrono::steady_clock::time_point> deadline{};
    /// Log in after connecting (and after TLS): AUTH with the strongest mechanism both sides
    /// have, or the first of `auth_mechanisms` that the server offers.
    std::optional<sasl::Credentials> credentials{};
    std::vector<std::string> auth_mechanisms{};
    /// Send credentials over a connection without TLS. Off: they go only over TLS, or over a
    /// direct connection (no proxy) whose peer address is loopback (127.0.0.0/8 or ::1). The
    /// address actually connected to decides, never a name.
    bool allow_plaintext_auth = false;
    /// Connect through a SOCKS5 or HTTP CONNECT proxy (TLS runs end to end through it).
    std::optional<net::Proxy> proxy{};
    /// When the connection is encrypted. Unset: what the URL's scheme says (see net::Url), or
    /// `opportunistic` for connect(host, port). Set, it wins over the scheme's default; a mode
    /// that contradicts the scheme (`implicit` for submission://, anything but `implicit` for
    /// smtps://, less than STARTTLS required for submission://) is errc::config.
    std::optional<TlsMode> tls{};
    net::TlsOptions tls_options{};  ///< CA, peer name, client certificate, minimum version
    bool pipelining = true;         ///< pipeline when the server offers PIPELINING
    bool chunking = true;           ///< use BDAT when the server offers CHUNKING
    std::size_t chunk_size = std::size_t{1} << 20;  ///< BDAT chunk size
    smtp::Limits limits{};                          ///< bounds on what the server may send
    /// DKIM: every message `Client::send` sends gets one DKIM-Signature field per signer, in
    /// this order (Ed25519 and RSA together, as RFC 8463 advises). The hashing pass reads the
    /// message once before it is sent (a built message is written twice, a stream that cannot
    /// seek is kept in a temporary file), so memory does not grow with it. What `data()` and
    /// `DataWriter` send is not signed.
    std::vector<dkim::Signer> dkim{};
    smtp::Trace trace{};  ///< the dialogue, line by line, credentials redacted
    Observer observer{};  ///< connection events
    /// Cancels whatever the client is doing (errc::cancelled); the connection is then closed.
    std::stop_token stop{};
};

}  // namespace missive::client
