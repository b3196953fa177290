#include "client/engine.hpp"

#include <missive/sasl/mechanisms.hpp>

#include "client/local_name.hpp"

#include <cerrno>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <utility>
#include <variant>

namespace missive::client::detail {

namespace {

// The most one write hands the stream: a server that stops reading is noticed within one
// data_block_timeout, however large the message or the BDAT chunk.
constexpr std::size_t write_slice = std::size_t{64} * 1024;

std::string describe(std::chrono::milliseconds d) {
    return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + " s"
                                 : std::to_string(d.count()) + " ms";
}

using net::TlsMode;

std::string_view mode_name(TlsMode mode) {
    switch (mode) {
        case TlsMode::opportunistic:
            return "opportunistic";
        case TlsMode::starttls_required:
            return "required";
        case TlsMode::starttls_always:
            return "always";
        case TlsMode::implicit:
            return "implicit";
        case TlsMode::none_insecure:
            return "none";
    }
    return "?";
}

// One precedence for the TLS mode: what the caller set explicitly wins over the scheme's
// default, but a scheme that names a stronger mode (smtps://, submission://) is a promise the
// caller made too, so a mode that breaks it is a contradiction, never a silent choice.
TlsMode effective_tls(const std::optional<TlsMode>& explicit_mode, const net::Url& url) {
    if (!explicit_mode) {
        return url.tls;
    }
    const TlsMode mode = *explicit_mode;
    bool fits = true;
    if (url.tls == TlsMode::implicit) {
        fits = mode == TlsMode::implicit;
    } else if (url.tls == TlsMode::starttls_required || url.tls == TlsMode::starttls_always) {
        fits = mode == TlsMode::starttls_required || mode == TlsMode::starttls_always;
    }
    if (!fits) {
        throw Error(errc::config, "TLS mode '" + std::string(mode_name(mode)) + "' contradicts " +
                                      url.scheme + ":// (TLS " + std::string(mode_name(url.tls)) +
                                      "): drop one of them, or use smtp:// with the TLS mode");
    }
    return mode;
}

}  // namespace

Engine::Engine(Options options)
    : base_(std::move(options))
    , opts_(base_)
    , session_(session_options()) {}

smtp::SessionOptions Engine::session_options() {
    smtp::SessionOptions so;
    so.protocol = opts_.protocol;
    so.limits = opts_.limits;
    so.use_pipelining = opts_.pipelining;
    so.use_chunking = opts_.chunking;
    so.chunk_size = opts_.chunk_size;
    so.trace = opts_.trace;
    so.on_reply = [this](const smtp::Reply& r) {
        reply_deadline_.reset();  // the next reply gets a full timeout of its own
        notify({EventKind::reply, peer_, 0, &r});
    };
    return so;
}

void Engine::notify(const Event& e) const noexcept {
    if (opts_.observer) {
        try {
            opts_.observer(e);
        } catch (...) {  // NOLINT(bugprone-empty-catch): documented in Observer
        }
    }
}

void Engine::set_deadline(std::optional<net::Deadline> deadline) {
    base_.deadline = deadline;
    opts_.deadline = deadline;
}

// ---- deadlines (RFC 5321 4.5.3.2) ----------------------------------------------------------

// The deadline `limit` from now, capped by Options::deadline; remembers which it was.
net::Deadline Engine::from_now(std::chrono::milliseconds limit, const char* name) {
    const net::Deadline d = net::Clock::now() + limit;
    if (opts_.deadline && *opts_.deadline < d) {
        limit_text_ = "the deadline (Options::deadline)";
        return *opts_.deadline;
    }
    limit_text_ = describe(limit) + " (" + name + ")";
    return d;
}

bool Engine::in_data() const {
    const smtp::Phase phase = session_.phase();
    return phase == smtp::Phase::data_body || phase == smtp::Phase::data_end;
}

// A write: each one must make its progress within its own limit (RFC 5321 4.5.3.2.5).
net::Deadline Engine::write_deadline() {
    return in_data() ? from_now(opts_.data_block_timeout, "data_block_timeout")
                     : from_now(opts_.command_timeout, "command_timeout");
}

// A wait for a reply: the limit of the reply awaited, from the moment the wait started.
net::Deadline Engine::read_deadline() {
    if (!reply_deadline_) {
        switch (session_.phase()) {
            case smtp::Phase::data_end:
                reply_deadline_ = from_now(opts_.final_reply_timeout, "final_reply_timeout");
                break;
            case smtp::Phase::data_body:  // a BDAT chunk's reply
                reply_deadline_ = from_now(opts_.data_block_timeout, "data_block_timeout");
                break;
            default:
                reply_deadline_ = from_now(opts_.command_timeout, "command_timeout");
                break;
        }
    }
    return *reply_deadline_;
}

// ---- starting operations -------------------------------------------------------------------

void Engine::require_open() const {
    if (const Error* e = session_.error()) {
        throw Error(errc::invalid_input,
                    std::string("not connected: the connection was closed after: ") + e->what());
    }
    if (!open_) {
        throw Error(errc::invalid_input, "not connected: call connect() first");
    }
}

void Engine::begin(After after) {
    after_ = after;
    stage_ = Stage::session;
}

// Starts the caller's operation, after EHLO when none was said yet (as Go's net/smtp). A local
// mistake found by `start` (CR/LF in an argument, a message that cannot be written) throws
// before anything is sent; found after the EHLO, it is the operation's error.
void Engine::after_hello(std::function<void()> start, After after) {
    require_open();
    error_ = nullptr;
    keep_result_ = false;
    body_.reset();
    if (hello_done_) {
        start();
        begin(after);
        return;
    }
    then_ = std::move(start);
    then_after_ = after;
    start_hello({}, After::hello_first);
}

// RFC 5321 4.1.4: the client's fully qualified domain name, or else an address literal.
std::string Engine::default_local_name() const {
    const std::string& fqdn = system_fqdn();
    if (!fqdn.empty()) {
        return fqdn;
    }
    return local_literal_.empty() ? std::string("[127.0.0.1]") : local_literal_;
}

void Engine::start_hello(std::string_view name, After after) {
    if (name.empty()) {
        if (opts_.local_name.empty()) {
            opts_.local_name = default_local_name();
        }
        name = opts_.local_name;
    }
    session_.hello(name);
    begin(after);
}

void Engine::open(Options effective, TlsMode mode, std::string_view host, std::uint16_t port,
                  std::string_view path) {
    opts_ = std::move(effective);
    tls_mode_ = mode;
    session_ = smtp::Session(session_options());
    error_ = nullptr;
    hello_done_ = false;
    reply_deadline_.reset();
    local_direct_ = false;
    proxy_.reset();
    body_.reset();
    host_ = std::string(host);
    port_ = port;
    path_ = std::string(path);
    target_ = path_.empty() ? host_ + ":" + std::to_string(port) : "unix:" + path_;
    if (opts_.proxy && !path_.empty()) {
        throw Error(errc::config, "a proxy cannot reach a Unix-domain socket (" + target_ + ")");
    }
    if (opts_.proxy) {
        target_ += " via " + opts_.proxy->redacted();
    }
    if (!path_.empty()) {
        // A Unix-domain socket never leaves the machine: opportunistic STARTTLS over it would
        // protect nothing, and there is no host name for a certificate to carry. TLS asked for
        // explicitly needs the name the certificate must carry.
        if (tls_mode_ == TlsMode::opportunistic) {
            tls_mode_ = TlsMode::none_insecure;
        } else if (tls_mode_ != TlsMode::none_insecure && opts_.tls_options.peer_name.empty()) {
            throw Error(errc::config, "TLS over the Unix socket " + path_ +
                                          " needs the name the server's certificate carries "
                                          "(TlsOptions::peer_name, or peer=NAME in the URL)");
        }
    }
    peer_ = target_;
    notify({EventKind::connecting, path_.empty() ? host_ + ":" + std::to_string(port) : target_, 0,
            nullptr});
    connect_deadline_ = from_now(opts_.connect_timeout, "connect_timeout");
    // A connection held before is closed first.
    after_close_ = Stage::connecting;
    stage_ = Stage::closing;
}

void Engine::connect(std::string_view host, std::uint16_t port) {
    open(base_, base_.tls.value_or(TlsMode::opportunistic), host, port, {});
}

void Engine::adopt(std::string_view server_name, Peer peer) {
    open(base_, base_.tls.value_or(TlsMode::opportunistic), server_name, 0, {});
    if (opts_.proxy) {
        throw Error(errc::config, "a connection of the caller's cannot go through a proxy");
    }
    target_ = peer.address.empty() ? std::string(server_name) : peer.address;
    stage_ = Stage::idle;
    after_close_ = Stage::idle;
    connected(std::move(peer));
}

void Engine::connected(Peer peer) {
    open_ = true;
    local_literal_ = std::move(peer.local_literal);
    if (opts_.proxy) {
        // The proxy's address says nothing of the mail server's: never "local".
        proxy_.emplace(*opts_.proxy, host_, port_);
        stage_ = Stage::tunnel;
        return;
    }
    peer_ = peer.address.empty() ? target_ : peer.address;
    local_direct_ = peer.local;
    tunnel_open();
}

void Engine::tunnel_open() {
    proxy_.reset();
    notify({EventKind::connected, peer_, 0, nullptr});
    if (tls_mode_ == TlsMode::implicit) {
        stage_ = Stage::implicit_tls;
        return;
    }
    session_.expect_greeting();
    begin(After::greeting);
}

void Engine::hello(std::string_view name) {
    require_open();
    error_ = nullptr;
    start_hello(name, After::hello_op);
}

void Engine::ensure_hello() {
    after_hello([] {});
}

// ---- AUTH ----------------------------------------------------------------------------------

// Credentials go in clear text only when the caller allows it, or over a direct connection
// to a loopback address or a Unix socket: decided on the address connected to, never on a
// name (a name like "127.0.0.1.example.net", a TLS peer name or a proxy could lie).
bool Engine::plaintext_ok() const {
    return session_.secure() || opts_.allow_plaintext_auth || local_direct_;
}

void Engine::start_auth(sasl::Mechanism* given) {
    if (!plaintext_ok()) {
        throw Error(errc::auth_unavailable,
                    "refusing to send credentials to " + peer_ +
                        " without TLS (set allow_plaintext_auth to allow it)");
    }
    if (given == nullptr) {
        if (!opts_.credentials) {
            throw Error(errc::config, "no credentials to authenticate with");
        }
        const auto& offered = session_.capabilities().auth_mechanisms();
        mechanism_ = sasl::choose(offered, *opts_.credentials, opts_.auth_mechanisms, host_, port_);
        if (!mechanism_) {
            std::string list;
            for (const auto& m : offered) {
                list += (list.empty() ? "" : " ") + m;
            }
            throw Error(errc::auth_unavailable,
                        peer_ + " offers no usable authentication mechanism (it offers: " +
                            (list.empty() ? std::string("none") : list) + ")");
        }
        given = mechanism_.get();
    }
    session_.authenticate(*given);
}

void Engine::authenticate(sasl::Mechanism* mechanism) {
    require_open();
    error_ = nullptr;
    start_auth(mechanism);
    begin(After::op);
}

void Engine::auth_or_done() {
    if (!opts_.credentials) {
        stage_ = Stage::idle;
        return;
    }
    try {
        start_auth(nullptr);
        begin(After::auth);
    } catch (...) {
        fail(std::current_exception(), false);
    }
}

// STARTTLS as the TLS mode says (RFC 3207), then EHLO again: what the server said before
// TLS is forgotten. RFC 3207 4: when TLS is required, nothing but EHLO and STARTTLS goes in
// clear text; a missing STARTTLS or a refusal ends the attempt with QUIT.
void Engine::secure() {
    const TlsMode mode = tls_mode_;
    if (mode == TlsMode::implicit || mode == TlsMode::none_insecure) {
        auth_or_done();
        return;
    }
    const bool offered = session_.capabilities().starttls();
    if (!offered && mode == TlsMode::opportunistic) {
        auth_or_done();
        return;
    }
    if (!offered && mode == TlsMode::starttls_required) {
        bail(Error(errc::starttls_unavailable,
                   peer_ + " does not offer STARTTLS, and TLS is required"));
        return;
    }
    session_.starttls();
    begin(After::starttls);
}

// ---- messages and commands -----------------------------------------------------------------

void Engine::send(const smtp::Envelope& envelope, std::string_view message) {
    after_hello([this, &envelope, message] {
        envelope_ = envelope;
        body_ = outgoing_text(message, opts_, session_.capabilities(), envelope_);
        session_.send(envelope_);
        keep_result_ = true;
    });
}

void Engine::send(const smtp::Envelope& envelope, std::istream& message) {
    after_hello([this, &envelope, &message] {
        envelope_ = envelope;
        body_ = outgoing_stream(message, opts_, session_.capabilities(), envelope_);
        session_.send(envelope_);
        keep_result_ = true;
    });
}

void Engine::send(const smtp::Envelope& envelope, const mime::Message& message) {
    after_hello([this, &envelope, &message] {
        envelope_ = envelope;
        body_ = outgoing_message(message, opts_, session_.capabilities(), envelope_);
        session_.send(envelope_);
        keep_result_ = true;
    });
}

void Engine::send(const Letter& letter) {
    after_hello([this, &letter] {
        start_letter(letter, letter.envelope);
        keep_result_ = true;
    });
}

// Prepares `letter` for `envelope` (its own, or a group of its recipients) and starts its
// transaction; a letter that cannot go (a file that cannot be opened, 8-bit data for a 7-bit
// server, CR/LF in an address) throws before anything is queued.
void Engine::start_letter(const Letter& letter, smtp::Envelope envelope) {
    envelope_ = std::move(envelope);
    if (const auto* text = std::get_if<std::string>(&letter.content)) {
        body_ = outgoing_text(*text, opts_, session_.capabilities(), envelope_);
    } else if (const auto* message = std::get_if<mime::Message>(&letter.content)) {
        body_ = outgoing_message(*message, opts_, session_.capabilities(), envelope_);
    } else if (const auto* source = std::get_if<Letter::MessageSource>(&letter.content)) {
        std::unique_ptr<std::istream> stream = *source ? (*source)() : nullptr;
        if (!stream || !*stream) {
            throw Error(errc::invalid_input, "the letter's message source gave no stream");
        }
        file_ = std::move(stream);
        body_ = outgoing_stream(*file_, opts_, session_.capabilities(), envelope_);
    } else {
        const auto& path = std::get<std::filesystem::path>(letter.content);
        auto file = std::make_unique<std::ifstream>(path, std::ios::binary);
        if (!*file) {
            throw Error(errc::invalid_input, "cannot open the message file " + path.string() +
                                                 ": " + std::generic_category().message(errno));
        }
        file_ = std::move(file);
        body_ = outgoing_stream(*file_, opts_, session_.capabilities(), envelope_);
    }
    session_.send(envelope_);
}

void Engine::send_all(std::span<const Letter> letters, std::function<void(Outcome)> on_outcome) {
    after_hello(
        [this, letters, report = std::move(on_outcome)]() mutable {
            batch_.emplace(letters, std::move(report));
            letter_.reset();
            prior_letter_.reset();
            batch_start();
        },
        After::batch);
}

// Starts the next transaction of the batch; a letter that cannot go gets its outcome at once.
// @return false when there is none left to start
bool Engine::batch_start() {
    for (;;) {
        auto n = batch_->next(session_.capabilities().rcpt_max());
        if (!n) {
            return false;
        }
        try {
            start_letter(*n->letter, std::move(n->envelope));
            letter_ = n->job;
            return true;
        } catch (const Error& e) {
            body_.reset();
            batch_->ended(n->job, {}, e);
        }
    }
}

// RFC 2920 3.1: the end of one message's data opens the next pipelined group.
void Engine::batch_chain() {
    const std::optional<std::size_t> current = letter_;
    if (batch_start()) {
        prior_letter_ = current;
    }
}

// The verdict on the transaction before the current one arrived.
void Engine::batch_settled() {
    while (auto settled = session_.take_settled()) {
        if (prior_letter_) {
            batch_->ended(*std::exchange(prior_letter_, std::nullopt), std::move(settled->result),
                          settled->error);
        }
    }
}

// A transaction of the batch is over (or the session failed): its letter hears of it, then the
// next one starts, or the batch ends.
void Engine::batch_step_done() {
    batch_settled();
    std::optional<Error> error = session_.take_error();
    if (letter_) {
        batch_->ended(*std::exchange(letter_, std::nullopt),
                      error && error->report() ? *error->report() : session_.result(), error);
    }
    if (session_.want() == smtp::Want::closed) {
        const Error* fatal = session_.error();
        batch_abandon(fatal != nullptr ? std::optional<Error>(*fatal) : error);
        after_close_ = Stage::idle;
        stage_ = Stage::closing;
        return;
    }
    if (const std::exception_ptr thrown = batch_->callback_error()) {
        batch_.reset();
        fail(thrown, true);
        return;
    }
    if (batch_start()) {
        begin(After::batch);
        return;
    }
    batch_.reset();
    stage_ = Stage::idle;
}

// The connection failed: every letter not yet reported hears of it.
void Engine::batch_abandon(const std::optional<Error>& cause) {
    batch_->abandon(cause);
    const std::exception_ptr thrown = batch_->callback_error();
    batch_.reset();
    letter_.reset();
    prior_letter_.reset();
    body_.reset();
    if (thrown) {
        error_ = thrown;
    }
}

void Engine::mail(std::string_view from, const smtp::MailParams& params) {
    after_hello([this, from, &params] { session_.mail(from, params); });
}

void Engine::rcpt(std::string_view to, const smtp::RcptParams& params) {
    after_hello([this, to, &params] { session_.rcpt(to, params); });
}

void Engine::data() {
    after_hello([this] { session_.data(); });
}

void Engine::write_body(std::string_view bytes) {
    require_open();
    error_ = nullptr;
    session_.write_body(bytes);
    begin(After::op);
}

void Engine::end_body() {
    require_open();
    error_ = nullptr;
    session_.end_body();
    keep_result_ = true;
    begin(After::op);
}

void Engine::noop() {
    after_hello([this] { session_.noop(); });
}

void Engine::reset() {
    after_hello([this] { session_.reset(); });
}

void Engine::verify(std::string_view address) {
    after_hello([this, address] { session_.verify(address); });
}

void Engine::expand(std::string_view list) {
    after_hello([this, list] { session_.expand(list); });
}

void Engine::help(std::string_view topic) {
    after_hello([this, topic] { session_.help(topic); });
}

void Engine::command(std::string_view line, std::string_view redacted_trace) {
    require_open();
    error_ = nullptr;
    keep_result_ = false;
    session_.command(line, redacted_trace);
    begin(After::op);
}

void Engine::quit() {
    error_ = nullptr;
    if (!open_) {
        stage_ = Stage::idle;
        return;
    }
    if (session_.want() != smtp::Want::idle) {
        after_close_ = Stage::idle;
        stage_ = Stage::closing;
        return;
    }
    session_.quit();
    begin(After::quit);
}

// ---- the loop ------------------------------------------------------------------------------

Need Engine::next() {
    for (;;) {
        switch (stage_) {
            case Stage::idle:
                return {.io = Io::done};
            case Stage::closing:
                if (open_) {
                    return {.io = Io::close};
                }
                stage_ = std::exchange(after_close_, Stage::idle);
                continue;
            case Stage::connecting: {
                Need n{.io = Io::connect, .deadline = connect_deadline_};
                if (opts_.proxy) {
                    n.host = opts_.proxy->host;
                    n.port = opts_.proxy->port;
                } else if (!path_.empty()) {
                    n.path = path_;
                } else {
                    n.host = host_;
                    n.port = port_;
                }
                return n;
            }
            case Stage::tunnel:
                if (proxy_->done()) {
                    tunnel_open();
                    continue;
                }
                if (const std::string_view out = proxy_->output(); !out.empty()) {
                    return {.io = Io::write, .deadline = connect_deadline_, .bytes = out};
                }
                return {.io = Io::read,
                        .deadline = connect_deadline_,
                        .read_max = proxy_->input_wanted()};
            case Stage::implicit_tls:
                return handshake_need();
            case Stage::quitting:
                if (session_.want() == smtp::Want::output) {
                    return {
                        .io = Io::write, .deadline = write_deadline(), .bytes = session_.output()};
                }
                after_close_ = Stage::idle;
                stage_ = Stage::closing;
                continue;
            case Stage::session:
                if (batch_ && session_.can_send_next()) {
                    batch_chain();
                }
                switch (session_.want()) {
                    case smtp::Want::output:
                        // Message data joins what is waiting, up to one write's worth, so that a
                        // small message and the commands around it leave in one write.
                        if (body_ && session_.accepts_body() &&
                            session_.output().size() < write_slice) {
                            pull_body();
                            continue;
                        }
                        return {.io = Io::write,
                                .deadline = write_deadline(),
                                .bytes = session_.output().substr(0, write_slice)};
                    case smtp::Want::input:
                        return {.io = Io::read, .deadline = read_deadline()};
                    case smtp::Want::tls_handshake:
                        return handshake_need();
                    case smtp::Want::body:
                        if (!body_) {
                            stage_ = Stage::idle;  // data(): the caller writes the body
                            continue;
                        }
                        pull_body();
                        continue;
                    case smtp::Want::idle:
                    case smtp::Want::closed:
                        step_done();
                        continue;
                }
        }
    }
}

// The next piece of the message into the session, or its end.
void Engine::pull_body() {
    std::string_view piece;
    try {
        piece = body_->next();
    } catch (const std::exception& e) {
        abandon_body(e);
        return;
    }
    if (piece.empty()) {
        body_.reset();
        session_.end_body();
    } else {
        session_.write_body(piece);
    }
}

// A TLS handshake against the name the certificate must carry, with the context for these
// settings (made once per process, trust store loaded once, holding the sessions resumed on
// reconnection).
Need Engine::handshake_need() {
    tls_name_ = opts_.tls_options.peer_name.empty() ? host_ : opts_.tls_options.peer_name;
    return {.io = Io::handshake,
            .deadline = from_now(opts_.command_timeout, "command_timeout"),
            .tls = net::TlsContext::shared(opts_.tls_options),
            .tls_name = tls_name_};
}

void Engine::wrote(std::size_t n) {
    if (stage_ == Stage::tunnel) {
        proxy_->consume_output(n);
        return;
    }
    reply_deadline_.reset();
    notify({EventKind::bytes_sent, peer_, n, nullptr});
    session_.consume_output(n);
}

void Engine::received(std::string_view bytes) {
    if (stage_ == Stage::tunnel) {
        try {
            if (bytes.empty()) {
                proxy_->receive_eof();
            }
            proxy_->receive(bytes);
        } catch (...) {
            fail(std::current_exception(), true);
        }
        return;
    }
    if (bytes.empty()) {
        session_.receive_eof();
        return;
    }
    notify({EventKind::bytes_received, peer_, bytes.size(), nullptr});
    session_.receive(bytes);
    if (batch_) {
        batch_settled();
    }
}

void Engine::handshake_done() {
    notify({EventKind::tls_established, peer_, 0, nullptr});
    if (stage_ == Stage::implicit_tls) {
        session_.expect_greeting();
        begin(After::greeting);
        return;
    }
    session_.tls_established();
}

void Engine::failed(const Error& error) {
    switch (stage_) {
        case Stage::connecting:
        case Stage::tunnel:
        case Stage::implicit_tls: {
            // Nothing of SMTP happened yet: the error is the connect's own.
            const char* doing =
                stage_ == Stage::implicit_tls ? "in the TLS handshake with" : "connecting to";
            if (error.kind() == errc::timeout) {
                fail(std::make_exception_ptr(Error(errc::timeout, "timed out after " + limit_text_ +
                                                                      " " + doing + " " + target_)),
                     true);
            } else {
                fail(std::make_exception_ptr(error), true);
            }
            return;
        }
        case Stage::session:
            // The session turns it into the operation's error (or outcome_unknown).
            if (error.kind() == errc::timeout) {
                // Name the limit that was exceeded, not the remainder of the last read.
                session_.abort(errc::timeout,
                               "timed out after " + limit_text_ + " talking to " + peer_,
                               error.cause());
            } else {
                session_.abort(error.kind(), error.what(), error.cause());
            }
            return;
        case Stage::quitting:
            after_close_ = Stage::idle;
            stage_ = Stage::closing;
            return;
        case Stage::closing:
        case Stage::idle:
            open_ = false;
            return;
    }
}

void Engine::closed() noexcept {
    if (open_) {
        open_ = false;
        notify({EventKind::closed, peer_, 0, nullptr});
    }
}

void Engine::finish() {
    if (error_) {
        std::rethrow_exception(std::exchange(error_, nullptr));
    }
}

// ---- outcomes ------------------------------------------------------------------------------

void Engine::fail(std::exception_ptr error, bool close) {
    error_ = std::move(error);
    body_.reset();
    then_ = nullptr;
    after_close_ = Stage::idle;
    stage_ = close ? Stage::closing : Stage::idle;
}

// Whether the session operation that just ended succeeded; when not, records the error and
// closes an unusable connection. When it succeeded but the session failed just after (junk
// behind the reply), `keep_result` says whether the success must stand (a sent message, which
// must not look failed and be sent again) or the failure is reported now.
bool Engine::check(bool keep_result) {
    if (auto e = session_.take_error()) {
        fail(std::make_exception_ptr(*e), !e->connection_usable() || session_.failed());
        return false;
    }
    if (session_.want() == smtp::Want::closed) {
        after_close_ = Stage::idle;
        stage_ = Stage::closing;
        if (session_.failed() && !keep_result) {
            error_ = std::make_exception_ptr(*session_.error());
        }
        return false;
    }
    return true;
}

// Writes QUIT and closes without waiting for its reply: the attempt has failed already, and a
// server that does not answer must not hold the caller.
void Engine::bail(const Error& error) {
    fail(std::make_exception_ptr(error), true);
    if (open_ && session_.want() == smtp::Want::idle) {
        session_.quit();
        stage_ = Stage::quitting;
    }
}

// The body's source failed (a file or stream that cannot be read to its end): the message is
// incomplete, so the connection is closed without the end of the data, and the server
// discards what it got (RFC 5321 has no other way to abort DATA).
void Engine::abandon_body(const std::exception& e) {
    ErrorDetails d;
    d.report = session_.result();
    if (const auto* error = dynamic_cast<const Error*>(&e)) {
        d.cause = error->cause();
    }
    session_.abort(errc::invalid_input, "message not sent");
    (void)session_.take_error();
    Error error(errc::invalid_input,
                std::string(e.what()) +
                    "; the connection was closed before the end of the data, so the "
                    "partial message is not delivered",
                std::move(d));
    if (batch_) {
        // This letter fails; the one before it, if its verdict was due, is unknown now, and
        // the rest were not sent.
        batch_settled();
        if (letter_) {
            batch_->ended(*std::exchange(letter_, std::nullopt), session_.result(), error);
        }
        batch_abandon(error);
        after_close_ = Stage::idle;
        stage_ = Stage::closing;
        return;
    }
    fail(std::make_exception_ptr(error), true);
}

void Engine::step_done() {
    switch (after_) {
        case After::op:
            if (check(keep_result_)) {
                stage_ = Stage::idle;
            }
            return;
        case After::hello_op:
            if (check(false)) {
                hello_done_ = true;
                stage_ = Stage::idle;
            }
            return;
        case After::hello_first:
            if (!check(false)) {
                return;
            }
            hello_done_ = true;
            try {
                std::exchange(then_, nullptr)();
                begin(then_after_);
            } catch (...) {
                fail(std::current_exception(), false);
            }
            return;
        case After::greeting:
            if (check(false)) {
                start_hello({}, After::connect_hello);
            }
            return;
        case After::connect_hello:
            if (check(false)) {
                hello_done_ = true;
                secure();
            }
            return;
        case After::starttls:
            if (auto e = session_.take_error()) {
                if (tls_mode_ == TlsMode::opportunistic && e->connection_usable()) {
                    auth_or_done();  // RFC 3207 4.1: after a refusal the client may go on
                    return;
                }
                Error out = *e;
                if (e->reply()) {
                    ErrorDetails d;
                    d.reply = e->reply();
                    d.command = "STARTTLS";
                    out = Error(errc::starttls_unavailable,
                                std::string(e->what()) + ", and TLS is required", std::move(d));
                }
                if (e->connection_usable()) {
                    bail(out);
                } else {
                    fail(std::make_exception_ptr(out), true);
                }
                return;
            }
            if (check(false)) {
                hello_done_ = false;
                start_hello({}, After::hello_again);
            }
            return;
        case After::hello_again:
            if (check(false)) {
                hello_done_ = true;
                auth_or_done();
            }
            return;
        case After::auth:
            if (check(false)) {
                stage_ = Stage::idle;
            }
            return;
        case After::quit:
            if (auto e = session_.take_error()) {
                error_ = std::make_exception_ptr(*e);
            }
            after_close_ = Stage::idle;
            stage_ = Stage::closing;
            return;
        case After::batch:
            batch_step_done();
            return;
    }
}

void Engine::connect(const net::Url& url) {
    // Every connect starts from the options the client was made with: nothing of an earlier
    // URL (credentials, verify=no, CA, peer name, proxy) carries over to the next.
    Options o = base_;
    o.protocol = url.lmtp ? smtp::Protocol::lmtp : smtp::Protocol::smtp;
    for (const auto& [key, value] : url.query) {
        if (key == "verify") {
            if (value != "yes" && value != "no") {
                throw Error(errc::config,
                            "URL option verify must be yes or no, not '" + value + "'");
            }
            o.tls_options.insecure_skip_verify = value == "no";
        } else if (key == "ca") {
            o.tls_options.ca_file = value;
        } else if (key == "capath") {
            o.tls_options.ca_path = value;
        } else if (key == "peer") {
            o.tls_options.peer_name = value;
        } else if (key == "auth") {
            o.auth_mechanisms = {value};
        } else if (key == "proxy") {
            o.proxy = net::Proxy::parse(value);
        } else if (key == "helo") {
            o.local_name = value;
        } else if (key == "timeout") {
            unsigned seconds = 0;
            const auto [ptr, ec] =
                std::from_chars(value.data(), value.data() + value.size(), seconds);
            if (ec != std::errc{} || ptr != value.data() + value.size() || seconds == 0 ||
                seconds > 86400) {
                throw Error(errc::config,
                            "URL option timeout must be a number of seconds from 1 "
                            "to 86400, not '" +
                                value + "'");
            }
            // Every wait, as the CLI's --timeout: connect, each reply, each data write, and
            // the final reply.
            o.connect_timeout = o.command_timeout = o.data_block_timeout = o.final_reply_timeout =
                std::chrono::seconds(seconds);
        } else {
            throw Error(errc::config,
                        "unknown URL option '" + key +
                            "' (known: auth, verify, ca, capath, peer, proxy, helo, timeout)");
        }
    }
    if (!url.user.empty() || url.has_password) {
        if (url.user.empty() || !url.has_password) {
            throw Error(errc::config,
                        "URL " + url.redacted() + " needs both a user and a password to log in");
        }
        o.credentials = sasl::Credentials{url.user, url.password, {}};
    }
    const TlsMode mode = effective_tls(o.tls, url);
    open(std::move(o), mode, url.host, url.port, url.socket_path);
}

}  // namespace missive::client::detail
