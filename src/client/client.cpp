#include <missive/client/client.hpp>
#include <missive/mime/address.hpp>
#include <missive/mime/serializer.hpp>
#include <missive/net/blocking_stream.hpp>
#include <missive/net/proxy.hpp>
#include <missive/sasl/mechanisms.hpp>

#include <unistd.h>

#include <array>
#include <charconv>
#include <chrono>
#include <istream>
#include <utility>

namespace missive::client {

namespace {

constexpr std::size_t read_size = std::size_t{16} * 1024;
constexpr std::size_t piece_size = std::size_t{64} * 1024;

std::string describe(std::chrono::milliseconds d) {
    return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + " s"
                                 : std::to_string(d.count()) + " ms";
}

std::string default_local_name() {
    std::array<char, 256> name{};
    if (::gethostname(name.data(), name.size() - 1) == 0 && name[0] != '\0') {
        return name.data();
    }
    return "localhost";
}

}  // namespace

struct Client::Impl {
    Options opts;
    smtp::Session session;
    net::BlockingStream stream;
    std::string host;  // as given to connect(): the name TLS checks by default
    std::uint16_t port = 0;
    std::string peer;
    net::Deadline data_deadline{};
    bool data_started = false;
    // Set when the wait for a reply starts, cleared by each reply and each write: a server that
    // dribbles a reply byte by byte still runs into it (each read does not restart the clock).
    std::optional<net::Deadline> reply_deadline;
    std::array<char, read_size> buffer{};

    explicit Impl(Options o)
        : opts(std::move(o))
        , session(session_options()) {
        if (!opts.tls_options.session_cache) {
            // Reconnections of this client resume their TLS session.
            opts.tls_options.session_cache = std::make_shared<net::TlsSessionCache>();
        }
    }

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

    void notify(const Event& e) const {
        if (opts.observer) {
            opts.observer(e);
        }
    }

    net::Deadline deadline() {
        const smtp::Phase phase = session.phase();
        if (phase == smtp::Phase::data_body || phase == smtp::Phase::data_end) {
            if (!data_started) {
                data_started = true;
                data_deadline = net::Clock::now() + opts.data_timeout;
            }
            return data_deadline;
        }
        if (!reply_deadline) {
            reply_deadline = net::Clock::now() + opts.command_timeout;
        }
        return *reply_deadline;
    }

    // Moves bytes until the session needs the caller again (body data, or the operation is over).
    void run() {
        try {
            for (;;) {
                switch (session.want()) {
                    case smtp::Want::output: {
                        const std::string_view out = session.output();
                        stream.write_all(out, deadline(), opts.stop);
                        reply_deadline.reset();
                        notify({EventKind::bytes_sent, peer, out.size(), nullptr});
                        session.consume_output(out.size());
                        break;
                    }
                    case smtp::Want::input: {
                        const std::size_t n = stream.read_some(buffer, deadline(), opts.stop);
                        if (n == 0) {
                            session.receive_eof();
                        } else {
                            notify({EventKind::bytes_received, peer, n, nullptr});
                            session.receive(std::string_view(buffer.data(), n));
                        }
                        break;
                    }
                    case smtp::Want::tls_handshake:
                        stream.start_tls(opts.tls_options, host, deadline(), opts.stop);
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
                const bool data = session.phase() == smtp::Phase::data_body ||
                                  session.phase() == smtp::Phase::data_end;
                const std::string limit =
                    data ? describe(opts.data_timeout) + " (data_timeout)"
                         : describe(opts.command_timeout) + " (command_timeout)";
                session.abort(e.kind(), "timed out after " + limit + " talking to " + peer,
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

    void begin_data() { data_started = false; }

    // Go's rule, keyed on the name the caller gave (the TLS peer name when set): credentials go
    // in clear text only to localhost or a loopback address, unless the caller allows it.
    [[nodiscard]] bool plaintext_ok() const {
        if (session.secure() || opts.allow_plaintext_auth) {
            return true;
        }
        const std::string& name =
            opts.tls_options.peer_name.empty() ? host : opts.tls_options.peer_name;
        return name == "localhost" || name == "::1" || name.rfind("127.", 0) == 0;
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

    // STARTTLS as Options::tls says (RFC 3207), then EHLO again: what the server said before
    // TLS is forgotten.
    void secure() {
        const TlsMode mode = opts.tls;
        if (mode == TlsMode::implicit || mode == TlsMode::none_insecure) {
            return;
        }
        const bool offered = session.capabilities().starttls();
        if (!offered && mode == TlsMode::opportunistic) {
            return;
        }
        if (!offered && mode == TlsMode::starttls_required) {
            close();
            throw Error(errc::starttls_unavailable,
                        peer + " does not offer STARTTLS, and TLS is required");
        }
        session.starttls();
        run();
        if (auto e = session.take_error()) {
            if (mode == TlsMode::opportunistic && e->connection_usable()) {
                return;  // RFC 3207 4.1: after a refusal the client may go on without TLS
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

    // A command with one reply: say EHLO first if needed, run it, throw its error.
    template <typename Start>
    smtp::Reply simple(Start&& start) {
        ensure_hello();
        start();
        finish_op();
        return session.reply();
    }

    // Streams the body once the session is in the body step; pieces come from `next`.
    template <typename Next>
    smtp::SendResult stream_body(Next&& next) {
        run();
        while (session.want() == smtp::Want::body) {
            const std::string_view piece = next();
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

    bool hello_done = false;
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
    m.close();
    m.session = smtp::Session(m.session_options());
    m.hello_done = false;
    const std::string target = std::string(host) + ":" + std::to_string(port);
    m.notify({EventKind::connecting, target, 0, nullptr});
    const net::Deadline deadline = net::Clock::now() + m.opts.connect_timeout;
    if (m.opts.proxy) {
        const net::Proxy& proxy = *m.opts.proxy;
        m.stream.connect(proxy.host, proxy.port, deadline, m.opts.stop);
        net::open_tunnel(m.stream, proxy, host, port, deadline, m.opts.stop);
        m.peer = target + " via " + proxy.redacted();
    } else {
        m.stream.connect(host, port, deadline, m.opts.stop);
        m.peer = m.stream.remote_endpoint();
    }
    m.notify({EventKind::connected, m.peer, 0, nullptr});
    m.host = std::string(host);
    m.port = port;
    if (m.opts.tls == TlsMode::implicit) {
        m.stream.start_tls(m.opts.tls_options, host, net::Clock::now() + m.opts.command_timeout,
                           m.opts.stop);
        m.notify({EventKind::tls_established, m.peer, 0, nullptr});
    }
    m.session.expect_greeting();
    m.finish_op();
    m.hello({});
    m.secure();
    if (m.opts.credentials) {
        m.authenticate(nullptr);
    }
}

void Client::connect(const net::Url& url) {
    Impl& m = *impl_;
    Options& o = m.opts;
    o.tls = url.tls;
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
            if (ec != std::errc{} || ptr != value.data() + value.size() || seconds == 0) {
                throw Error(errc::config,
                            "URL option timeout must be a number of seconds, not '" + value + "'");
            }
            o.connect_timeout = o.command_timeout = std::chrono::seconds(seconds);
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
    connect(url.host, url.port);
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
    smtp::Envelope env = envelope;
    if (!env.params.size) {
        env.params.size = message.size();  // RFC 1870: an estimate of the message size
    }
    m.session.send(env);
    m.begin_data();
    std::size_t offset = 0;
    return m.stream_body([&]() -> std::string_view {
        const std::string_view piece = message.substr(offset, piece_size);
        offset += piece.size();
        return piece;
    });
}

smtp::SendResult Client::send(const smtp::Envelope& envelope, std::istream& message) {
    Impl& m = *impl_;
    m.ensure_hello();
    smtp::Envelope env = envelope;
    if (!env.params.size) {
        // A seekable stream tells its size; SIZE= lets the server refuse an oversized message
        // before it is sent.
        const auto here = message.tellg();
        if (here != std::istream::pos_type(-1) && message.seekg(0, std::ios::end)) {
            const auto end = message.tellg();
            message.seekg(here);
            if (end != std::istream::pos_type(-1) && end >= here) {
                env.params.size = static_cast<std::uint64_t>(end - here);
            }
        }
        message.clear();
    }
    m.session.send(env);
    m.begin_data();
    std::string piece(piece_size, '\0');
    return m.stream_body([&]() -> std::string_view {
        message.read(piece.data(), static_cast<std::streamsize>(piece.size()));
        const auto got = static_cast<std::size_t>(message.gcount());
        if (got == 0 && message.bad()) {
            throw Error(errc::invalid_input, "reading the message failed");
        }
        return {piece.data(), got};
    });
}

smtp::SendResult Client::send(const mime::Message& message) {
    const bool smtputf8 = message.needs_smtputf8();
    smtp::Envelope envelope;
    const std::optional<mime::Mailbox> sender = message.sender();
    if (!sender) {
        throw Error(errc::invalid_input,
                    "the message has no From (or Sender) to take the envelope sender from");
    }
    envelope.from = mime::envelope_address(*sender, smtputf8);
    for (const mime::Mailbox& m : message.recipients()) {
        envelope.to.emplace_back(mime::envelope_address(m, smtputf8));
    }
    if (envelope.to.empty()) {
        throw Error(errc::invalid_input, "the message has no recipient in To, Cc or Bcc");
    }
    return send(envelope, message);
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
    std::string domain;
    if (const auto sender = message.sender()) {
        const auto at = sender->address.rfind('@');
        if (at != std::string::npos) {
            domain = mime::to_ascii_domain(sender->address.substr(at + 1));
        }
    }
    mime::Serializer writer(message, {.allow_8bit = caps.eight_bit_mime(),
                                      .allow_utf8 = utf8,
                                      .date = std::chrono::system_clock::now(),
                                      .message_id = mime::make_message_id(domain)});
    smtp::Envelope env = envelope;
    if (writer.uses_8bit() && env.params.body == smtp::BodyType::unspecified) {
        env.params.body = smtp::BodyType::eight_bit_mime;
    }
    env.params.smtputf8 = env.params.smtputf8 || utf8;
    m.session.send(env);
    m.begin_data();
    try {
        return m.stream_body([&] { return writer.next(); });
    } catch (const Error& e) {
        if (e.kind() == errc::invalid_input && m.session.want() == smtp::Want::body) {
            // The message cannot be finished (a file went away): the only way to take back
            // the data sent so far is to drop the connection (RFC 5321 has no abort of DATA).
            m.close();
            throw Error(errc::invalid_input, std::string(e.what()) +
                                                 "; the connection was closed so that the "
                                                 "partial message is not delivered");
        }
        throw;
    }
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
    impl_->begin_data();
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
