#include "net/tls_context.hpp"

#include <missive/error.hpp>
#include <missive/net/tls.hpp>

#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

namespace missive::net {

namespace {

// Asio keeps its own pointer in the SSL's app data, so ours goes into an ex_data slot.
int target_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

// OpenSSL calls this for every session the server issues.
int on_new_session(SSL* ssl, SSL_SESSION* session) {
    auto* target = static_cast<TlsContext::Impl::Target*>(SSL_get_ex_data(ssl, target_index()));
    if (target == nullptr || target->owner == nullptr) {
        return 0;
    }
    // A copy: OpenSSL marks the connection's own session unresumable when the connection ends
    // without close_notify, which SMTP servers and clients commonly skip after QUIT.
    SSL_SESSION* copy = SSL_SESSION_dup(session);
    if (copy != nullptr) {
        target->owner->put(target->key, copy);
    }
    return 0;  // OpenSSL keeps (and frees) the original
}

// The settings that make two contexts interchangeable (peer_name is per connection).
using Key = std::tuple<std::string, std::string, std::string, std::string, TlsVersion, bool>;

Key key_of(const TlsOptions& o) {
    return {o.ca_file,    o.ca_path,     o.client_certificate,
            o.client_key, o.min_version, o.insecure_skip_verify};
}

}  // namespace

TlsContext::Impl::~Impl() {
    for (auto& [key, session] : sessions) {
        SSL_SESSION_free(session);
    }
}

void TlsContext::Impl::put(const std::string& key, SSL_SESSION* session) {
    const std::lock_guard lock(mutex);
    auto [it, inserted] = sessions.try_emplace(key, session);
    if (!inserted) {
        SSL_SESSION_free(it->second);
        it->second = session;
    }
}

void TlsContext::Impl::prepare(SSL* ssl, Target& target) {
    target.owner = this;
    SSL_set_ex_data(ssl, target_index(), &target);
    SSL_SESSION* kept = nullptr;
    {
        const std::lock_guard lock(mutex);
        if (auto it = sessions.find(target.key); it != sessions.end()) {
            // A copy again: this connection ending without close_notify would otherwise mark
            // the kept session itself unresumable for every later connection.
            kept = SSL_SESSION_dup(it->second);
        }
    }
    if (kept != nullptr) {
        SSL_set_session(ssl, kept);
        SSL_SESSION_free(kept);
    }
}

TlsContext::TlsContext(const TlsOptions& options)
    : impl_(std::make_unique<Impl>()) {
    asio::ssl::context& ctx = impl_->context;
    SSL_CTX* native = ctx.native_handle();
    SSL_CTX_set_min_proto_version(
        native, options.min_version == TlsVersion::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);
    std::error_code ec;
    auto fail = [&](const std::string& what) {
        throw Error(errc::config, what + ": " + ec.message(), ErrorDetails{.cause = ec});
    };
    if (options.ca_file.empty() && options.ca_path.empty()) {
        ctx.set_default_verify_paths(ec);
        if (ec) {
            fail("cannot load the system's trusted certificates");
        }
    }
    if (!options.ca_file.empty()) {
        ctx.load_verify_file(options.ca_file, ec);
        if (ec) {
            fail("cannot load CA file " + options.ca_file);
        }
    }
    if (!options.ca_path.empty()) {
        ctx.add_verify_path(options.ca_path, ec);
        if (ec) {
            fail("cannot use CA directory " + options.ca_path);
        }
    }
    if (!options.client_certificate.empty()) {
        ctx.use_certificate_chain_file(options.client_certificate, ec);
        if (!ec) {
            ctx.use_private_key_file(
                options.client_key.empty() ? options.client_certificate : options.client_key,
                asio::ssl::context::pem, ec);
        }
        if (ec) {
            fail("cannot load client certificate " + options.client_certificate);
        }
    }
    impl_->verify = !options.insecure_skip_verify;
    ctx.set_verify_mode(impl_->verify ? asio::ssl::verify_peer : asio::ssl::verify_none);
    SSL_CTX_set_session_cache_mode(native,
                                   SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(native, on_new_session);
}

TlsContext::~TlsContext() = default;

std::shared_ptr<TlsContext> TlsContext::shared(const TlsOptions& options) {
    // Kept for the life of the process, so that a program that makes a new client for each
    // message (missive::send does) loads the trust store once; a handful of distinct settings
    // is the most a program uses, and past 16 the oldest is let go.
    constexpr std::size_t most = 16;
    static std::mutex mutex;
    static std::vector<std::pair<Key, std::shared_ptr<TlsContext>>> contexts;
    const Key key = key_of(options);
    const std::lock_guard lock(mutex);
    for (const auto& [k, context] : contexts) {
        if (k == key) {
            return context;
        }
    }
    // Made under the lock: two threads asking at once load the trust store once.
    auto made = std::make_shared<TlsContext>(options);
    if (contexts.size() == most) {
        contexts.erase(contexts.begin());
    }
    contexts.emplace_back(key, made);
    return made;
}

std::size_t TlsContext::kept_sessions() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->sessions.size();
}

bool TlsContext::verifies() const {
    return impl_->verify;
}

}  // namespace missive::net
