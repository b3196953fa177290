#include "net/async_stream.hpp"

#include <missive/error.hpp>

#include "net/tls_context.hpp"

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace missive::net {

namespace {

using Socket = asio::generic::stream_protocol::socket;
using Endpoint = asio::generic::stream_protocol::endpoint;

std::string describe(const asio::ip::tcp::endpoint& ep) {
    const auto addr = ep.address();
    return addr.is_v6() ? "[" + addr.to_string() + "]:" + std::to_string(ep.port())
                        : addr.to_string() + ":" + std::to_string(ep.port());
}

ErrorDetails cause_of(std::error_code ec) {
    ErrorDetails d;
    d.cause = ec;
    return d;
}

std::string name_of(X509_NAME* name) {
    if (name == nullptr) {
        return {};
    }
    BIO* bio = BIO_new(BIO_s_mem());
    X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(len));
    BIO_free(bio);
    return out;
}

// Where a connection keeps the server's own certificate while it is verified: OpenSSL does not
// keep a certificate it rejects, and its names are what a user needs to see then.
int leaf_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

// The verify callback: changes no verdict, only keeps the certificate being verified.
int keep_leaf(int ok, X509_STORE_CTX* ctx) {
    auto* ssl =
        static_cast<SSL*>(X509_STORE_CTX_get_ex_data(ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
    X509* leaf = X509_STORE_CTX_get0_cert(ctx);
    if (ssl != nullptr && leaf != nullptr && SSL_get_ex_data(ssl, leaf_index()) == nullptr &&
        X509_up_ref(leaf) == 1) {
        SSL_set_ex_data(ssl, leaf_index(), leaf);
    }
    return ok;
}

void drop_leaf(SSL* ssl) {
    if (auto* leaf = static_cast<X509*>(SSL_get_ex_data(ssl, leaf_index()))) {
        SSL_set_ex_data(ssl, leaf_index(), nullptr);
        X509_free(leaf);
    }
}

// The names a peer's certificate carries (its DNS and IP subject alternative names, else its
// common name), for the message when it is not accepted: "mx.example.org, 192.0.2.1".
std::string names_of_peer(SSL* ssl) {
    X509* cert = static_cast<X509*>(SSL_get_ex_data(ssl, leaf_index()));
    if (cert == nullptr) {
        return {};
    }
    X509_up_ref(cert);
    std::string out;
    auto add = [&out](const std::string& name) {
        if (out.size() < 400) {
            out += (out.empty() ? "" : ", ") + name;
        }
    };
    auto* sans =
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
        const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
        if (gn->type == GEN_DNS) {
            const ASN1_STRING* dns = gn->d.dNSName;
            add(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                            static_cast<std::size_t>(ASN1_STRING_length(dns))));
        } else if (gn->type == GEN_IPADD) {
            const ASN1_OCTET_STRING* ip = gn->d.iPAddress;
            const auto* b = ASN1_STRING_get0_data(ip);
            if (ASN1_STRING_length(ip) == 4) {
                add(asio::ip::address_v4({b[0], b[1], b[2], b[3]}).to_string());
            } else if (ASN1_STRING_length(ip) == 16) {
                asio::ip::address_v6::bytes_type bytes{};
                std::memcpy(bytes.data(), b, bytes.size());
                add(asio::ip::address_v6(bytes).to_string());
            }
        }
    }
    GENERAL_NAMES_free(sans);
    if (out.empty()) {
        std::array<char, 256> cn{};
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn.data(),
                                      static_cast<int>(cn.size())) > 0) {
            out = cn.data();
        }
    }
    X509_free(cert);
    return out;
}

// The kernel's view of a socket address: family, and for IP the address itself.
struct Address {
    int family = AF_UNSPEC;
    asio::ip::address ip;
    std::uint16_t port = 0;
};

Address address_of(const Endpoint& ep) {
    Address a;
    a.family = ep.data()->sa_family;
    if (a.family == AF_INET || a.family == AF_INET6) {
        asio::ip::tcp::endpoint tcp;
        if (ep.size() <= tcp.capacity()) {
            std::memcpy(tcp.data(), ep.data(), ep.size());
            tcp.resize(ep.size());
            a.ip = tcp.address();
            a.port = tcp.port();
        }
    }
    return a;
}

bool is_aborted(std::error_code ec) {
    return ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor;
}

// A name lookup as an asynchronous operation. getaddrinfo cannot be interrupted, and Asio's
// resolver runs it on a thread that the io_context joins, so a cancelled lookup would still
// hold its owner until the system resolver gave up (tens of seconds with an unreachable DNS
// server). It runs on a detached thread of its own instead; a cancelled lookup completes at
// once, and the thread finishes on its own later, touching nothing but its shared state.
template <typename Handler>
struct Lookup {
    std::mutex mutex;
    std::optional<Handler> handler;
    asio::any_io_executor executor;  // tracks work while the handler waits

    // Completes the operation once (the first of: the thread's answer, a cancellation).
    void complete(std::error_code ec, std::vector<asio::ip::tcp::endpoint> found) {
        std::optional<Handler> h;
        asio::any_io_executor ex;
        {
            const std::lock_guard lock(mutex);
            if (!handler) {
                return;
            }
            h.emplace(std::move(*handler));
            handler.reset();
            ex = std::exchange(executor, {});
        }
        asio::post(ex, [h = std::move(*h), ec, found = std::move(found)]() mutable {
            std::move(h)(ec, std::move(found));
        });
    }
};

}  // namespace

struct AsyncStream::Impl {
    asio::any_io_executor executor;
    Socket socket;
    std::string peer;
    bool local = false;  // loopback or Unix-domain, from the kernel's address
    // The peer closed its side; later reads answer from here (the reactor would wait forever).
    bool at_eof = false;
    std::function<void()> abort_lookup;
    // The context and the session target outlive the TLS stream that refers to them.
    std::shared_ptr<TlsContext> tls_context;
    std::unique_ptr<TlsContext::Impl::Target> session_target;
    std::optional<asio::ssl::stream<Socket&>> tls_stream;
    std::optional<TlsInfo> tls_info;

    explicit Impl(asio::any_io_executor ex)
        : executor(std::move(ex))
        , socket(executor) {}

    void close() noexcept {
        at_eof = false;
        std::error_code ignored;
        socket.shutdown(Socket::shutdown_both, ignored);
        socket.close(ignored);
        tls_stream.reset();
        session_target.reset();
        tls_context.reset();
        tls_info.reset();
        local = false;
    }

    // After a connection is made or adopted: what the kernel says of the peer.
    void learn_peer() {
        std::error_code ec;
        const Endpoint remote = socket.remote_endpoint(ec);
        if (ec) {
            return;
        }
        const Address a = address_of(remote);
        if (a.family == AF_UNIX) {
            local = true;
            if (peer.empty()) {
                peer = "unix socket";
            }
            return;
        }
        if (a.family == AF_INET || a.family == AF_INET6) {
            peer = describe(asio::ip::tcp::endpoint(a.ip, a.port));
            if (a.ip.is_v6()) {
                const auto v6 = a.ip.to_v6();
                local = v6.is_loopback() ||
                        (v6.is_v4_mapped() &&
                         asio::ip::make_address_v4(asio::ip::v4_mapped, v6).is_loopback());
            } else {
                local = a.ip.is_loopback();
            }
            // missive writes each pipelined group in one call; Nagle would only delay it.
            socket.set_option(asio::ip::tcp::no_delay(true), ec);
        }
    }

    asio::awaitable<std::vector<asio::ip::tcp::endpoint>> lookup(const std::string& host,
                                                                 std::uint16_t port) {
        std::error_code not_literal;
        const auto literal = asio::ip::make_address(host, not_literal);
        if (!not_literal) {
            co_return std::vector<asio::ip::tcp::endpoint>{{literal, port}};
        }
        // A named initiation, not a temporary in the co_await expression: GCC 12 destroys
        // such temporaries twice (PR 100611).
        auto initiation = [this, name = &host, port](auto handler) {
            using State = Lookup<decltype(handler)>;
            auto slot = asio::get_associated_cancellation_slot(handler);
            auto state = std::make_shared<State>();
            state->executor = asio::prefer(asio::get_associated_executor(handler, executor),
                                           asio::execution::outstanding_work_t::tracked);
            state->handler.emplace(std::move(handler));
            auto abort = [state] { state->complete(asio::error::operation_aborted, {}); };
            abort_lookup = abort;
            if (slot.is_connected()) {
                slot.assign([abort](asio::cancellation_type) { abort(); });
            }
            try {
                std::thread([state, host = *name, port] {
                    asio::io_context io;
                    asio::ip::tcp::resolver resolver(io);
                    std::error_code ec;
                    const auto results = resolver.resolve(
                        host, std::to_string(port), asio::ip::tcp::resolver::numeric_service, ec);
                    std::vector<asio::ip::tcp::endpoint> list;
                    for (const auto& entry : results) {
                        list.push_back(entry.endpoint());
                    }
                    state->complete(ec, std::move(list));
                }).detach();
            } catch (const std::system_error& e) {
                state->complete(e.code(), {});  // no thread to spare: a failed lookup
            }
        };
        auto found = co_await asio::async_initiate<const asio::use_awaitable_t<>&,
                                                   void(std::error_code,
                                                        std::vector<asio::ip::tcp::endpoint>)>(
            initiation, asio::use_awaitable);
        abort_lookup = nullptr;
        co_return found;
    }
};

AsyncStream::AsyncStream(asio::any_io_executor executor)
    : impl_(std::make_unique<Impl>(std::move(executor))) {}

AsyncStream::AsyncStream(AsyncStream&&) noexcept = default;
AsyncStream& AsyncStream::operator=(AsyncStream&&) noexcept = default;
AsyncStream::~AsyncStream() = default;

asio::awaitable<void> AsyncStream::connect(std::string host, std::uint16_t port) {
    Impl& m = *impl_;
    m.close();
    const std::string target = (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
                               ":" + std::to_string(port);
    m.peer = target;
    std::vector<asio::ip::tcp::endpoint> found;
    std::error_code ec;
    try {
        found = co_await m.lookup(host, port);
    } catch (const std::system_error& e) {
        ec = e.code();
    }
    m.abort_lookup = nullptr;
    if (ec == asio::error::operation_aborted) {
        throw Error(errc::cancelled, "cancelled resolving " + target);
    }
    if (ec) {
        throw Error(errc::connect_failed,
                    "connect to " + target + " failed: cannot resolve host: " + ec.message(),
                    cause_of(ec));
    }
    // Each address in turn (RFC 6724 order from getaddrinfo), as Go's dialer does.
    std::vector<Endpoint> endpoints(found.begin(), found.end());
    try {
        co_await asio::async_connect(m.socket, endpoints, asio::use_awaitable);
    } catch (const std::system_error& e) {
        ec = e.code();
    }
    if (ec) {
        m.close();
        if (is_aborted(ec)) {
            throw Error(errc::cancelled, "cancelled connecting to " + target);
        }
        throw Error(errc::connect_failed, "connect to " + target + " failed: " + ec.message(),
                    cause_of(ec));
    }
    m.learn_peer();
}

asio::awaitable<void> AsyncStream::connect_local(std::string path) {
    Impl& m = *impl_;
    m.close();
    m.peer = "unix:" + path;
    std::error_code ec;
    try {
        m.socket.open(asio::generic::stream_protocol(AF_UNIX, 0));
        co_await m.socket.async_connect(Endpoint(asio::local::stream_protocol::endpoint(path)),
                                        asio::use_awaitable);
    } catch (const std::system_error& e) {
        ec = e.code();
    }
    if (ec) {
        m.close();
        if (is_aborted(ec)) {
            throw Error(errc::cancelled, "cancelled connecting to " + m.peer);
        }
        throw Error(errc::connect_failed, "connect to " + m.peer + " failed: " + ec.message(),
                    cause_of(ec));
    }
    m.learn_peer();
}

void AsyncStream::adopt(asio::ip::tcp::socket socket) {
    const auto protocol = socket.local_endpoint().protocol();
    adopt_native(asio::generic::stream_protocol(protocol.family(), protocol.protocol()),
                 socket.release());
}

void AsyncStream::adopt(asio::local::stream_protocol::socket socket) {
    impl_->peer = "unix socket";
    adopt_native(asio::generic::stream_protocol(AF_UNIX, 0), socket.release());
}

void AsyncStream::adopt(int fd) {
    int type = 0;
    socklen_t len = sizeof type;
    sockaddr_storage local{};
    socklen_t local_len = sizeof local;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) {
        throw Error(errc::invalid_input,
                    "descriptor " + std::to_string(fd) + " is not a connected stream socket");
    }
    const int family = local.ss_family;
    adopt_native(asio::generic::stream_protocol(family, family == AF_UNIX ? 0 : IPPROTO_TCP), fd);
}

void AsyncStream::adopt_native(asio::generic::stream_protocol protocol, int fd) {
    Impl& m = *impl_;
    m.close();
    std::error_code ec;
    m.socket.assign(protocol, fd, ec);
    if (ec) {
        throw Error(errc::invalid_input,
                    "cannot use descriptor " + std::to_string(fd) + ": " + ec.message(),
                    cause_of(ec));
    }
    std::error_code peer_ec;
    (void)m.socket.remote_endpoint(peer_ec);
    if (peer_ec) {
        m.close();
        throw Error(errc::invalid_input,
                    "descriptor " + std::to_string(fd) + " is not connected: " + peer_ec.message(),
                    cause_of(peer_ec));
    }
    if (protocol.family() == AF_UNIX && m.peer.empty()) {
        m.peer = "unix socket";
    }
    m.learn_peer();
}

asio::awaitable<std::size_t> AsyncStream::read_some(std::span<char> buffer) {
    Impl& m = *impl_;
    if (buffer.empty()) {
        // A zero-byte read completes at once with 0, which the caller would take for EOF.
        throw Error(errc::invalid_input, "read_some needs room for at least one byte");
    }
    if (!m.socket.is_open()) {
        throw Error(errc::connection_lost, "read from a closed connection");
    }
    if (m.at_eof) {
        co_return 0;
    }
    std::error_code ec;
    std::size_t n = 0;
    try {
        const auto b = asio::buffer(buffer.data(), buffer.size());
        n = m.tls_stream ? co_await m.tls_stream->async_read_some(b, asio::use_awaitable)
                         : co_await m.socket.async_read_some(b, asio::use_awaitable);
    } catch (const std::system_error& e) {
        ec = e.code();
    }
    // A server may close without TLS close_notify (common after QUIT): that is an end too.
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
        m.at_eof = true;
        co_return 0;
    }
    if (ec) {
        const std::string peer = m.peer;
        m.close();
        if (is_aborted(ec)) {
            throw Error(errc::cancelled, "cancelled reading from " + peer);
        }
        throw Error(errc::connection_lost, "reading from " + peer + " failed: " + ec.message(),
                    cause_of(ec));
    }
    co_return n;
}

asio::awaitable<void> AsyncStream::write_all(std::string_view bytes) {
    Impl& m = *impl_;
    if (!m.socket.is_open()) {
        throw Error(errc::connection_lost, "write to a closed connection");
    }
    std::error_code ec;
    try {
        const auto b = asio::buffer(bytes.data(), bytes.size());
        if (m.tls_stream) {
            co_await asio::async_write(*m.tls_stream, b, asio::use_awaitable);
        } else {
            co_await asio::async_write(m.socket, b, asio::use_awaitable);
        }
    } catch (const std::system_error& e) {
        ec = e.code();
    }
    if (ec) {
        const std::string peer = m.peer;
        m.close();
        if (is_aborted(ec)) {
            throw Error(errc::cancelled, "cancelled writing to " + peer);
        }
        throw Error(errc::connection_lost, "writing to " + peer + " failed: " + ec.message(),
                    cause_of(ec));
    }
}

asio::awaitable<void> AsyncStream::start_tls(std::shared_ptr<TlsContext> context,
                                             std::string name) {
    Impl& m = *impl_;
    if (!m.socket.is_open()) {
        throw Error(errc::connection_lost, "TLS on a closed connection");
    }
    if (m.tls_stream) {
        throw Error(errc::invalid_input, "TLS is already active on this connection");
    }
    if (!context) {
        throw Error(errc::invalid_input, "start_tls needs a TLS context");
    }
    if (name.empty() && context->verifies()) {
        // Without a name any certificate of a trusted CA would pass.
        throw Error(errc::config, "TLS with " + m.peer +
                                      " needs the name its certificate must carry (a peer name)");
    }
    m.tls_context = context;
    auto& tls = m.tls_stream.emplace(m.socket, context->impl().context);
    SSL* ssl = tls.native_handle();
    // Sessions are kept per server and expected name inside the context, which is one set of
    // verification settings: a session never vouches for another name or a stricter check.
    m.session_target = std::make_unique<TlsContext::Impl::Target>();
    m.session_target->key = m.peer + "/" + name;
    context->impl().prepare(ssl, *m.session_target);
    asio::error_code addr_ec;
    (void)asio::ip::make_address(name, addr_ec);
    if (context->verifies()) {
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        if (addr_ec) {
            SSL_set1_host(ssl, name.c_str());
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        } else {
            X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
        }
    }
    if (addr_ec) {
        // RFC 6066: SNI carries host names only. (SSL_set_tlsext_host_name, without its cast.)
        SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(name.c_str()));
    }
    if (context->verifies()) {
        SSL_set_verify(ssl, SSL_get_verify_mode(ssl), keep_leaf);
    }
    std::error_code ec;
    try {
        co_await tls.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    } catch (const std::system_error& e) {
        ec = e.code();
    }
    const std::string names = ec ? names_of_peer(ssl) : std::string();
    drop_leaf(ssl);
    if (ec) {
        const long verify = SSL_get_verify_result(ssl);
        const std::string target = m.peer;
        m.close();
        if (is_aborted(ec)) {
            throw Error(errc::cancelled, "cancelled the TLS handshake with " + target);
        }
        if (verify != X509_V_OK) {
            throw Error(errc::certificate,
                        "certificate of " + target + " not accepted for \"" + name +
                            "\": " + X509_verify_cert_error_string(verify) +
                            (names.empty() ? std::string() : " (it names " + names + ")"),
                        cause_of(ec));
        }
        throw Error(errc::tls, "TLS handshake with " + target + " failed: " + ec.message(),
                    cause_of(ec));
    }
    TlsInfo info;
    info.version = SSL_get_version(ssl);
    info.cipher = SSL_get_cipher_name(ssl);
    if (X509* cert = SSL_get1_peer_certificate(ssl)) {
        info.peer_subject = name_of(X509_get_subject_name(cert));
        info.peer_issuer = name_of(X509_get_issuer_name(cert));
        X509_free(cert);
    }
    info.session_resumed = SSL_session_reused(ssl) == 1;
    m.tls_info = std::move(info);
}

void AsyncStream::cancel() noexcept {
    Impl& m = *impl_;
    if (m.abort_lookup) {
        std::exchange(m.abort_lookup, nullptr)();
    }
    // Closing (not just cancelling) also stops a connect from trying the next address.
    std::error_code ignored;
    m.socket.close(ignored);
}

void AsyncStream::close() noexcept {
    if (impl_) {
        impl_->close();
    }
}

bool AsyncStream::is_open() const {
    return impl_ && impl_->socket.is_open();
}

bool AsyncStream::has_unread_input() const {
    if (!is_open()) {
        return false;
    }
    if (impl_->at_eof ||
        (impl_->tls_stream && SSL_pending(impl_->tls_stream->native_handle()) > 0)) {
        return true;
    }
    pollfd p{impl_->socket.native_handle(), POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
}

const TlsInfo* AsyncStream::tls() const {
    return impl_ && impl_->tls_info ? &*impl_->tls_info : nullptr;
}

std::string AsyncStream::remote_endpoint() const {
    return is_open() ? impl_->peer : std::string();
}

bool AsyncStream::remote_is_local() const {
    return is_open() && impl_->local;
}

std::string AsyncStream::local_address_literal() const {
    if (!is_open()) {
        return {};
    }
    std::error_code ec;
    const Endpoint endpoint = impl_->socket.local_endpoint(ec);
    if (ec) {
        return {};
    }
    const Address a = address_of(endpoint);
    if (a.family != AF_INET && a.family != AF_INET6) {
        return {};
    }
    if (a.ip.is_v6()) {
        const asio::ip::address_v6 v6 = a.ip.to_v6();
        if (v6.is_v4_mapped()) {
            return "[" + asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_string() + "]";
        }
        return "[IPv6:" + v6.to_string() + "]";
    }
    return "[" + a.ip.to_string() + "]";
}

}  // namespace missive::net
