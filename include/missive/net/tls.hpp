#pragma once

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

/**
 * TLS sessions kept for resumption: a later connection to the same server (host and port)
 * offers the session of an earlier one and skips the full handshake. Thread-safe; share one
 * between the connections of a pool. Holds no secret beyond what OpenSSL keeps in a session.
 */
class TlsSessionCache {
public:
    TlsSessionCache();
    TlsSessionCache(const TlsSessionCache&) = delete;
    TlsSessionCache& operator=(const TlsSessionCache&) = delete;
    TlsSessionCache(TlsSessionCache&&) = delete;
    TlsSessionCache& operator=(TlsSessionCache&&) = delete;
    ~TlsSessionCache();

    /** @return how many servers have a session kept. */
    [[nodiscard]] std::size_t size() const;

    struct Impl;

    /** For the TLS code only. */
    [[nodiscard]] Impl& impl() const { return *impl_; }

private:
    std::unique_ptr<Impl> impl_;
};

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
    /// Where sessions are kept for resumption; the client makes one per Client when unset.
    std::shared_ptr<TlsSessionCache> session_cache{};
    /// Accept any certificate and any name. Only for tests against throw-away servers: it
    /// makes TLS worthless against an active attacker.
    bool insecure_skip_verify = false;
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
