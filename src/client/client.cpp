#include <missive/client/client.hpp>
#include <missive/client/prepare.hpp>
#include <missive/dkim/signer.hpp>
#include <missive/mime/address.hpp>
#include <missive/mime/serializer.hpp>
#include <missive/net/blocking_stream.hpp>
#include <missive/net/proxy.hpp>
#include <missive/sasl/mechanisms.hpp>

#include "util/text.hpp"

#include <netdb.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <istream>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <streambuf>
#include <system_error>
#include <thread>
#include <utility>

namespace missive::client {

namespace {

constexpr std::size_t read_size = std::size_t{16} * 1024;
constexpr std::size_t piece_size = std::size_t{64} * 1024;
// The most one write hands the stream: a server that stops reading is noticed within one
// data_block_timeout, however large the message or the BDAT chunk.
constexpr std::size_t write_slice = std::size_t{64} * 1024;

std::string describe(std::chrono::milliseconds d) {
    return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + " s"
                                 : std::to_string(d.count()) + " ms";
}

// RFC 5321 2.3.5: letters, digits and hyphens in labels separated by dots.
bool is_domain(std::string_view name) {
    if (name.empty() || name.size() > 253 || name.front() == '.' || name.back() == '.' ||
        name.find("..") != std::string_view::npos) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.';
    });
}

// This machine's fully qualified name, looked up once per process: the host name when it has a
// dot, else the canonical name the resolver gives for it (/etc/hosts, usually). The lookup gets
// two seconds; a resolver that hangs leaves it empty rather than holding every connection.
// "" when there is none (the caller then uses an address literal, RFC 5321 4.1.4).
const std::string& system_fqdn() {
    static const std::string fqdn = [] {
        std::array<char, 256> buf{};
        if (::gethostname(buf.data(), buf.size() - 1) != 0 || buf[0] == '\0') {
            return std::string();
        }
        std::string host = buf.data();
        auto usable = [](const std::string& n) {
            return n.find('.') != std::string::npos && is_domain(n) &&
                   util::ascii_lower(n).rfind("localhost", 0) != 0;
        };
        if (usable(host)) {
            return host;
        }
        struct Shared {
            std::mutex mutex;
            std::condition_variable cv;
            bool done = false;
            std::string name;
        };
        auto shared = std::make_shared<Shared>();
        try {
            std::thread([shared, host] {
                addrinfo hints{};
                hints.ai_flags = AI_CANONNAME;
                addrinfo* found = nullptr;
                std::string name;
                if (::getaddrinfo(host.c_str(), nullptr, &hints, &found) == 0) {
                    if (found != nullptr && found->ai_canonname != nullptr) {
                        name = found->ai_canonname;
                    }
                    ::freeaddrinfo(found);
                }
                const std::lock_guard lock(shared->mutex);
                shared->name = std::move(name);
                shared->done = true;
                shared->cv.notify_all();
            }).detach();
        } catch (const std::system_error&) {
            return std::string();
        }
        std::unique_lock lock(shared->mutex);
        if (!shared->cv.wait_for(lock, std::chrono::seconds(2), [&] { return shared->done; })) {
            return std::string();
        }
        return usable(shared->name) ? shared->name : std::string();
    }();
    return fqdn;
}

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

// The DKIM fields, then a message held in memory, in pieces.
class Pieces {
public:
    Pieces(std::string_view fields, std::string_view message)
        : fields_(fields)
        , message_(message) {}

    std::string_view next() {
        if (!fields_.empty()) {
            return std::exchange(fields_, {});
        }
        const std::string_view piece = message_.substr(0, piece_size);
        message_.remove_prefix(piece.size());
        return piece;
    }

private:
    std::string_view fields_;
    std::string_view message_;
};

// Reads a FILE* as a stream buffer.
class FileBuf : public std::streambuf {
public:
    void open_fd(std::FILE* file) { file_ = file; }

protected:
    int_type underflow() override {
        const std::size_t n = std::fread(buffer_.data(), 1, buffer_.size(), file_);
        if (n == 0) {
            if (std::ferror(file_) != 0) {
                throw std::runtime_error("the temporary file of the message cannot be read");
            }
            return traits_type::eof();
        }
        setg(buffer_.data(), buffer_.data(), buffer_.data() + n);
        return traits_type::to_int_type(buffer_[0]);
    }

private:
    std::FILE* file_ = nullptr;
    std::array<char, 65536> buffer_{};
};

// A message that cannot be read twice, kept in an unnamed temporary file (gone when closed,
// even after a crash) between the DKIM hashing pass and the sending pass: memory stays bounded.
class Spool {
public:
    void open() {
        file_.reset(std::tmpfile());
        if (!file_) {
            throw Error(errc::invalid_input, "cannot make a temporary file to sign the message: " +
                                                 std::generic_category().message(errno));
        }
        buf_.emplace();
        buf_->open_fd(file_.get());
    }

    void write(std::string_view bytes) {
        if (std::fwrite(bytes.data(), 1, bytes.size(), file_.get()) != bytes.size()) {
            throw Error(errc::invalid_input,
                        "cannot keep the message in a temporary file to sign "
                        "it: " +
                            std::generic_category().message(errno));
        }
    }

    std::istream& rewind() {
        if (std::fflush(file_.get()) != 0 || std::fseek(file_.get(), 0, SEEK_SET) != 0) {
            throw Error(errc::invalid_input, "cannot read back the temporary file of the message");
        }
        stream_.emplace(&*buf_);
        return *stream_;
    }

private:
    struct Close {
        void operator()(std::FILE* f) const noexcept { (void)std::fclose(f); }
    };

    std::unique_ptr<std::FILE, Close> file_;
    std::optional<FileBuf> buf_;
    std::optional<std::istream> stream_;
};

std::vector<dkim::Canonicalization> canonicalizations(const std::vector<dkim::Signer>& signers) {
    std::vector<dkim::Canonicalization> out;
    out.reserve(signers.size());
    for (const dkim::Signer& s : signers) {
        out.push_back(s.body_canonicalization());
    }
    return out;
}

}  // namespace

struct Client::Impl {
    // As the client was made (plus its session cache): every connect starts from these.
    Options base;
    // What the current connection uses: `base` with the URL's settings applied.
    Options opts;
    TlsMode tls_mode = TlsMode::opportunistic;
    smtp::Session session;
    net::BlockingStream stream;
    std::string host;  // as given to connect(): the name TLS checks by default
    std::uint16_t port = 0;
    std::string peer;
    // A direct connection (no proxy) to a loopback address: credentials may go in clear text.
    bool loopback_direct = false;
    // Set when a wait for a reply starts, cleared by each reply and each write: a server that
    // dribbles a reply byte by byte still runs into it (each read does not restart the clock).
    std::optional<net::Deadline> reply_deadline;
    // Which limit the last deadline came from, for the timeout's message.
    std::string limit_text;
    std::array<char, read_size> buffer{};
    bool hello_done = false;

    explicit Impl(Options o)
        : base(std::move(o))
        , opts(base)
        , session(session_options()) {}

    smtp::SessionOptions session_options() {
        smtp::SessionOptions so;
        so.protocol = opts.protocol;
        so.limits = opts.limits;
        so.use_pipelining = opts.pipelining;
        so.use_chunking = opts.chunking;
        so.chunk_size = opts.chunk_size;
        so.trace = opts.trace;
        so.on_reply = [this](const smtp::Reply& r) {
            reply_deadline.reset();  // the next reply gets a full timeout of its own
            notify({EventKind::reply, peer, 0, &r});
        };
        return so;
    }

    void notify(const Event& e) const noexcept {
        if (opts.observer) {
            try {
                opts.observer(e);
            } catch (...) {  // NOLINT(bugprone-empty-catch): documented in Observer
            }
        }
    }

    // The deadline `limit` from now, capped by Options::deadline; remembers which it was.
    net::Deadline from_now(std::chrono::milliseconds limit, const char* name) {
        const net::Deadline d = net::Clock::now() + limit;
        if (opts.deadline && *opts.deadline < d) {
            limit_text = "the deadline (Options::deadline)";
            return *opts.deadline;
        }
        limit_text = describe(limit) + " (" + name + ")";
        return d;
    }

    [[nodiscard]] bool in_data() const {
        const smtp::Phase phase = session.phase();
        return phase == smtp::Phase::data_body || phase == smtp::Phase::data_end;
    }

    // A write: each one must make its progress within its own limit (RFC 5321 4.5.3.2.5).
    net::Deadline write_deadline() {
        return in_data() ? from_now(opts.data_block_timeout, "data_block_timeout")
                         : from_now(opts.command_timeout, "command_timeout");
    }

    // A wait for a reply: the limit of the reply awaited (RFC 5321 4.5.3.2), from the moment
    // the wait started.
    net::Deadline read_deadline() {
        if (!reply_deadline) {
            switch (session.phase()) {
                case smtp::Phase::data_end:
                    reply_deadline = from_now(opts.final_reply_timeout, "final_reply_timeout");
                    break;
                case smtp::Phase::data_body:  // a BDAT chunk's reply
                    reply_deadline = from_now(opts.data_block_timeout, "data_block_timeout");
                    break;
                default:
                    reply_deadline = from_now(opts.command_timeout, "command_timeout");
                    break;
            }
        }
        return *reply_deadline;
    }

    // The TLS handshake of this connection, against the name its certificate must carry.
    void handshake() {
        // The context for these settings, made once per process (trust store loaded once) and
        // holding the sessions this client resumes on reconnection.
        stream.start_tls(net::TlsContext::shared(opts.tls_options),
                         opts.tls_options.peer_name.empty() ? host : opts.tls_options.peer_name,
                         from_now(opts.command_timeout, "command_timeout"), opts.stop);
    }

    // Moves bytes until the session needs the caller again (body data, or the operation is over).
    void run() {
        try {
            for (;;) {
                switch (session.want()) {
                    case smtp::Want::output: {
                        const std::string_view out = session.output().substr(0, write_slice);
                        stream.write_all(out, write_deadline(), opts.stop);
                        reply_deadline.reset();
                        notify({EventKind::bytes_sent, peer, out.size(), nullptr});
                        session.consume_output(out.size());
                        break;
                    }
                    case smtp::Want::input: {
                        const std::size_t n = stream.read_some(buffer, read_deadline(), opts.stop);
                        if (n == 0) {
                            session.receive_eof();
                        } else {
                            notify({EventKind::bytes_received, peer, n, nullptr});
                            session.receive(std::string_view(buffer.data(), n));
                        }
                        break;
                    }
                    case smtp::Want::tls_handshake:
                        handshake();
                        session.tls_established();
                        notify({EventKind::tls_established, peer, 0, nullptr});
                        break;
                    case smtp::Want::body:
                    case smtp::Want::idle:
                    case smtp::Want::closed:
                        return;
                }
            }
        } catch (const Error& e) {
            // I/O failed: the session turns it into the operation's error (or outcome_unknown).
            if (e.kind() == errc::timeout) {
                // Name the limit that was exceeded, not the remainder of the last read.
                session.abort(e.kind(), "timed out after " + limit_text + " talking to " + peer,
                              e.cause());
            } else {
                session.abort(e.kind(), e.what(), e.cause());
            }
        }
    }

    // Runs the operation just started and throws its error, closing an unusable connection.
    void finish_op() {
        run();
        check();
    }

    // Throws the operation's error. When the operation succeeded but the session failed just
    // after (junk behind the reply), `keep_result` says whether the success must stand (a sent
    // message, which must not look failed and be sent again) or the failure is reported now.
    void check(bool keep_result = false) {
        if (auto e = session.take_error()) {
            if (!e->connection_usable() || session.failed()) {
                close();
            }
            throw Error(*e);
        }
        if (session.want() == smtp::Want::closed) {
            close();
            if (session.failed() && !keep_result) {
                throw Error(*session.error());
            }
        }
    }

    void close() noexcept {
        if (stream.is_open()) {
            stream.close();
            notify({EventKind::closed, peer, 0, nullptr});
        }
    }

    void require_open() const {
        if (const Error* e = session.error()) {
            throw Error(
                errc::invalid_input,
                std::string("not connected: the connection was closed after: ") + e->what());
        }
        if (!stream.is_open()) {
            throw Error(errc::invalid_input, "not connected: call connect() first");
        }
    }

    void ensure_hello() {
        require_open();
        if (!hello_done) {
            hello({});
        }
    }

    // RFC 5321 4.1.4: the client's fully qualified domain name, or else an address literal.
    [[nodiscard]] std::string default_local_name() const {
        const std::string& fqdn = system_fqdn();
        if (!fqdn.empty()) {
            return fqdn;
        }
        const std::string literal = stream.local_address_literal();
        return literal.empty() ? std::string("[127.0.0.1]") : literal;
    }

    void hello(std::string_view name) {
        require_open();
        if (name.empty()) {
            if (opts.local_name.empty()) {
                opts.local_name = default_local_name();
            }
            name = opts.local_name;
        }
        session.hello(name);
        finish_op();
        hello_done = true;
    }

    // Credentials go in clear text only when the caller allows it, or over a direct connection
    // to a loopback address: decided on the address connected to, never on a name (a name like
    // "127.0.0.1.example.net", a TLS peer name or a proxy could lie).
    [[nodiscard]] bool plaintext_ok() const {
        return session.secure() || opts.allow_plaintext_auth || loopback_direct;
    }

    void authenticate(sasl::Mechanism* given) {
        require_open();
        if (!plaintext_ok()) {
            throw Error(errc::auth_unavailable,
                        "refusing to send credentials to " + peer +
                            " without TLS (set allow_plaintext_auth to allow it)");
        }
        std::unique_ptr<sasl::Mechanism> chosen;
        if (given == nullptr) {
            if (!opts.credentials) {
                throw Error(errc::config, "no credentials to authenticate with");
            }
            const auto& offered = session.capabilities().auth_mechanisms();
            chosen = sasl::choose(offered, *opts.credentials, opts.auth_mechanisms, host, port);
            if (!chosen) {
                std::string list;
                for (const auto& m : offered) {
                    list += (list.empty() ? "" : " ") + m;
                }
                throw Error(errc::auth_unavailable,
                            peer + " offers no usable authentication mechanism (it offers: " +
                                (list.empty() ? std::string("none") : list) + ")");
            }
            given = chosen.get();
        }
        session.authenticate(*given);
        finish_op();
    }

    // STARTTLS as the TLS mode says (RFC 3207), then EHLO again: what the server said before
    // TLS is forgotten. RFC 3207 4: when TLS is required, nothing but EHLO and STARTTLS goes
    // in clear text; a missing STARTTLS or a refusal ends the attempt with QUIT.
    void secure() {
        const TlsMode mode = tls_mode;
        if (mode == TlsMode::implicit || mode == TlsMode::none_insecure) {
            return;
        }
        const bool offered = session.capabilities().starttls();
        if (!offered && mode == TlsMode::opportunistic) {
            return;
        }
        if (!offered && mode == TlsMode::starttls_required) {
            quit_quietly();
            throw Error(errc::starttls_unavailable,
                        peer + " does not offer STARTTLS, and TLS is required");
        }
        session.starttls();
        run();
        if (auto e = session.take_error()) {
            if (mode == TlsMode::opportunistic && e->connection_usable()) {
                return;  // RFC 3207 4.1: after a refusal the client may go on without TLS
            }
            if (e->connection_usable()) {
                quit_quietly();
            }
            close();
            if (e->reply()) {
                ErrorDetails d;
                d.reply = e->reply();
                d.command = "STARTTLS";
                throw Error(errc::starttls_unavailable,
                            std::string(e->what()) + ", and TLS is required", std::move(d));
            }
            throw Error(*e);
        }
        check();
        hello_done = false;
        hello({});
    }

    // Writes QUIT and closes without waiting for its reply: the attempt has failed already,
    // and a server that does not answer must not hold the caller. What goes wrong is ignored.
    void quit_quietly() noexcept {
        try {
            if (stream.is_open() && session.want() == smtp::Want::idle) {
                session.quit();
                while (session.want() == smtp::Want::output) {
                    const std::string_view out = session.output();
                    stream.write_all(out, write_deadline(), opts.stop);
                    session.consume_output(out.size());
                }
            }
        } catch (...) {  // NOLINT(bugprone-empty-catch): closing anyway
        }
        close();
    }

    // Opens a connection with `effective` options (base plus a URL's settings).
    void open(Options effective, TlsMode mode, std::string_view to_host, std::uint16_t to_port) {
        close();
        opts = std::move(effective);
        tls_mode = mode;
        session = smtp::Session(session_options());
        hello_done = false;
        reply_deadline.reset();
        loopback_direct = false;
        const std::string target = std::string(to_host) + ":" + std::to_string(to_port);
        notify({EventKind::connecting, target, 0, nullptr});
        const net::Deadline deadline = from_now(opts.connect_timeout, "connect_timeout");
        if (opts.proxy) {
            const net::Proxy& proxy = *opts.proxy;
            stream.connect(proxy.host, proxy.port, deadline, opts.stop);
            net::open_tunnel(stream, proxy, to_host, to_port, deadline, opts.stop);
            peer = target + " via " + proxy.redacted();
        } else {
            stream.connect(to_host, to_port, deadline, opts.stop);
            peer = stream.remote_endpoint();
            loopback_direct = stream.remote_is_loopback();
        }
        notify({EventKind::connected, peer, 0, nullptr});
        host = std::string(to_host);
        port = to_port;
        if (mode == TlsMode::implicit) {
            handshake();
            notify({EventKind::tls_established, peer, 0, nullptr});
        }
        session.expect_greeting();
        finish_op();
        hello({});
        secure();
        if (opts.credentials) {
            authenticate(nullptr);
        }
    }

    // A command with one reply: say EHLO first if needed, run it, throw its error.
    template <typename Start>
    smtp::Reply simple(Start&& start) {
        ensure_hello();
        start();
        finish_op();
        return session.reply();
    }

    // Streams the body once the session is in the body step; pieces come from `next`. When
    // `next` fails (a file or stream that cannot be read to its end), the message is
    // incomplete: the connection is closed without the end of the data, so that the server
    // discards what it got (RFC 5321 has no other way to abort DATA), and the error says so.
    template <typename Next>
    smtp::SendResult stream_body(Next&& next) {
        run();
        while (session.want() == smtp::Want::body) {
            std::string_view piece;
            try {
                piece = next();
            } catch (const std::exception& e) {
                abandon_body(e);
            }
            if (piece.empty()) {
                session.end_body();
                run();
                break;
            }
            session.write_body(piece);
            run();
        }
        check(true);
        return session.result();
    }

    [[noreturn]] void abandon_body(const std::exception& e) {
        ErrorDetails d;
        d.report = session.result();
        if (const auto* error = dynamic_cast<const Error*>(&e)) {
            d.cause = error->cause();
        }
        close();
        session.abort(errc::invalid_input, "message not sent");
        (void)session.take_error();
        throw Error(errc::invalid_input,
                    std::string(e.what()) +
                        "; the connection was closed before the end of the data, so the "
                        "partial message is not delivered",
                    std::move(d));
    }
};

Client::Client(Options options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

Client::Client(Client&& other) noexcept = default;
Client& Client::operator=(Client&& other) noexcept = default;

Client::~Client() {
    if (impl_) {
        impl_->close();
    }
}

void Client::connect(std::string_view host, std::uint16_t port) {
    Impl& m = *impl_;
    m.open(m.base, m.base.tls.value_or(TlsMode::opportunistic), host, port);
}

void Client::connect(const net::Url& url) {
    Impl& m = *impl_;
    // Every connect starts from the options the client was made with: nothing of an earlier
    // URL (credentials, verify=no, CA, peer name, proxy) carries over to the next.
    Options o = m.base;
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
    m.open(std::move(o), mode, url.host, url.port);
}

void Client::set_deadline(std::optional<std::chrono::steady_clock::time_point> deadline) {
    impl_->base.deadline = deadline;
    impl_->opts.deadline = deadline;
}

void Client::authenticate() {
    impl_->authenticate(nullptr);
}

void Client::authenticate(sasl::Mechanism& mechanism) {
    impl_->authenticate(&mechanism);
}

void Client::hello(std::string_view local_name) {
    impl_->hello(local_name);
}

const smtp::Capabilities& Client::capabilities() {
    impl_->ensure_hello();
    return impl_->session.capabilities();
}

std::optional<std::string> Client::extension(std::string_view name) {
    return capabilities().extension(name);
}

smtp::SendResult Client::send(const smtp::Envelope& envelope, std::string_view message) {
    Impl& m = *impl_;
    m.ensure_hello();
    const std::string fields =
        m.opts.dkim.empty() ? std::string() : dkim::sign(message, m.opts.dkim);
    smtp::Envelope env = envelope;
    if (!env.params.size) {
        env.params.size = fields.size() + message.size();  // RFC 1870: the message's size
    }
    m.session.send(env);
    Pieces pieces(fields, message);
    return m.stream_body([&] { return pieces.next(); });
}

smtp::SendResult Client::send(const smtp::Envelope& envelope, std::istream& message) {
    Impl& m = *impl_;
    m.ensure_hello();
    smtp::Envelope env = envelope;
    // A seekable stream tells its size, and can be read twice; SIZE= lets the server refuse an
    // oversized message before it is sent.
    const auto start = message.tellg();
    std::optional<std::uint64_t> size;
    if (start != std::istream::pos_type(-1) && message.seekg(0, std::ios::end)) {
        const auto end = message.tellg();
        message.seekg(start);
        if (end != std::istream::pos_type(-1) && end >= start) {
            size = static_cast<std::uint64_t>(end - start);
        }
    }
    message.clear();
    std::string piece(piece_size, '\0');
    std::uint64_t total = 0;
    // Reads the next piece of `in`; a stream that fails half way is an error, never an end: a
    // truncated message must not go out as if it were whole.
    auto read = [&](std::istream& in) -> std::string_view {
        in.read(piece.data(), static_cast<std::streamsize>(piece.size()));
        const auto got = static_cast<std::size_t>(in.gcount());
        if (in.bad()) {
            throw Error(errc::invalid_input, "reading the message failed after " +
                                                 std::to_string(total + got) + " octets");
        }
        total += got;
        return {piece.data(), got};
    };
    std::string fields;
    Spool spool;
    std::istream* source = &message;
    if (!m.opts.dkim.empty()) {
        // DKIM's field comes first but hashes the whole message: a hashing pass, then the
        // sending pass, from the stream again when it can seek, else from a spool file. Nothing
        // has been sent yet, so a read error here costs nothing.
        const bool seekable = size.has_value();
        if (!seekable) {
            spool.open();
        }
        dkim::MessageHasher hasher(canonicalizations(m.opts.dkim));
        for (auto p = read(message); !p.empty(); p = read(message)) {
            hasher.update(p);
            if (!seekable) {
                spool.write(p);
            }
        }
        const dkim::HashedMessage hashed = hasher.finish();
        for (const dkim::Signer& signer : m.opts.dkim) {
            fields += signer.sign(hashed);
        }
        if (seekable) {
            message.clear();
            message.seekg(start);
        } else {
            size = total;
            source = &spool.rewind();
        }
        total = 0;
    }
    if (!env.params.size && size) {
        env.params.size = fields.size() + *size;
    }
    m.session.send(env);
    bool fields_sent = fields.empty();
    return m.stream_body([&]() -> std::string_view {
        if (!std::exchange(fields_sent, true)) {
            return fields;
        }
        return read(*source);
    });
}

smtp::SendResult Client::send(const mime::Message& message) {
    return send(envelope_of(message), message);
}

smtp::SendResult Client::send(const smtp::Envelope& envelope, const mime::Message& message) {
    Impl& m = *impl_;
    m.ensure_hello();
    const smtp::Capabilities& caps = m.session.capabilities();
    const bool utf8 = message.needs_smtputf8();
    if (utf8 && !caps.smtputf8()) {
        throw Error(errc::invalid_input,
                    "the message has an address with a non-ASCII local part, and the server "
                    "does not offer SMTPUTF8 (RFC 6531)");
    }
    mime::Serializer writer(message, serialize_options_for(message, caps.eight_bit_mime()));
    smtp::Envelope env = envelope;
    if (writer.uses_8bit() && env.params.body == smtp::BodyType::unspecified) {
        env.params.body = smtp::BodyType::eight_bit_mime;
    }
    env.params.smtputf8 = env.params.smtputf8 || utf8;
    // DKIM: one hashing pass over the serializer, which then starts over and writes the same
    // text again (file attachments are read twice, never held).
    const std::string fields =
        m.opts.dkim.empty() ? std::string() : dkim::sign(writer, m.opts.dkim);
    if (!env.params.size && (caps.max_size() || !fields.empty())) {
        // RFC 1870: with SIZE= the server refuses an oversized message before any of it is
        // sent, and the session refuses one above the advertised limit before MAIL. Measured
        // in one streaming pass (files read, nothing kept), only when the server has a limit
        // (or when signing measured it anyway).
        env.params.size = fields.size() + writer.size();
    }
    m.session.send(env);
    bool fields_sent = fields.empty();
    return m.stream_body([&]() -> std::string_view {
        if (!std::exchange(fields_sent, true)) {
            return fields;
        }
        return writer.next();
    });
}

smtp::Reply Client::mail(std::string_view from, const smtp::MailParams& params) {
    return impl_->simple([&] { impl_->session.mail(from, params); });
}

smtp::Reply Client::rcpt(std::string_view to, const smtp::RcptParams& params) {
    return impl_->simple([&] { impl_->session.rcpt(to, params); });
}

DataWriter Client::data() {
    impl_->ensure_hello();
    impl_->session.data();
    impl_->finish_op();
    return DataWriter(*this);
}

void DataWriter::write(std::string_view bytes) {
    Client::Impl& m = *client_->impl_;
    m.session.write_body(bytes);
    m.run();
    m.check();
}

smtp::Reply DataWriter::finish() {
    Client::Impl& m = *client_->impl_;
    m.session.end_body();
    m.run();
    m.check(true);
    return m.session.reply();
}

smtp::Reply Client::noop() {
    return impl_->simple([&] { impl_->session.noop(); });
}

smtp::Reply Client::reset() {
    return impl_->simple([&] { impl_->session.reset(); });
}

smtp::Reply Client::verify(std::string_view address) {
    return impl_->simple([&] { impl_->session.verify(address); });
}

smtp::Reply Client::expand(std::string_view list) {
    return impl_->simple([&] { impl_->session.expand(list); });
}

smtp::Reply Client::help(std::string_view topic) {
    return impl_->simple([&] { impl_->session.help(topic); });
}

smtp::Reply Client::command(std::string_view line, std::string_view redacted_trace) {
    impl_->require_open();
    impl_->session.command(line, redacted_trace);
    impl_->finish_op();
    return impl_->session.reply();
}

void Client::quit() {
    Impl& m = *impl_;
    if (!m.stream.is_open()) {
        return;
    }
    if (m.session.want() != smtp::Want::idle) {
        m.close();
        return;
    }
    m.session.quit();
    m.run();
    m.close();
    if (auto e = m.session.take_error()) {
        throw Error(*e);
    }
}

void Client::close() noexcept {
    impl_->close();
}

const net::TlsInfo* Client::tls() const {
    return impl_->stream.tls();
}

bool Client::is_open() const {
    return impl_->stream.is_open() && !impl_->session.failed();
}

const smtp::Session& Client::session() const {
    return impl_->session;
}

}  // namespace missive::client
