// missive capture: a local SMTP server for development that accepts every message (STARTTLS
// with a generated certificate, AUTH for any user) and stores it in a Maildir. The protocol is
// smtp::ServerSession's; this file only moves bytes (Asio, OpenSSL) and writes files.
#include <missive/smtp/server_session.hpp>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "maildir.hpp"

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

namespace missive::cli {

namespace {

struct CaptureFlags {
    std::string listen = "127.0.0.1:2525";
    std::string maildir = "maildir";
    std::string tls_cert;
    std::string tls_key;
    std::size_t max_size = std::size_t{50} << 20;
    bool once = false;
    bool allow_plaintext_auth = false;
};

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

[[noreturn]] void openssl_failed(const char* what) {
    throw std::runtime_error(std::string("generating the TLS certificate failed at ") + what);
}

// A self-signed certificate (EC P-256, one year) for `host`, localhost and 127.0.0.1.
std::pair<Key, Cert> make_certificate(const std::string& host) {
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
    const bool is_ip = host.find_first_not_of("0123456789.") == std::string::npos ||
                       host.find(':') != std::string::npos;
    const std::string san =
        "DNS:localhost,IP:127.0.0.1,IP:::1" +
        (host == "localhost" ? std::string() : (is_ip ? ",IP:" : ",DNS:") + host);
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

std::pair<std::string, std::uint16_t> split_listen(const std::string& listen) {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
        throw std::invalid_argument("--listen must be HOST:PORT, not '" + listen + "'");
    }
    std::string host = listen.substr(0, colon);
    if (host.size() > 1 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    const int port = std::stoi(listen.substr(colon + 1));
    if (port < 0 || port > 65535) {
        throw std::invalid_argument("--listen has an invalid port");
    }
    return {host, static_cast<std::uint16_t>(port)};
}

struct Server {
    explicit Server(const CaptureFlags& f)
        : flags(f) {}

    const CaptureFlags& flags;
    asio::ssl::context tls{asio::ssl::context::tls_server};
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor{io};
    std::mutex mutex;
    std::condition_variable idle;
    int active = 0;
    std::atomic<bool> stored_one{false};

    void stop() {
        asio::post(io, [this] {
            asio::error_code ignored;
            acceptor.close(ignored);
            io.stop();
        });
    }

    void serve(asio::ip::tcp::socket socket) {
        std::string peer = "unknown";
        try {
            peer = socket.remote_endpoint().address().to_string();
            // A client that stops talking is dropped after five minutes.
            const timeval limit{300, 0};
            ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
            ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
            smtp::ServerSession session({.hostname = "localhost",
                                         .max_size = flags.max_size,
                                         .tls_available = true,
                                         .auth_requires_tls = !flags.allow_plaintext_auth});
            std::optional<asio::ssl::stream<asio::ip::tcp::socket&>> secure;
            std::array<char, 65536> buffer{};
            for (;;) {
                const std::string_view out = session.output();
                if (!out.empty()) {
                    if (secure) {
                        asio::write(*secure, asio::buffer(out.data(), out.size()));
                    } else {
                        asio::write(socket, asio::buffer(out.data(), out.size()));
                    }
                    session.consume_output(out.size());
                }
                if (session.closed()) {
                    break;
                }
                if (session.tls_requested()) {
                    secure.emplace(socket, tls);
                    secure->handshake(asio::ssl::stream_base::server);
                    session.tls_started();
                    continue;
                }
                asio::error_code ec;
                const std::size_t n = secure ? secure->read_some(asio::buffer(buffer), ec)
                                             : socket.read_some(asio::buffer(buffer), ec);
                if (ec) {
                    break;  // the client went away
                }
                session.receive({buffer.data(), n});
                while (auto m = session.take_message()) {
                    const auto file = store_in_maildir(flags.maildir, *m, peer);
                    std::string to;
                    for (const auto& r : m->to) {
                        to += (to.empty() ? "" : ",") + r;
                    }
                    const std::lock_guard lock(mutex);
                    const std::time_t now = std::time(nullptr);
                    std::array<char, 32> stamp{};
                    std::tm tm{};
                    std::strftime(stamp.data(), stamp.size(), "%Y-%m-%dT%H:%M:%S",
                                  localtime_r(&now, &tm));
                    std::cout << stamp.data() << " from=<" << m->from << "> to=" << to
                              << " size=" << m->data.size() << (m->tls ? " tls" : "")
                              << (m->user.empty() ? "" : " user=" + m->user)
                              << " file=" << file.string() << std::endl;
                    stored_one = true;
                }
            }
        } catch (const std::exception& e) {
            const std::lock_guard lock(mutex);
            std::cerr << "missive capture: connection from " << peer << ": " << e.what() << '\n';
        }
        const std::lock_guard lock(mutex);
        --active;
        idle.notify_all();
        if (flags.once && stored_one) {
            stop();
        }
    }

    void accept() {
        acceptor.async_accept([this](const asio::error_code& ec, asio::ip::tcp::socket socket) {
            if (ec) {
                return;  // closed: stopping
            }
            {
                const std::lock_guard lock(mutex);
                ++active;
            }
            std::thread([this, s = std::move(socket)]() mutable { serve(std::move(s)); }).detach();
            accept();
        });
    }
};

int run_capture(const CaptureFlags& flags) {
    Server server(flags);
    std::filesystem::create_directories(flags.maildir);
    server.tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1);
    const auto [host, port] = split_listen(flags.listen);
    if (!flags.tls_cert.empty() || !flags.tls_key.empty()) {
        server.tls.use_certificate_chain_file(flags.tls_cert);
        server.tls.use_private_key_file(flags.tls_key.empty() ? flags.tls_cert : flags.tls_key,
                                        asio::ssl::context::pem);
    } else {
        auto [key, cert] = make_certificate(host);
        SSL_CTX_use_certificate(server.tls.native_handle(), cert.get());
        SSL_CTX_use_PrivateKey(server.tls.native_handle(), key.get());
        write_pem(std::filesystem::path(flags.maildir) / "capture-cert.pem", cert.get());
    }
    const asio::ip::tcp::endpoint endpoint(asio::ip::make_address(host), port);
    server.acceptor.open(endpoint.protocol());
    server.acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true));
    server.acceptor.bind(endpoint);
    server.acceptor.listen();
    asio::signal_set signals(server.io, SIGINT, SIGTERM);
    signals.async_wait([&server](const asio::error_code& ec, int) {
        if (!ec) {
            server.stop();
        }
    });
    const auto bound = server.acceptor.local_endpoint();
    std::cout << "listening on " << bound.address().to_string() << ":" << bound.port()
              << ", storing in " << flags.maildir << "/new"
              << (flags.tls_cert.empty()
                      ? " (STARTTLS certificate: " + flags.maildir + "/capture-cert.pem)"
                      : std::string())
              << std::endl;
    server.accept();
    server.io.run();
    // Connections finish what they are doing (at most a few seconds).
    std::unique_lock lock(server.mutex);
    server.idle.wait_for(lock, std::chrono::seconds(5), [&] { return server.active == 0; });
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
    cmd->add_option("--listen", flags->listen, "HOST:PORT to listen on")->capture_default_str();
    cmd->add_option("--maildir", flags->maildir, "Maildir to store messages in (new/)")
        ->capture_default_str();
    cmd->add_option("--tls-cert", flags->tls_cert,
                    "Certificate chain (PEM) for STARTTLS; default: a generated one, written to "
                    "MAILDIR/capture-cert.pem for clients to trust");
    cmd->add_option("--tls-key", flags->tls_key, "Private key (PEM) of --tls-cert");
    cmd->add_option("--max-size", flags->max_size, "Largest message accepted, in octets (SIZE)")
        ->capture_default_str();
    cmd->add_flag("--once", flags->once,
                  "Exit after the first connection that delivered a message");
    cmd->add_flag("--allow-plaintext-auth", flags->allow_plaintext_auth,
                  "Offer AUTH before STARTTLS too (by default only over TLS)");
    cmd->callback([flags, &status] {
        try {
            status = run_capture(*flags);
        } catch (const std::exception& e) {
            std::cerr << "missive capture: " << e.what() << '\n';
            status = exit_config;
        }
    });
}

}  // namespace missive::cli
