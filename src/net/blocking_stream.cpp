#include <missive/error.hpp>
#include <missive/net/blocking_stream.hpp>

#include "net/tls_context.hpp"

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace missive::net {

namespace {

std::string describe(const asio::ip::tcp::endpoint& ep) {
    const auto addr = ep.address();
    return addr.is_v6() ? "[" + addr.to_string() + "]:" + std::to_string(ep.port())
                        : addr.to_string() + ":" + std::to_string(ep.port());
}

// How long the caller allowed, as a log reader wants it: "30 s", "150 ms"; "0 ms" for a
// deadline that had passed before the call.
std::string seconds_of(Deadline start, Deadline deadline) {
    const auto ms = std::max<std::chrono::milliseconds::rep>(
        std::chrono::round<std::chrono::milliseconds>(deadline - start).count(), 0);
    if (ms >= 1000 && ms % 1000 == 0) {
        return std::to_string(ms / 1000) + " s";
    }
    return std::to_string(ms) + " ms";
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

}  // namespace

namespace {

// How a wait ended.
enum class Outcome { done, timed_out, cancelled };

// What a name lookup leaves behind: shared with the thread that runs it, which may outlive the
// wait for it.
struct Lookup {
    std::mutex mutex;
    std::condition_variable_any finished_cv;
    bool finished = false;
    std::error_code ec;
    std::vector<asio::ip::tcp::endpoint> endpoints;
};

// Resolves `host` (IPv6 and IPv4, in getaddrinfo's RFC 6724 order) before `deadline` or a stop
// request. getaddrinfo cannot be interrupted, and Asio's async_resolve runs it on a thread that
// the io_context joins, so a cancelled lookup would still hold the caller until the system
// resolver gave up (tens of seconds with an unreachable DNS server). The lookup therefore runs on
// a detached thread with its own resolver, and an abandoned one finishes on its own. A literal
// address needs no thread.
Outcome lookup(const std::string& host, std::uint16_t port, Deadline deadline,
               const std::stop_token& stop, std::vector<asio::ip::tcp::endpoint>& endpoints,
               std::error_code& ec) {
    std::error_code not_literal;
    const auto literal = asio::ip::make_address(host, not_literal);
    if (!not_literal) {
        endpoints = {asio::ip::tcp::endpoint(literal, port)};
        return Outcome::done;
    }
    if (stop.stop_requested()) {
        return Outcome::cancelled;
    }
    auto shared = std::make_shared<Lookup>();
    try {
        std::thread([shared, host, port] {
            asio::io_context io;
            asio::ip::tcp::resolver resolver(io);
            std::error_code error;
            const auto results = resolver.resolve(host, std::to_string(port),
                                                  asio::ip::tcp::resolver::numeric_service, error);
            std::vector<asio::ip::tcp::endpoint> found;
            for (const auto& entry : results) {
                found.push_back(entry.endpoint());
            }
            {
                const std::lock_guard lock(shared->mutex);
                shared->ec = error;
                shared->endpoints = std::move(found);
                shared->finished = true;
            }
            shared->finished_cv.notify_all();
        }).detach();
    } catch (const std::system_error& e) {
        ec = e.code();  // no thread to spare: reported as a failed lookup
        return Outcome::done;
    }
    std::unique_lock lock(shared->mutex);
    if (!shared->finished_cv.wait_until(lock, stop, deadline, [&] { return shared->finished; })) {
        return stop.stop_requested() ? Outcome::cancelled : Outcome::timed_out;
    }
    ec = shared->ec;
    endpoints = std::move(shared->endpoints);
    return Outcome::done;
}

}  // namespace

struct BlockingStream::Impl {
    asio::io_context io;
    asio::ip::tcp::socket socket{io};
    asio::steady_timer timer{io};
    std::string peer;
    // The peer closed its side. Asio's edge-triggered reactor would wait for another readiness
    // event that never comes if asked to read again, so later reads answer from here.
    bool at_eof = false;
    // The context and the session target outlive the TLS stream that refers to them (declared
    // first, destroyed last).
    std::shared_ptr<TlsContext> tls_context;
    std::unique_ptr<TlsContext::Impl::Target> session_target;
    std::optional<asio::ssl::stream<asio::ip::tcp::socket&>> tls_stream;
    std::optional<TlsInfo> tls_info;

    // Runs the asynchronous operation started by `start` until it completes, the deadline
    // passes or `stop` fires. In the latter two cases `abort` (by default: close the socket)
    // completes the operation with operation_aborted, so no handler outlives this call.
    template <typename Start>
    Outcome run(Start&& start, Deadline deadline, const std::stop_token& stop,
                const std::function<void()>& abort = {}) {
        const std::function<void()> stop_op = abort ? abort : [this] {
            std::error_code ignored;
            socket.close(ignored);
        };
        if (stop.stop_requested()) {
            return Outcome::cancelled;
        }
        bool finished = false;
        Outcome outcome = Outcome::done;
        io.restart();
        timer.expires_at(deadline);
        timer.async_wait([&](const std::error_code& ec) {
            if (!ec && !finished) {
                outcome = Outcome::timed_out;
                stop_op();
            }
        });
        // A stop request from another thread is handed to the io_context's thread.
        std::optional<std::stop_callback<std::function<void()>>> on_stop;
        on_stop.emplace(stop, std::function<void()>([this, &outcome, &finished, &stop_op] {
                            asio::post(io, [&outcome, &finished, &stop_op] {
                                if (!finished) {
                                    outcome = Outcome::cancelled;
                                    stop_op();
                                }
                            });
                        }));
        start([&] {
            finished = true;
            timer.cancel();
        });
        io.run();
        on_stop.reset();  // waits for a callback running on another thread
        io.restart();
        io.poll();  // run what the stop callback posted, now harmless
        return outcome;
    }

    // Turns a deadline or a stop request into its error; `waiting` and `doing` name the step.
    void raise_if(Outcome outcome, Deadline start, Deadline deadline, const char* waiting,
                  const char* doing) {
        if (outcome == Outcome::timed_out) {
            fail_timeout(start, deadline, waiting);
        }
        if (outcome == Outcome::cancelled) {
            fail_cancelled(doing);
        }
    }

    [[noreturn]] void fail_timeout(Deadline start, Deadline deadline, const char* doing) {
        close();
        throw Error(errc::timeout,
                    "timed out after " + seconds_of(start, deadline) + " " + doing + " " + peer);
    }

    [[noreturn]] void fail_cancelled(const char* doing) {
        close();
        throw Error(errc::cancelled, std::string("cancelled ") + doing + " " + peer);
    }

    void close() noexcept {
        at_eof = false;
        std::error_code ignored;
        socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
        tls_stream.reset();
        session_target.reset();
        tls_context.reset();
        tls_info.reset();
    }

    // Reads or writes through TLS once it is up, else on the plain socket.
    template <typename Op>
    void with_stream(Op&& op) {
        if (tls_stream) {
            op(*tls_stream);
        } else {
            op(socket);
        }
    }
};

BlockingStream::BlockingStream()
    : impl_(std::make_unique<Impl>()) {}

BlockingStream::BlockingStream(BlockingStream&& other) noexcept = default;
BlockingStream& BlockingStream::operator=(BlockingStream&& other) noexcept = default;
BlockingStream::~BlockingStream() = default;

void BlockingStream::connect(std::string_view host, std::uint16_t port, Deadline deadline,
                             const std::stop_token& stop) {
    Impl& m = *impl_;
    m.close();
    const Deadline start = Clock::now();
    const std::string target =
        (std::string(host).find(':') != std::string::npos ? "[" + std::string(host) + "]"
                                                          : std::string(host)) +
        ":" + std::to_string(port);
    m.peer = target;

    std::vector<asio::ip::tcp::endpoint> endpoints;
    std::error_code ec;
    const auto looked_up = lookup(std::string(host), port, deadline, stop, endpoints, ec);
    m.raise_if(looked_up, start, deadline, "resolving", "resolving");
    if (ec) {
        throw Error(errc::connect_failed,
                    "connect to " + target + " failed: cannot resolve host: " + ec.message(),
                    cause_of(ec));
    }

    // Try each address in turn (RFC 6724 order from getaddrinfo), as Go's dialer and
    // asio::async_connect do.
    asio::ip::tcp::endpoint reached;
    const auto outcome = m.run(
        [&](auto done) {
            asio::async_connect(m.socket, endpoints,
                                [&, done](const std::error_code& e, const auto& ep) {
                                    done();
                                    ec = e;
                                    reached = ep;
                                });
        },
        deadline, stop);
    m.raise_if(outcome, start, deadline, "connecting to", "connecting to");
    if (ec) {
        m.close();
        throw Error(errc::connect_failed, "connect to " + target + " failed: " + ec.message(),
                    cause_of(ec));
    }
    // missive writes each pipelined group in one call; Nagle would only delay it.
    m.socket.set_option(asio::ip::tcp::no_delay(true), ec);
    m.peer = describe(reached);
}

std::size_t BlockingStream::read_some(std::span<char> buffer, Deadline deadline,
                                      const std::stop_token& stop) {
    Impl& m = *impl_;
    if (buffer.empty()) {
        // A zero-byte read completes at once with 0, which the caller would take for EOF.
        throw Error(errc::invalid_input, "read_some needs room for at least one byte");
    }
    if (!m.socket.is_open()) {
        throw Error(errc::connection_lost, "read from a closed connection");
    }
    if (m.at_eof) {
        return 0;
    }
    const Deadline start = Clock::now();
    std::error_code ec;
    std::size_t n = 0;
    const auto outcome = m.run(
        [&](auto done) {
            m.with_stream([&](auto& stream) {
                stream.async_read_some(asio::buffer(buffer.data(), buffer.size()),
                                       [&, done](const std::error_code& e, std::size_t got) {
                                           done();
                                           ec = e;
                                           n = got;
                                       });
            });
        },
        deadline, stop);
    m.raise_if(outcome, start, deadline, "waiting to read from", "reading from");
    // A server may close without TLS close_notify (common after QUIT): that is an end too.
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
        m.at_eof = true;
        return 0;
    }
    if (ec) {
        m.close();
        throw Error(errc::connection_lost, "reading from " + m.peer + " failed: " + ec.message(),
                    cause_of(ec));
    }
    return n;
}

void BlockingStream::write_all(std::string_view bytes, Deadline deadline,
                               const std::stop_token& stop) {
    Impl& m = *impl_;
    if (!m.socket.is_open()) {
        throw Error(errc::connection_lost, "write to a closed connection");
    }
    const Deadline start = Clock::now();
    std::error_code ec;
    const auto outcome = m.run(
        [&](auto done) {
            m.with_stream([&](auto& stream) {
                asio::async_write(stream, asio::buffer(bytes.data(), bytes.size()),
                                  [&, done](const std::error_code& e, std::size_t) {
                                      done();
                                      ec = e;
                                  });
            });
        },
        deadline, stop);
    m.raise_if(outcome, start, deadline, "waiting to write to", "writing to");
    if (ec) {
        m.close();
        throw Error(errc::connection_lost, "writing to " + m.peer + " failed: " + ec.message(),
                    cause_of(ec));
    }
}

void BlockingStream::start_tls(const std::shared_ptr<TlsContext>& context, std::string_view name,
                               Deadline deadline, const std::stop_token& stop) {
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
    std::error_code ec;
    m.tls_context = context;
    auto& tls = m.tls_stream.emplace(m.socket, context->impl().context);
    SSL* ssl = tls.native_handle();
    // Sessions are kept per server and expected name inside the context, which is one set of
    // verification settings: a session never vouches for another name or a stricter check.
    m.session_target = std::make_unique<TlsContext::Impl::Target>();
    m.session_target->key = m.peer + "/" + std::string(name);
    context->impl().prepare(ssl, *m.session_target);
    const std::string host_name(name);
    asio::error_code addr_ec;
    (void)asio::ip::make_address(host_name, addr_ec);
    if (context->verifies()) {
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        if (addr_ec) {
            SSL_set1_host(ssl, host_name.c_str());
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        } else {
            X509_VERIFY_PARAM_set1_ip_asc(param, host_name.c_str());
        }
    }
    if (addr_ec) {
        // RFC 6066: SNI carries host names only. (SSL_set_tlsext_host_name, without its cast.)
        SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(host_name.c_str()));
    }

    const Deadline start = Clock::now();
    const auto outcome = m.run(
        [&](auto done) {
            tls.async_handshake(asio::ssl::stream_base::client,
                                [&, done](const std::error_code& e) {
                                    done();
                                    ec = e;
                                });
        },
        deadline, stop);
    m.raise_if(outcome, start, deadline, "in the TLS handshake with", "TLS handshake with");
    if (ec) {
        const long verify = SSL_get_verify_result(ssl);
        const std::string target = m.peer;
        m.close();
        if (verify != X509_V_OK) {
            throw Error(errc::certificate,
                        "certificate of " + target + " not accepted for \"" + host_name +
                            "\": " + X509_verify_cert_error_string(verify),
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

const TlsInfo* BlockingStream::tls() const {
    return impl_ && impl_->tls_info ? &*impl_->tls_info : nullptr;
}

void BlockingStream::close() noexcept {
    if (impl_) {
        impl_->close();
    }
}

bool BlockingStream::is_open() const {
    return impl_ && impl_->socket.is_open();
}

std::string BlockingStream::remote_endpoint() const {
    return is_open() ? impl_->peer : std::string();
}

bool BlockingStream::remote_is_loopback() const {
    if (!is_open()) {
        return false;
    }
    std::error_code ec;
    const auto endpoint = impl_->socket.remote_endpoint(ec);
    if (ec) {
        return false;
    }
    const asio::ip::address addr = endpoint.address();
    if (addr.is_v6()) {
        const asio::ip::address_v6 v6 = addr.to_v6();
        return v6.is_loopback() ||
               (v6.is_v4_mapped() &&
                asio::ip::make_address_v4(asio::ip::v4_mapped, v6).is_loopback());
    }
    return addr.is_loopback();
}

std::string BlockingStream::local_address_literal() const {
    if (!is_open()) {
        return {};
    }
    std::error_code ec;
    const auto endpoint = impl_->socket.local_endpoint(ec);
    if (ec) {
        return {};
    }
    const asio::ip::address addr = endpoint.address();
    if (addr.is_v6()) {
        const asio::ip::address_v6 v6 = addr.to_v6();
        if (v6.is_v4_mapped()) {
            return "[" + asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_string() + "]";
        }
        return "[IPv6:" + v6.to_string() + "]";
    }
    return "[" + addr.to_string() + "]";
}

}  // namespace missive::net
