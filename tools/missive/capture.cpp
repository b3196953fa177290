// missive capture: a local SMTP server for development that accepts every message (STARTTLS
// with a generated certificate, AUTH for any user) and stores it in a Maildir. The protocol is
// smtp::ServerSession's; this file only moves bytes (Asio, OpenSSL) and writes files.
#include <missive/smtp/server_session.hpp>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "failure.hpp"
#include "maildir.hpp"
#include "text.hpp"

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

namespace missive::cli {

namespace {

struct CaptureFlags {
    std::string listen = "127.0.0.1:2525";
    std::string maildir = "maildir";
    std::string tls_cert;
    std::string tls_key;
    std::size_t max_size = std::size_t{50} << 20;
    std::size_t max_connections = 32;
    unsigned idle_timeout = 300;  // seconds
    bool once = false;
    bool allow_plaintext_auth = false;
    bool allow_remote = false;
};

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

[[noreturn]] void openssl_failed(const char* what) {
    throw std::runtime_error(std::string("generating the TLS certificate failed at ") + what);
}

// A self-signed certificate (EC P-256, one year) for localhost, 127.0.0.1, ::1 and the address
// listened on.
std::pair<Key, Cert> make_certificate(const asio::ip::address& address) {
    const std::string host = address.is_loopback() || address.is_unspecified()
                                 ? std::string("localhost")
                                 : address.to_string();
    Key key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    Cert cert(X509_new(), X509_free);
    if (!key || !cert) {
        openssl_failed("key");
    }
    std::array<unsigned char, 8> serial{};
    RAND_bytes(serial.data(), static_cast<int>(serial.size()));
    BIGNUM* bn = BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
    BN_free(bn);
    X509_set_version(cert.get(), 2);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(host.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    const std::string san =
        "DNS:localhost,IP:127.0.0.1,IP:::1" + (host == "localhost" ? std::string() : ",IP:" + host);
    for (const auto& [nid, value] : {std::pair<int, std::string>{NID_subject_alt_name, san},
                                     {NID_basic_constraints, "critical,CA:TRUE"},
                                     {NID_subject_key_identifier, "hash"}}) {
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
        if (ext == nullptr || X509_add_ext(cert.get(), ext, -1) != 1) {
            openssl_failed("extensions");
        }
        X509_EXTENSION_free(ext);
    }
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
        openssl_failed("signing");
    }
    return {std::move(key), std::move(cert)};
}

void write_pem(const std::filesystem::path& path, X509* cert) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr || PEM_write_X509(f, cert) != 1) {
        if (f != nullptr) {
            std::fclose(f);
        }
        throw std::runtime_error("cannot write " + path.string());
    }
    std::fclose(f);
}

bool is_loopback(const asio::ip::address& a) {
    if (a.is_v4()) {
        return a.to_v4().is_loopback();  // 127.0.0.0/8
    }
    const auto v6 = a.to_v6();
    return v6.is_loopback() ||
           (v6.is_v4_mapped() && asio::ip::make_address_v4(asio::ip::v4_mapped, v6).is_loopback());
}

// "127.0.0.1:2525", "[::1]:2525", ":2525" (127.0.0.1) or "localhost:2525". Anything but a
// loopback address needs --allow-remote: this server takes mail from anyone who can reach it.
asio::ip::tcp::endpoint parse_listen(const std::string& listen, bool allow_remote) {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
        throw UsageError("--listen must be HOST:PORT, not '" + listen + "'");
    }
    std::string host = listen.substr(0, colon);
    const std::string port_text = listen.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    } else if (host.find(':') != std::string::npos) {
        throw UsageError("--listen: write an IPv6 address in brackets, as [::1]:2525");
    }
    if (host.empty() || host == "localhost") {
        host = "127.0.0.1";
    }
    unsigned port = 0;
    const char* end = port_text.data() + port_text.size();
    const auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
    if (port_text.empty() || ec != std::errc{} || ptr != end || port > 65535) {
        throw UsageError("--listen: '" + port_text + "' is not a port (0 to 65535)");
    }
    asio::error_code bad;
    const auto address = asio::ip::make_address(host, bad);
    if (bad) {
        throw UsageError("--listen: '" + host +
                         "' is not an IP address (write 127.0.0.1, [::1], or :PORT for "
                         "127.0.0.1)");
    }
    if (!allow_remote && !is_loopback(address)) {
        throw UsageError("--listen " + listen +
                         ": not a loopback address, so anyone who can reach it could put mail "
                         "into the Maildir; add --allow-remote to listen there anyway");
    }
    return {address, static_cast<std::uint16_t>(port)};
}

std::string endpoint_text(const asio::ip::tcp::endpoint& e) {
    const std::string address = e.address().to_string();
    return (e.address().is_v6() ? "[" + address + "]" : address) + ":" + std::to_string(e.port());
}

// One client: its own io_context, so that its thread can wait for each operation with a
// deadline (run_for), and so that the server can interrupt it by posting a close.
struct Connection {
    asio::io_context io{1};
    asio::ip::tcp::socket socket{io};
    std::thread thread;
    std::atomic<bool> finished{false};
};

// Accepts on one thread (io), serves each client on a thread of its own, at most
// --max-connections at a time, and joins every one of them before it returns.
class Server {
public:
    Server(const CaptureFlags& flags, asio::ssl::context& tls)
        : flags_(flags)
        , tls_(tls) {}

    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    Server(Server&&) = delete;
    Server& operator=(Server&&) = delete;

    ~Server() { join_all(); }

    // Listens on `endpoint` and serves until SIGINT, SIGTERM or, with --once, the end of the
    // first connection that delivered a message; prints the address, then `banner_tail`.
    void run(const asio::ip::tcp::endpoint& endpoint, const std::string& banner_tail) {
        try {
            acceptor_.open(endpoint.protocol());
            acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
            acceptor_.bind(endpoint);
            acceptor_.listen();
        } catch (const asio::system_error& e) {
            const bool busy = e.code() == asio::error::address_in_use;
            throw std::runtime_error(
                "cannot listen on " + endpoint_text(endpoint) + ": " + e.code().message() +
                (busy ? " (another program listens there: pick another port, or port 0 for a "
                        "free one)"
                      : ""));
        }
        signals_.async_wait([this](const asio::error_code& ec, int) {
            if (!ec) {
                stop();
            }
        });
        std::cout << "listening on " << endpoint_text(acceptor_.local_endpoint()) << banner_tail
                  << std::endl;
        accept();
        io_.run();
        join_all();
    }

private:
    void stop() {
        stopping_ = true;
        asio::error_code ignored;
        acceptor_.close(ignored);
        signals_.cancel(ignored);
        for (auto& c : connections_) {
            // Runs on the connection's thread: its pending read or write ends at once.
            asio::post(c.io, [&c] {
                asio::error_code e;
                c.socket.close(e);
            });
        }
    }

    void join_all() {
        if (!stopping_) {
            stop();
        }
        for (auto& c : connections_) {
            if (c.thread.joinable()) {
                c.thread.join();
            }
        }
        connections_.clear();
    }

    // Joins the threads of connections that ended. @return how many are still open
    std::size_t reap() {
        for (auto it = connections_.begin(); it != connections_.end();) {
            if (it->finished) {
                it->thread.join();
                it = connections_.erase(it);
            } else {
                ++it;
            }
        }
        return connections_.size();
    }

    void accept() {
        acceptor_.async_accept([this](const asio::error_code& ec, asio::ip::tcp::socket socket) {
            if (stopping_ || ec == asio::error::operation_aborted) {
                return;
            }
            if (ec) {
                const std::lock_guard lock(print_);
                std::cerr << "missive capture: accept: " << ec.message() << '\n';
            } else if (reap() >= flags_.max_connections) {
                refuse(std::move(socket));
            } else {
                // Replies go out at once: with Nagle, a reply written behind the TLS session
                // tickets waits for the client's delayed ACK (40 ms on Linux) after STARTTLS.
                std::error_code ignored;
                socket.set_option(asio::ip::tcp::no_delay(true), ignored);
                auto& c = connections_.emplace_back();
                const auto protocol = acceptor_.local_endpoint().protocol();
                c.socket.assign(protocol, socket.release());
                c.thread = std::thread([this, &c] { serve(c); });
            }
            accept();
        });
    }

    // Over the limit: RFC 5321 3.8 allows a 421 instead of the greeting.
    static void refuse(asio::ip::tcp::socket socket) {
        static constexpr std::string_view reply = "421 4.3.2 too many connections\r\n";
        asio::error_code ignored;
        socket.non_blocking(true, ignored);  // a new socket's buffer takes it at once
        socket.write_some(asio::buffer(reply), ignored);
        socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
    }

    // Runs the connection's pending operation to its end, or until the idle timeout; then the
    // operation is cancelled (it completes with operation_aborted). @return false on timeout
    bool wait(Connection& c) const {
        c.io.restart();
        c.io.run_for(std::chrono::seconds(flags_.idle_timeout));
        if (c.io.stopped()) {
            return true;
        }
        asio::error_code ignored;
        c.socket.cancel(ignored);
        c.io.run();
        return false;
    }

    void report(const std::string& peer, const std::string& what) {
        const std::lock_guard lock(print_);
        std::cerr << "missive capture: connection from " << peer << ": " << what << '\n';
    }

    void print_stored(const smtp::ReceivedMessage& m, const std::filesystem::path& file) {
        std::string to;
        for (const auto& r : m.to) {
            to += (to.empty() ? "" : ",") + printable(r);
        }
        const std::time_t now = std::time(nullptr);
        std::array<char, 32> stamp{};
        std::tm tm{};
        std::strftime(stamp.data(), stamp.size(), "%Y-%m-%dT%H:%M:%S", localtime_r(&now, &tm));
        const std::lock_guard lock(print_);
        std::cout << stamp.data() << " from=<" << printable(m.from) << "> to=" << to
                  << " size=" << m.data.size() << (m.tls ? " tls" : "")
                  << (m.user.empty() ? "" : " user=" + printable(m.user))
                  << " file=" << printable(file.string()) << std::endl;
    }

    void serve(Connection& c) {
        std::string peer = "unknown";
        bool stored = false;
        try {
            peer = c.socket.remote_endpoint().address().to_string();
            converse(c, peer, stored);
        } catch (const std::exception& e) {
            report(peer, e.what());
        }
        asio::error_code ignored;
        c.socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        c.finished = true;
        asio::post(io_, [this, stored] {
            reap();
            if (flags_.once && stored) {
                stop();
            }
        });
    }

    // The SMTP dialogue; `stored` becomes true once a message was stored.
    void converse(Connection& c, const std::string& peer, bool& stored) {
        smtp::ServerSession session({.hostname = "localhost",
                                     .max_size = flags_.max_size,
                                     .tls_available = true,
                                     .auth_requires_tls = !flags_.allow_plaintext_auth,
                                     .confirm_storage = true});
        std::optional<asio::ssl::stream<asio::ip::tcp::socket&>> secure;
        std::array<char, 65536> buffer{};
        asio::error_code ec;
        std::size_t n = 0;
        const auto done = [&ec, &n](const asio::error_code& e, std::size_t bytes) {
            ec = e;
            n = bytes;
        };
        for (;;) {
            const std::string_view out = session.output();
            if (!out.empty()) {
                if (secure) {
                    asio::async_write(*secure, asio::buffer(out.data(), out.size()), done);
                } else {
                    asio::async_write(c.socket, asio::buffer(out.data(), out.size()), done);
                }
                if (!wait(c)) {
                    report(peer, "the client stopped reading; closed");
                    return;
                }
                if (ec) {
                    return;  // the client went away, or the server stops
                }
                session.consume_output(out.size());
            }
            if (session.closed()) {
                return;
            }
            if (session.tls_requested()) {
                secure.emplace(c.socket, tls_);
                secure->async_handshake(asio::ssl::stream_base::server,
                                        [&ec](const asio::error_code& e) { ec = e; });
                if (!wait(c) || ec) {
                    report(peer, "TLS handshake failed" + (ec ? ": " + ec.message() : ""));
                    return;
                }
                session.tls_started();
                continue;
            }
            if (secure) {
                secure->async_read_some(asio::buffer(buffer), done);
            } else {
                c.socket.async_read_some(asio::buffer(buffer), done);
            }
            if (!wait(c)) {
                // RFC 5321 4.5.3.2: the server may close an idle connection, saying so first.
                static constexpr std::string_view bye =
                    "421 4.4.2 localhost Error: timeout exceeded\r\n";
                if (secure) {
                    asio::async_write(*secure, asio::buffer(bye), done);
                } else {
                    asio::async_write(c.socket, asio::buffer(bye), done);
                }
                (void)wait(c);
                report(peer, "idle for " + std::to_string(flags_.idle_timeout) + " s; closed");
                return;
            }
            if (ec) {
                return;  // the client went away, or the server stops
            }
            session.receive({buffer.data(), n});
            while (auto m = session.take_message()) {
                try {
                    const auto file = store_in_maildir(flags_.maildir, *m, peer);
                    print_stored(*m, file);
                    stored = true;
                    session.message_stored();
                } catch (const std::exception& e) {
                    report(peer, std::string("message not stored: ") + e.what());
                    session.message_not_stored();
                }
            }
        }
    }

    const CaptureFlags& flags_;
    asio::ssl::context& tls_;
    asio::io_context io_;
    asio::ip::tcp::acceptor acceptor_{io_};
    asio::signal_set signals_{io_, SIGINT, SIGTERM};
    std::list<Connection> connections_;  // touched on io_'s thread only
    bool stopping_ = false;              // likewise
    std::mutex print_;
};

int run_capture(const CaptureFlags& flags) {
    const auto endpoint = parse_listen(flags.listen, flags.allow_remote);
    prepare_maildir(flags.maildir);
    asio::ssl::context tls{asio::ssl::context::tls_server};
    tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                    asio::ssl::context::no_tlsv1_1);
    if (!flags.tls_cert.empty() || !flags.tls_key.empty()) {
        const std::string& key = flags.tls_key.empty() ? flags.tls_cert : flags.tls_key;
        for (const auto& [flag, file] :
             {std::pair<std::string, std::string>{"--tls-cert", flags.tls_cert},
              {"--tls-key", key}}) {
            if (file.empty()) {
                throw UsageError(flag + " is needed too");
            }
            std::ifstream in(file);
            if (!in) {
                std::string what = flag;
                what.append(" '").append(file).append("' cannot be read: ");
                throw std::runtime_error(what + std::generic_category().message(errno));
            }
        }
        try {
            tls.use_certificate_chain_file(flags.tls_cert);
        } catch (const asio::system_error& e) {
            throw std::runtime_error("--tls-cert '" + flags.tls_cert +
                                     "' holds no PEM certificate chain: " + e.code().message());
        }
        try {
            tls.use_private_key_file(key, asio::ssl::context::pem);
        } catch (const asio::system_error& e) {
            throw std::runtime_error("--tls-key '" + key + "' holds no PEM private key for " +
                                     "the certificate: " + e.code().message());
        }
    } else {
        auto [key, cert] = make_certificate(endpoint.address());
        SSL_CTX_use_certificate(tls.native_handle(), cert.get());
        SSL_CTX_use_PrivateKey(tls.native_handle(), key.get());
        write_pem(std::filesystem::path(flags.maildir) / "capture-cert.pem", cert.get());
    }
    Server server(flags, tls);
    server.run(endpoint, ", storing in " + flags.maildir + "/new" +
                             (flags.tls_cert.empty() ? " (STARTTLS certificate: " + flags.maildir +
                                                           "/capture-cert.pem)"
                                                     : std::string()));
    return exit_ok;
}

}  // namespace

void add_capture(CLI::App& app, int& status) {
    auto flags = std::make_shared<CaptureFlags>();
    CLI::App* cmd = app.add_subcommand(
        "capture",
        "A local SMTP server for development: accepts every message (STARTTLS with a generated "
        "certificate, AUTH for any user) and stores it in a Maildir, printing a line per "
        "message. Port 0 picks a free port; the first line says which.");
    cmd->add_option("--listen", flags->listen,
                    "HOST:PORT to listen on: an IP address ([::1] for IPv6; empty for "
                    "127.0.0.1); other than loopback only with --allow-remote")
        ->capture_default_str();
    cmd->add_option("--maildir", flags->maildir, "Maildir to store messages in (new/)")
        ->capture_default_str();
    cmd->add_option("--tls-cert", flags->tls_cert,
                    "Certificate chain (PEM) for STARTTLS; default: a generated one, written to "
                    "MAILDIR/capture-cert.pem for clients to trust");
    cmd->add_option("--tls-key", flags->tls_key, "Private key (PEM) of --tls-cert");
    cmd->add_option("--max-size", flags->max_size, "Largest message accepted, in octets (SIZE)")
        ->capture_default_str();
    cmd->add_option("--max-connections", flags->max_connections,
                    "Clients served at once; one more gets 421 and is closed")
        ->check(CLI::Range(1, 10000))
        ->capture_default_str();
    cmd->add_option("--idle-timeout", flags->idle_timeout,
                    "Seconds a client may keep the server waiting before it is closed")
        ->check(CLI::Range(1, 86400))
        ->capture_default_str();
    cmd->add_flag("--allow-remote", flags->allow_remote,
                  "Allow --listen on an address other than loopback (127.0.0.0/8, ::1): anyone "
                  "who can reach it can then store mail");
    cmd->add_flag("--once", flags->once,
                  "Exit after the first connection that delivered a message");
    cmd->add_flag("--allow-plaintext-auth", flags->allow_plaintext_auth,
                  "Offer AUTH before STARTTLS too (by default only over TLS)");
    cmd->callback([flags, &status] {
        try {
            status = run_capture(*flags);
        } catch (const UsageError& e) {
            std::cerr << "missive capture: " << printable(e.what()) << '\n';
            status = exit_usage;
        } catch (const std::exception& e) {
            std::cerr << "missive capture: " << printable(e.what()) << '\n';
            status = exit_config;
        }
    });
}

}  // namespace missive::cli
