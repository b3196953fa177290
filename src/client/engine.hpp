#pragma once

// The client engine (private to the library): every policy decision around an smtp::Session,
// with no I/O, so that the blocking Client and the AsyncClient are two short loops over it.
//
// Contract. The driver starts one operation (connect, hello, send …; a local mistake throws at
// once), then loops: `Need n = next()`, do what `n.io` says before `n.deadline`, report it
// (`connected`, `wrote`, `received`, `handshake_done`, `closed`, or `failed` with the I/O
// error), until `n.io` is `done`; then `finish()` throws the operation's error, if any. Every
// decision — the connect sequence, the TLS mode, the plaintext-credentials rule, the deadline
// of each wait, whether an error closes the connection, message preparation and DKIM — is
// made here, once, for every driver.

#include <missive/client/letter.hpp>
#include <missive/client/options.hpp>
#include <missive/error.hpp>
#include <missive/mime/message.hpp>
#include <missive/net/blocking_stream.hpp>
#include <missive/net/proxy.hpp>
#include <missive/net/tls.hpp>
#include <missive/net/url.hpp>
#include <missive/smtp/session.hpp>

#include "client/batch.hpp"
#include "client/outgoing.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace missive::client::detail {

/** What the driver must do next. */
enum class Io {
    connect,    ///< connect to `host`:`port`, or to the Unix socket `path`; then `connected`
    write,      ///< write all of `bytes`; then `wrote(bytes.size())`
    read,       ///< read at most `read_max` bytes (0: any amount); then `received` ("" = end)
    handshake,  ///< TLS client handshake with `tls`, checking `tls_name`; then `handshake_done`
    close,      ///< close the connection; then `closed`
    done,       ///< the operation is over: call `finish`
};

/** One step for the driver; the views stay valid until the next call into the engine. */
struct Need {
    Io io = Io::done;
    net::Deadline deadline{};
    std::string_view bytes{};
    std::size_t read_max = 0;
    std::string_view host{};
    std::uint16_t port = 0;
    std::string_view path{};
    std::shared_ptr<net::TlsContext> tls{};
    std::string_view tls_name{};
};

/** What the driver knows of the connection it made (or was given). */
struct Peer {
    std::string address{};        ///< "192.0.2.1:25", "[::1]:25", "unix:/run/dovecot/lmtp"
    bool local = false;           ///< loopback address or Unix socket, as the kernel says
    std::string local_literal{};  ///< this end as an address literal; "" when unknown
};

class Engine {
public:
    explicit Engine(Options options);

    // ---- operations ------------------------------------------------------------------------
    void connect(const net::Url& url);
    void connect(std::string_view host, std::uint16_t port);
    /** The driver already holds a connection to `server_name` (bring your own connection):
     * greeting, EHLO, TLS as Options::tls says (opportunistic when unset), AUTH. */
    void adopt(std::string_view server_name, Peer peer);
    void hello(std::string_view name);
    void ensure_hello();
    void authenticate(sasl::Mechanism* mechanism);
    void send(const smtp::Envelope& envelope, std::string_view message);
    void send(const smtp::Envelope& envelope, std::istream& message);
    void send(const smtp::Envelope& envelope, const mime::Message& message);
    /** A letter in any of its forms; a file is opened here (errc::invalid_input when it
     * cannot be) and read as it goes. */
    void send(const Letter& letter);
    /** Every letter, one transaction after another, the next started as soon as the data of the
     * last has ended (one round trip per message); `on_outcome` hears of each once. Ends with
     * no error when the connection fails: the letters get theirs. */
    void send_all(std::span<const Letter> letters, std::function<void(Outcome)> on_outcome);
    void mail(std::string_view from, const smtp::MailParams& params);
    void rcpt(std::string_view to, const smtp::RcptParams& params);
    void data();
    void write_body(std::string_view bytes);
    void end_body();
    void noop();
    void reset();
    void verify(std::string_view address);
    void expand(std::string_view list);
    void help(std::string_view topic);
    void command(std::string_view line, std::string_view redacted_trace);
    void quit();

    // ---- driving ---------------------------------------------------------------------------
    Need next();
    void connected(Peer peer);
    void wrote(std::size_t n);
    void received(std::string_view bytes);
    void handshake_done();
    /** The I/O of the last Need failed (connect_failed, connection_lost, timeout, cancelled,
     * tls, certificate …); the engine decides what it means. */
    void failed(const Error& error);
    /** The connection was closed (after Io::close, or by the caller); never throws. */
    void closed() noexcept;
    /** Throws the error of the operation that just ended. */
    void finish();

    // ---- state -----------------------------------------------------------------------------
    [[nodiscard]] const smtp::Session& session() const { return session_; }

    [[nodiscard]] const Options& options() const { return opts_; }

    [[nodiscard]] bool connected() const { return open_; }

    [[nodiscard]] bool usable() const { return open_ && !session_.failed(); }

    void set_deadline(std::optional<net::Deadline> deadline);

private:
    enum class Stage { idle, closing, connecting, tunnel, implicit_tls, session, quitting };
    // What finishing the current session operation leads to.
    enum class After {
        op,           // the caller's operation is over
        hello_op,     // the caller's hello
        hello_first,  // the EHLO said before the caller's operation (`then_`)
        greeting,     // connect: greeting, then EHLO
        connect_hello,
        starttls,
        hello_again,  // EHLO after STARTTLS
        auth,
        quit,
        batch,  // a transaction of send_all
    };

    smtp::SessionOptions session_options();
    void notify(const Event& e) const noexcept;
    net::Deadline from_now(std::chrono::milliseconds limit, const char* name);
    net::Deadline write_deadline();
    net::Deadline read_deadline();
    [[nodiscard]] bool in_data() const;
    void require_open() const;
    void begin(After after);
    void after_hello(std::function<void()> start, After after = After::op);
    void open(Options effective, net::TlsMode mode, std::string_view host, std::uint16_t port,
              std::string_view path);
    void tunnel_open();
    void start_hello(std::string_view name, After after);
    void start_auth(sasl::Mechanism* given);
    void auth_or_done();
    void secure();
    void step_done();
    void pull_body();
    bool batch_start();
    void batch_chain();
    void batch_settled();
    void batch_step_done();
    void batch_abandon(const std::optional<Error>& cause);
    void start_letter(const Letter& letter, smtp::Envelope envelope);
    bool check(bool keep_result);
    void fail(std::exception_ptr error, bool close);
    void bail(const Error& error);
    void abandon_body(const std::exception& e);
    Need handshake_need();
    [[nodiscard]] std::string default_local_name() const;
    [[nodiscard]] bool plaintext_ok() const;

    Options base_;  // as the client was made: every connect starts from these
    Options opts_;  // what the current connection uses: base_ with a URL's settings
    net::TlsMode tls_mode_ = net::TlsMode::opportunistic;
    smtp::Session session_;

    Stage stage_ = Stage::idle;
    Stage after_close_ = Stage::idle;
    After after_ = After::op;
    After then_after_ = After::op;
    std::function<void()> then_;
    bool keep_result_ = false;
    std::exception_ptr error_;

    bool open_ = false;
    bool hello_done_ = false;
    std::string host_;  // as given to connect(): the name TLS checks by default
    std::uint16_t port_ = 0;
    std::string path_;    // a Unix-domain socket
    std::string target_;  // "host:port" (and the proxy) for messages before there is a peer
    std::string peer_;
    bool local_direct_ = false;  // direct connection to loopback / a Unix socket
    std::string local_literal_;
    std::optional<net::ProxyHandshake> proxy_;
    net::Deadline connect_deadline_{};
    // Set when a wait for a reply starts, cleared by each reply and each write: a server that
    // dribbles a reply byte by byte still runs into it.
    std::optional<net::Deadline> reply_deadline_;
    std::string limit_text_;  // which limit the last deadline came from
    std::string tls_name_;

    smtp::Envelope envelope_;
    std::unique_ptr<Outgoing> body_;
    std::unique_ptr<std::istream> file_;       // a Letter's file, while it is sent
    std::optional<Batch> batch_;               // during send_all
    std::optional<std::size_t> letter_;        // the letter of the session's transaction
    std::optional<std::size_t> prior_letter_;  // the letter whose verdict is still due
    std::unique_ptr<sasl::Mechanism> mechanism_;
};

}  // namespace missive::client::detail
