#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace missive::net {

/** When the connection is encrypted (RFC 3207 STARTTLS, RFC 8314 implicit TLS). */
enum class TlsMode {
    opportunistic,      ///< STARTTLS when the server offers it; plain text otherwise
    starttls_required,  ///< STARTTLS, or fail before anything else is sent (no MAIL, no AUTH)
    starttls_always,    ///< send STARTTLS even when EHLO does not offer it; it must succeed
    implicit,           ///< TLS from the first byte (port 465)
    none_insecure,      ///< never TLS: everything, credentials included, in clear text
};

/** The oldest protocol version a connection accepts. */
enum class TlsVersion { tls1_2, tls1_3 };

/** How the client checks the server and presents itself; safe by default. */
struct TlsOptions {
    /// Trusted CAs: a PEM file and/or a hashed directory; both empty: the system store.
    std::string ca_file{};
    std::string ca_path{};
    /// The name the certificate must carry and that SNI sends; "" means the host connected to.
    /// Set it when connecting by IP address to a server known by name (Ocamlnet's `tls_peer`).
    std::string peer_name{};
    /// A client certificate (PEM, may hold the chain) and its key, both or neither.
    std::string client_certificate{};
    std::string client_key{};
    TlsVersion min_version = TlsVersion::tls1_2;
    /// Accept any certificate and any name. Only for tests against throw-away servers: it
    /// makes TLS worthless against an active attacker.
    bool insecure_skip_verify = false;
};

/**
 * The TLS settings of a client made ready once: the trusted CAs loaded, the client certificate
 * read, the protocol floor and verification set (an OpenSSL `SSL_CTX`), and beside them the
 * sessions kept for resumption. Making one is the expensive part of TLS (loading the system's
 * trust store costs tens of milliseconds); a handshake on a made context costs little, and a
 * resumed one less. Every connection with the same settings should share one:
 * `TlsContext::shared` hands out the one made for equal settings.
 *
 * Sessions are kept per server (its address and the name the certificate must carry) inside the
 * context, so a session is only ever resumed under the verification settings that made it: a
 * session made with verification off never vouches for a connection that verifies.
 *
 * Thread-safe: many connections on many threads may use one context at once.
 */
class TlsContext {
public:
    /**
     * Loads what `options` name (`peer_name` is per connection and ignored here).
     * @throws Error errc::config ("cannot load CA file /x.pem: No such file or directory",
     * "cannot load client certificate …", "cannot load the system's trusted certificates …")
     */
    explicit TlsContext(const TlsOptions& options);
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;
    TlsContext(TlsContext&&) = delete;
    TlsContext& operator=(TlsContext&&) = delete;
    ~TlsContext();

    /**
     * @return the context for settings equal to `options` (CA file and directory, client
     * certificate and key, minimum version, verification), made on first use and kept for the
     * process (the 16 most recent settings), so every client with those settings shares its
     * trust store and its sessions. Files are read when it is made.
     * @throws Error errc::config as the constructor
     */
    static std::shared_ptr<TlsContext> shared(const TlsOptions& options);

    /** @return how many servers have a session kept for resumption. */
    [[nodiscard]] std::size_t kept_sessions() const;

    /** @return whether the peer's certificate is checked (not `insecure_skip_verify`). */
    [[nodiscard]] bool verifies() const;

    struct Impl;

    /** For the TLS code in net/ only. */
    [[nodiscard]] Impl& impl() const { return *impl_; }

private:
    std::unique_ptr<Impl> impl_;
};

/** What a finished handshake agreed (Go's `tls.ConnectionState`). */
struct TlsInfo {
    std::string version{};       ///< "TLSv1.3"
    std::string cipher{};        ///< "TLS_AES_256_GCM_SHA384"
    std::string peer_subject{};  ///< "CN=localhost"
    std::string peer_issuer{};   ///< "CN=missive test CA"
    bool session_resumed = false;
};

}  // namespace missive::net
