#pragma once

// The inside of net::TlsContext, for the streams in net/ (private: not installed).

#include <missive/net/tls.hpp>

#include <asio/ssl/context.hpp>
#include <openssl/ssl.h>

#include <map>
#include <mutex>
#include <string>

namespace missive::net {

struct TlsContext::Impl {
    asio::ssl::context context{asio::ssl::context::tls_client};
    bool verify = true;
    mutable std::mutex mutex;
    std::map<std::string, SSL_SESSION*> sessions;  // owned references, by server

    Impl() = default;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    Impl(Impl&&) = delete;
    Impl& operator=(Impl&&) = delete;
    ~Impl();

    /**
     * Readies `ssl` (made from `context`) for the server `server_key` names: offers the session
     * kept for it, and keeps the sessions the server issues later (TLS 1.3 tickets arrive after
     * the handshake). `target` must outlive `ssl`.
     */
    struct Target {
        Impl* owner = nullptr;
        std::string key;
    };

    void prepare(SSL* ssl, Target& target);

    // Takes ownership of `session`.
    void put(const std::string& key, SSL_SESSION* session);
};

}  // namespace missive::net
