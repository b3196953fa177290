#include "deliver.hpp"

#include <missive/client/client.hpp>
#include <missive/client/prepare.hpp>
#include <missive/dkim/signer.hpp>
#include <missive/error.hpp>
#include <missive/mime/address.hpp>
#include <missive/mime/serializer.hpp>
#include <missive/net/proxy.hpp>
#include <missive/net/url.hpp>
#include <missive/outbox/outbox.hpp>

#include "advice.hpp"
#include "config.hpp"
#include "exit_codes.hpp"
#include "message_input.hpp"
#include "outbox_store.hpp"
#include "text.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <streambuf>
#include <system_error>

namespace missive::cli {

namespace {

std::optional<client::TlsMode> tls_mode(const std::string& name) {
    if (name.empty()) {
        return std::nullopt;
    }
    if (name == "opportunistic") {
        return client::TlsMode::opportunistic;
    }
    if (name == "required") {
        return client::TlsMode::starttls_required;
    }
    if (name == "always") {
        return client::TlsMode::starttls_always;
    }
    if (name == "implicit") {
        return client::TlsMode::implicit;
    }
    if (name == "none") {
        return client::TlsMode::none_insecure;
    }
    throw Error(errc::config,
                "--tls must be opportunistic, required, always, implicit or none, "
                "not '" +
                    name + "'");
}

// A password anywhere in the URL: its own, or a proxy's in its query.
bool has_password(const net::Url& url) {
    if (url.has_password) {
        return true;
    }
    const auto proxy = url.query.find("proxy");
    if (proxy == url.query.end()) {
        return false;
    }
    try {
        return !net::Proxy::parse(proxy->second).password.empty();
    } catch (const Error&) {
        return false;  // connect() reports the bad proxy URL
    }
}

std::string describe_seconds(double seconds) {
    std::array<char, 32> buf{};
    std::snprintf(buf.data(), buf.size(), "%g s", seconds);
    return buf.data();
}

const char* getenv_or_null(const char* name) {
    return std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read once, before any thread
}

std::string reply_json(const smtp::Reply& r) {
    return "{\"code\":" + std::to_string(r.code) + ",\"enhanced\":" +
           (r.enhanced ? json_string(r.enhanced->to_string()) : std::string("null")) +
           ",\"text\":" + json_string(r.text()) + "}";
}

std::string recipients_json(const smtp::SendResult& result) {
    std::string out = "[";
    for (const auto& r : result.recipients) {
        if (out.size() > 1) {
            out += ',';
        }
        out += "{\"address\":" + json_string(r.address) +
               ",\"accepted\":" + (r.accepted ? "true" : "false") +
               ",\"code\":" + std::to_string(r.reply.code) + ",\"enhanced\":" +
               (r.reply.enhanced ? json_string(r.reply.enhanced->to_string()) : "null") +
               ",\"text\":" + json_string(r.reply.text()) + "}";
    }
    return out + "]";
}

// The server as it may be printed: every password in it (its own, a proxy's in its query)
// redacted, and nothing of a URL that does not parse (it could hold a password anywhere).
std::string display_server(const std::string& server) {
    try {
        return printable(net::Url::parse(server).redacted());
    } catch (const Error&) {
        return "the server";
    }
}

// Reports a finished transaction; exit 0 when at least one recipient took the message.
int report(const Target& t, const smtp::SendResult& result) {
    const bool partial = !result.all_accepted();
    if (t.json) {
        std::cout << "{\"status\":" << json_string(partial ? "partial" : "sent")
                  << ",\"server\":" << json_string(display_server(t.server))
                  << ",\"reply\":" << (result.data_reply ? reply_json(*result.data_reply) : "null")
                  << ",\"queue_id\":" << json_string(result.queue_id)
                  << ",\"recipients\":" << recipients_json(result) << "}\n";
    } else {
        std::cout << "sent via " << display_server(t.server) << ": "
                  << printable(result.data_reply ? result.data_reply->to_string() : std::string())
                  << '\n';
    }
    for (const auto& r : result.recipients) {
        if (!r.accepted) {
            std::cerr << "missive: " << printable(r.address)
                      << " refused: " << printable(r.reply.to_string()) << '\n';
        }
    }
    return exit_ok;
}

// Reports a failure; `status` overrides the exit status the error maps to (a read error of the
// message, which the library reports as invalid input).
int fail(const Target& t, const Error& e, std::optional<int> status = std::nullopt,
         const std::string& input_error = {}) {
    const int code = status.value_or(exit_code_for(e));
    const bool unknown = e.outcome_unknown();
    const std::string message = input_error.empty() ? std::string(e.what()) : input_error;
    if (t.json) {
        std::cout << R"({"status":)" << json_string(unknown ? "unknown" : "failed")
                  << R"(,"server":)"
                  << json_string(t.server.empty() ? std::string() : display_server(t.server))
                  << R"(,"reply":)" << (e.reply() ? reply_json(*e.reply()) : "null")
                  << R"(,"queue_id":"","recipients":)"
                  << (e.report() ? recipients_json(*e.report()) : "[]") << R"(,"error":{"kind":)"
                  << json_string(kind_name(e.kind())) << ",\"message\":" << json_string(message)
                  << ",\"exit\":" << code << "}}\n";
    }
    std::cerr << "missive: " << (t.server.empty() ? "" : display_server(t.server) + ": ")
              << printable(message) << '\n';
    if (const std::string advice = advice_for(e, t.server, t.options); !advice.empty()) {
        std::cerr << "missive: " << printable(advice) << '\n';
    }
    if (unknown) {
        std::cerr << "missive: the server may have accepted the message; check before sending it "
                     "again (sending it again may deliver it twice)\n";
    }
    if (e.kind() == errc::timeout || unknown) {
        if (!t.limits.empty()) {
            std::cerr << "missive: time limits: " << t.limits << '\n';
        }
    }
    if (e.report() && input_error.empty()) {
        for (const auto& r : e.report()->recipients) {
            std::cerr << "missive:   " << printable(r.address) << ": "
                      << (r.accepted ? "accepted" : "refused") << " "
                      << printable(r.reply.to_string()) << '\n';
        }
    }
    return code;
}

template <typename Send>
int send_with(const Target& t, Send&& send) {
    try {
        client::Client c(t.options);
        c.connect(net::Url::parse(t.server));
        const smtp::SendResult result = send(c);
        try {
            c.quit();
        } catch (const Error&) {
            // The message was accepted; a QUIT that goes wrong changes nothing about it.
        }
        return report(t, result);
    } catch (const Error& e) {
        return fail(t, e);
    }
}

// Stores a message in the outbox with `enqueue(outbox, options)` and says so.
template <typename Enqueue>
int queue(const Target& t, Enqueue&& enqueue) {
    const std::string where = outbox_location(t.outbox);
    const std::unique_ptr<outbox::Store> store = open_outbox(where);
    outbox::Outbox box(*store);
    outbox::EnqueueOptions options;
    options.idempotency_key = t.idempotency_key;
    const outbox::Enqueued e = enqueue(box, options);
    if (t.json) {
        std::cout << R"({"status":"queued","id":)" << e.id << R"(,"created":)"
                  << (e.created ? "true" : "false") << R"(,"outbox":)"
                  << json_string(display_outbox(where)) << "}\n";
    } else {
        std::cout << (e.created ? "queued as " : "already queued (same idempotency key) as ")
                  << e.id << " in " << display_outbox(where)
                  << (t.server.empty() ? " (no server configured: `missive deliver --server URL` "
                                         "sends it)\n"
                                       : " (`missive deliver` sends it)\n");
    }
    return exit_ok;
}

// A printed message: encoded for any server (no 8bit), dated and identified now.
mime::SerializeOptions file_options(const mime::Message& m) {
    return client::serialize_options_for(m, false);
}

void print_envelope(const smtp::Envelope& e, const std::string& server) {
    std::cerr << "missive: dry run: would send from <" << printable(e.from) << "> to";
    for (const auto& r : e.to) {
        std::cerr << " <" << printable(r.address) << ">";
    }
    std::cerr << " via " << (server.empty() ? "the outbox" : display_server(server)) << '\n';
}

// A dry run prints the message as it is before signing: the signatures are made when it is sent.
void print_signers(const std::vector<dkim::Signer>& signers) {
    for (const dkim::Signer& s : signers) {
        std::cerr << "missive: dry run: would sign with DKIM d=" << s.options().domain
                  << " s=" << s.options().selector << '\n';
    }
}

}  // namespace

std::optional<double> parse_seconds(std::string_view text) {
    double value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value, std::chars_format::fixed);
    if (ec != std::errc{} || ptr != end || !std::isfinite(value) || value < min_seconds ||
        value > max_seconds) {
        return std::nullopt;
    }
    return value;
}

namespace {

// The DKIM signatures asked for: the flags (selector and domain given once apply to every key),
// else the account's `dkim`. A key file must be the user's own and private (check_private).
std::vector<dkim::Signer> dkim_signers(const TargetFlags& flags, const Account* account) {
    std::vector<DkimSetting> settings;
    if (!flags.dkim_key.empty() || !flags.dkim_selector.empty() || !flags.dkim_domain.empty()) {
        const std::size_t n = flags.dkim_key.size();
        auto fits = [n](const std::vector<std::string>& v) {
            return v.size() == 1 || v.size() == n;
        };
        if (n == 0 || !fits(flags.dkim_selector) || !fits(flags.dkim_domain)) {
            throw Error(errc::config,
                        "DKIM needs --dkim-key FILE for each signature, with --dkim-selector and "
                        "--dkim-domain given once (for every key) or once per key");
        }
        for (std::size_t i = 0; i < n; ++i) {
            settings.push_back({flags.dkim_key[i],
                                flags.dkim_selector[flags.dkim_selector.size() == 1 ? 0 : i],
                                flags.dkim_domain[flags.dkim_domain.size() == 1 ? 0 : i]});
        }
    } else if (account != nullptr) {
        settings = account->dkim;
    }
    std::vector<dkim::Signer> signers;
    const auto now = std::chrono::system_clock::now();
    for (const DkimSetting& d : settings) {
        std::error_code missing;
        if (std::filesystem::exists(d.key, missing)) {  // else from_pem_file says it is missing
            check_private(d.key, "a DKIM private key");
        }
        dkim::SignerOptions options;
        options.domain = d.domain;
        options.selector = d.selector;
        options.timestamp = now;
        signers.emplace_back(dkim::PrivateKey::from_pem_file(d.key), std::move(options));
    }
    return signers;
}

}  // namespace

Target make_target(const TargetFlags& flags, std::ostream& warnings) {
    Target t;
    t.outbox = flags.outbox;
    t.queue = flags.queue;
    t.idempotency_key = flags.idempotency_key;
    t.dry_run = flags.dry_run;
    t.json = flags.json;
    client::Options& o = t.options;

    if (std::error_code ec; !flags.config.empty() && !std::filesystem::exists(flags.config, ec)) {
        // A file named on purpose that is not there is a mistake, not an empty config (msmtp).
        throw Error(errc::config, "--config '" + flags.config + "' cannot be read: " +
                                      std::generic_category().message(ENOENT));
    }
    const Config config = load_config(flags.config.empty() ? default_config_path()
                                                           : std::filesystem::path(flags.config));
    const Account* account = nullptr;
    if (!flags.server.empty()) {
        t.server = flags.server;
        if (!flags.account.empty()) {
            account = find_account(config, flags.account);
        }
    } else if (!flags.account.empty()) {
        account = find_account(config, flags.account);
    } else if (const char* env = getenv_or_null("MISSIVE_SERVER"); env != nullptr && *env != '\0') {
        t.server = env;
    } else {
        account = find_account(config, "");
    }
    if (account != nullptr && t.server.empty()) {
        t.server = account->server;
        if (t.server.empty()) {
            throw Error(errc::config, "account '" + account->name + "' has no server");
        }
    }
    if (t.server.empty()) {
        return t;  // the outbox
    }
    t.server = net::Url::with_scheme(t.server);  // host:465 is smtps://, other host:port smtp://
    const net::Url url = net::Url::parse(t.server);  // checked now: a config error, not later
    if (!flags.server.empty() && has_password(url)) {
        warnings << "missive: warning: a password on the command line can be seen by other users "
                    "(ps); use MISSIVE_PASSWORD, --password-file or --password-command\n";
    }

    std::string tls = flags.tls;
    std::string ca_file = flags.ca_file;
    std::string peer = flags.tls_peer;
    bool insecure = flags.insecure;
    std::string user = flags.user;
    std::optional<double> timeout;
    std::string timeout_source = "--timeout";
    if (!flags.timeout.empty()) {
        timeout = parse_seconds(flags.timeout);
        if (!timeout) {  // CLI11 checks it first; this is for other callers
            throw Error(errc::config, "--timeout must be a number of seconds from 0.001 to 86400");
        }
    }
    PasswordSource password;
    if (account != nullptr) {
        tls = tls.empty() ? account->tls : tls;
        ca_file = ca_file.empty() ? account->ca_file : ca_file;
        peer = peer.empty() ? account->tls_peer : peer;
        insecure = insecure || account->insecure;
        user = user.empty() ? account->user : user;
        if (!timeout && account->timeout) {
            timeout = *account->timeout;
            timeout_source = "the account's timeout";
        }
        password = account->password;
        t.default_from = account->from;
    }
    // Set only when asked for: unset, the URL's scheme decides, and the library refuses a mode
    // that contradicts the scheme (errc::config from connect).
    o.tls = tls_mode(tls);
    o.tls_options.ca_file = ca_file;
    o.tls_options.peer_name = peer;
    o.tls_options.insecure_skip_verify = insecure;
    if (timeout) {
        // Every wait gets the same limit; without one, the library's RFC 5321 defaults apply.
        const auto each = std::chrono::milliseconds(std::llround(*timeout * 1000));
        o.connect_timeout = o.command_timeout = o.data_block_timeout = o.final_reply_timeout = each;
        t.limits = timeout_source + " " + describe_seconds(*timeout) + " for each wait";
    } else {
        t.limits =
            "the defaults (connect 30 s, each reply 5 min, each data write 3 min, the "
            "final reply 10 min; --timeout sets them all)";
    }
    if (!flags.max_time.empty()) {
        const std::optional<double> max_time = parse_seconds(flags.max_time);
        if (!max_time) {
            throw Error(errc::config, "--max-time must be a number of seconds from 0.001 to 86400");
        }
        o.deadline = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(std::llround(*max_time * 1000));
        t.limits += ", --max-time " + describe_seconds(*max_time) + " for the whole run";
    }

    if (!flags.password_file.empty()) {
        password = {PasswordSource::Kind::file, flags.password_file};
    } else if (!flags.password_command.empty()) {
        password = {PasswordSource::Kind::command, flags.password_command};
    } else if (const char* env = getenv_or_null("MISSIVE_PASSWORD"); env != nullptr) {
        password = {PasswordSource::Kind::env, "MISSIVE_PASSWORD"};
    }
    if (!user.empty() && !url.has_password) {
        if (password.kind == PasswordSource::Kind::none) {
            throw Error(errc::config, "no password for user '" + user +
                                          "': set MISSIVE_PASSWORD, --password-file or "
                                          "--password-command (or password_* in the account)");
        }
        o.credentials = sasl::Credentials{user, read_password(password), {}};
    }
    o.dkim = dkim_signers(flags, account);
    if (flags.trace) {
        o.trace = [](smtp::Direction d, std::string_view line) {
            std::cerr << (d == smtp::Direction::client ? "C: " : "S: ") << printable(line) << '\n';
        };
    }
    return t;
}

int deliver(const Target& t, const mime::Message& message,
            const std::optional<smtp::Envelope>& envelope) {
    try {
        if (t.dry_run) {
            // The envelope a send would use (IDNA domains, each recipient once).
            print_envelope(envelope ? *envelope : client::envelope_of(message), t.server);
            print_signers(t.options.dkim);
            std::cout << mime::to_string(message, file_options(message));
            return exit_ok;
        }
        if (t.server.empty() || t.queue) {
            return queue(t, [&](outbox::Outbox& box, const outbox::EnqueueOptions& o) {
                return envelope ? box.enqueue(message, *envelope, o) : box.enqueue(message, o);
            });
        }
        return send_with(t, [&](client::Client& c) {
            return envelope ? c.send(*envelope, message) : c.send(message);
        });
    } catch (const Error& e) {
        return fail(t, e);
    }
}

namespace {

// The message a sendmail caller hands over, kept in an unlinked temporary file (0600) while it
// is sent, so that what a temporary failure leaves undelivered can still be queued.
class Spool {
public:
    // Copies `in` to its end. @throws InputError (a read error of `in`), Error errc::storage
    explicit Spool(std::istream& in) {
        const char* tmp = std::getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe): one thread
        const std::string dir = tmp != nullptr && *tmp == '/' ? tmp : "/tmp";
        fd_ = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd_ < 0) {
            throw storage_error("cannot create a temporary file in " + dir);
        }
        std::array<char, 65536> piece{};
        while (in.read(piece.data(), piece.size()) || in.gcount() > 0) {
            const auto n = static_cast<std::size_t>(in.gcount());
            for (std::size_t done = 0; done < n;) {
                const ssize_t w = ::write(fd_, piece.data() + done, n - done);
                if (w < 0 && errno == EINTR) {
                    continue;
                }
                if (w <= 0) {
                    throw storage_error("cannot write the message to a temporary file");
                }
                done += static_cast<std::size_t>(w);
            }
        }
    }

    ~Spool() { ::close(fd_); }

    Spool(const Spool&) = delete;
    Spool& operator=(const Spool&) = delete;
    Spool(Spool&&) = delete;
    Spool& operator=(Spool&&) = delete;

    // @return a buffer reading the message from its start
    [[nodiscard]] std::unique_ptr<InputBuf> open() const {
        if (::lseek(fd_, 0, SEEK_SET) != 0) {
            throw storage_error("cannot read the temporary file back");
        }
        return std::make_unique<InputBuf>(fd_, "the temporary copy of the message");
    }

private:
    static Error storage_error(const std::string& what) {
        const int e = errno;
        return {errc::storage, what + ": " + std::generic_category().message(e),
                Error::Details{.cause = std::error_code(e, std::generic_category())}};
    }

    int fd_ = -1;
};

// How a transaction ended, for the recipients the server took at RCPT.
enum class Verdict { delivered, failed, unknown };

// @return where each recipient of `envelope` stands after an attempt with the per-recipient
// replies `tried` that ended as `verdict`
std::vector<outbox::RecipientState> states_after(const smtp::Envelope& envelope,
                                                 const std::vector<smtp::RecipientResult>& tried,
                                                 Verdict verdict) {
    std::vector<outbox::RecipientState> states;
    for (const smtp::Recipient& r : envelope.to) {
        const auto it = std::find_if(tried.begin(), tried.end(),
                                     [&](const auto& x) { return x.address == r.address; });
        if (it == tried.end() || (!it->accepted && it->reply.code < 500)) {
            states.push_back(outbox::RecipientState::pending);  // never tried, or 4xx
        } else if (!it->accepted) {
            states.push_back(outbox::RecipientState::refused);
        } else if (verdict == Verdict::delivered) {
            states.push_back(outbox::RecipientState::accepted);
        } else {
            states.push_back(verdict == Verdict::unknown ? outbox::RecipientState::unknown
                                                         : outbox::RecipientState::pending);
        }
    }
    return states;
}

// Queues what an attempt left undelivered (pending, or unknown: held). @return the job's id,
// or nothing when every recipient is final or the outbox cannot take it (said on stderr)
std::optional<outbox::JobId> queue_rest(const Target& t, const std::string& header,
                                        const Spool& spool, const smtp::Envelope& envelope,
                                        std::vector<outbox::RecipientState> states,
                                        const std::string& why) {
    const bool open = std::any_of(states.begin(), states.end(), [](auto s) {
        return s == outbox::RecipientState::pending || s == outbox::RecipientState::unknown;
    });
    if (!open) {
        return std::nullopt;
    }
    try {
        const std::string where = outbox_location(t.outbox);
        const std::unique_ptr<outbox::Store> store = open_outbox(where);
        const std::unique_ptr<InputBuf> rest = spool.open();
        std::istream body(rest.get());
        body.exceptions(std::ios::badbit);
        PrefixedBuf buf(header, body);
        std::istream text(&buf);
        outbox::NewJob job{envelope};
        job.states = std::move(states);
        job.note = why;
        const outbox::Enqueued e = store->enqueue(job, text, outbox::Clock::now());
        const bool held = std::find(job.states.begin(), job.states.end(),
                                    outbox::RecipientState::unknown) != job.states.end();
        std::cerr << "missive: " << (held ? "held" : "queued for a retry") << " as " << e.id
                  << " in " << display_outbox(where)
                  << (held ? ": the server may have it already; `missive queue retry " +
                                 std::to_string(e.id) + "` sends it again, `missive queue cancel " +
                                 std::to_string(e.id) + "` drops it\n"
                           : " (`missive deliver` sends it)\n");
        return e.id;
    } catch (const Error& e) {
        std::cerr << "missive: the message could not be queued: " << printable(e.what()) << '\n';
        return std::nullopt;
    }
}

}  // namespace

int deliver_text(const Target& t, const std::string& header, std::istream& rest,
                 const smtp::Envelope& envelope) {
    // sendmail's: the message is kept while it is sent, for what a temporary failure leaves.
    std::unique_ptr<Spool> spool;
    std::unique_ptr<InputBuf> spooled;
    std::istream spooled_in(nullptr);
    if (t.queue_on_failure && !t.server.empty() && !t.queue && !t.dry_run) {
        spool = std::make_unique<Spool>(rest);
        spooled = spool->open();
        spooled_in.rdbuf(spooled.get());
        spooled_in.exceptions(std::ios::badbit);
    }
    PrefixedBuf buf(header, spool ? spooled_in : rest);
    std::istream text(&buf);
    const auto read_failed = [&]() -> int {
        std::cerr << "missive: " << printable(buf.error()) << "; nothing was sent\n";
        return exit_no_input;
    };
    if (t.dry_run) {
        print_envelope(envelope, t.server);
        print_signers(t.options.dkim);
        std::cout << text.rdbuf();
        return buf.error().empty() ? exit_ok : read_failed();
    }
    if (t.server.empty() || t.queue) {
        try {
            return queue(t, [&](outbox::Outbox& box, const outbox::EnqueueOptions& o) {
                return box.enqueue(envelope, text, o);
            });
        } catch (const Error& error) {
            // A read error of the message rolled the enqueue back: nothing was stored.
            return buf.error().empty() ? fail(t, error) : read_failed();
        }
    }
    smtp::Envelope e = envelope;
    if (!e.params.size) {
        // RFC 1870: a ready message in a file has a known size, so the server (or the library,
        // against the server's SIZE) refuses one too large before any of it is sent.
        e.params.size = buf.remaining_size();
    }
    try {
        client::Client c(t.options);
        c.connect(net::Url::parse(t.server));
        const smtp::SendResult result = c.send(e, text);
        try {
            c.quit();
        } catch (const Error&) {
            // The message was accepted; a QUIT that goes wrong changes nothing about it.
        }
        const int status = report(t, result);
        if (spool) {  // recipients refused with 4xx are tried again later
            (void)queue_rest(t, header, *spool, envelope,
                             states_after(envelope, result.recipients, Verdict::delivered),
                             "deferred by the server");
        }
        return status;
    } catch (const Error& error) {
        if (!buf.error().empty()) {
            // The library aborted the transaction without the final dot: nothing delivered.
            return fail(t, error, exit_no_input,
                        buf.error() + "; the transaction was aborted, nothing was delivered");
        }
        if (spool && (exit_code_for(error) == exit_temp_fail || error.outcome_unknown())) {
            std::cerr << "missive: " << display_server(t.server) << ": " << printable(error.what())
                      << '\n';
            const auto& tried =
                error.report() ? error.report()->recipients : std::vector<smtp::RecipientResult>{};
            if (queue_rest(
                    t, header, *spool, envelope,
                    states_after(envelope, tried,
                                 error.outcome_unknown() ? Verdict::unknown : Verdict::failed),
                    error.what())) {
                return exit_ok;  // kept, as Postfix's sendmail keeps it in its queue
            }
        }
        return fail(t, error);
    }
}

}  // namespace missive::cli
