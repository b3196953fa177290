#include "deliver.hpp"

#include <missive/client/client.hpp>
#include <missive/error.hpp>
#include <missive/mime/address.hpp>
#include <missive/mime/serializer.hpp>
#include <missive/net/url.hpp>

#include "config.hpp"
#include "exit_codes.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <streambuf>

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

const char* getenv_or_null(const char* name) {
    return std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read once, before any thread
}

// A stream of `prefix` followed by what `rest` holds: the rewritten header, then the body.
class PrefixedBuf : public std::streambuf {
public:
    PrefixedBuf(const std::string& prefix, std::istream& rest)
        : prefix_(prefix)
        , rest_(rest) {}

protected:
    int_type underflow() override {
        if (offset_ < prefix_.size()) {
            const std::size_t n = std::min(buffer_.size(), prefix_.size() - offset_);
            prefix_.copy(buffer_.data(), n, offset_);
            offset_ += n;
            setg(buffer_.data(), buffer_.data(), buffer_.data() + n);
            return traits_type::to_int_type(buffer_[0]);
        }
        rest_.read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
        const auto got = rest_.gcount();
        if (got <= 0) {
            return traits_type::eof();
        }
        setg(buffer_.data(), buffer_.data(), buffer_.data() + got);
        return traits_type::to_int_type(buffer_[0]);
    }

private:
    const std::string& prefix_;
    std::istream& rest_;
    std::size_t offset_ = 0;
    std::array<char, 65536> buffer_{};
};

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

std::string display_server(const std::string& server) {
    try {
        return net::Url::parse(server).redacted();
    } catch (const Error&) {
        return server;
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
                  << (result.data_reply ? result.data_reply->to_string() : std::string()) << '\n';
    }
    for (const auto& r : result.recipients) {
        if (!r.accepted) {
            std::cerr << "missive: " << r.address << " refused: " << r.reply.to_string() << '\n';
        }
    }
    return exit_ok;
}

int fail(const Target& t, const Error& e) {
    const int code = exit_code_for(e);
    if (t.json) {
        std::cout << R"({"status":"failed","server":)" << json_string(display_server(t.server))
                  << R"(,"reply":)" << (e.reply() ? reply_json(*e.reply()) : "null")
                  << R"(,"queue_id":"","recipients":)"
                  << (e.report() ? recipients_json(*e.report()) : "[]") << R"(,"error":{"kind":)"
                  << json_string(kind_name(e.kind())) << ",\"message\":" << json_string(e.what())
                  << ",\"exit\":" << code << "}}\n";
    }
    std::cerr << "missive: " << (t.server.empty() ? "" : display_server(t.server) + ": ")
              << e.what() << '\n';
    if (e.report()) {
        for (const auto& r : e.report()->recipients) {
            std::cerr << "missive:   " << r.address << ": " << (r.accepted ? "accepted" : "refused")
                      << " " << r.reply.to_string() << '\n';
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

// A new file in the outbox: <UTC time>-<random>.eml.
std::filesystem::path outbox_file(const Target& t) {
    std::error_code ec;
    std::filesystem::create_directories(t.outbox, ec);
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::array<char, 32> stamp{};
    std::strftime(stamp.data(), stamp.size(), "%Y%m%dT%H%M%SZ", &tm);
    std::random_device random;
    std::array<char, 16> tag{};
    std::snprintf(tag.data(), tag.size(), "%08x", random());
    return t.outbox / (std::string(stamp.data()) + "-" + tag.data() + ".eml");
}

template <typename Write>
int save(const Target& t, Write&& write) {
    const auto path = outbox_file(t);
    std::ofstream out(path, std::ios::binary);
    if (out) {
        write(out);
    }
    if (!out) {
        std::cerr << "missive: cannot write " << path.string() << '\n';
        return exit_cant_create;
    }
    out.close();
    if (t.json) {
        std::cout << R"({"status":"saved","file":)" << json_string(path.string()) << "}\n";
    } else {
        std::cout << "saved to " << path.string()
                  << " (no server configured: use --server, --account or MISSIVE_SERVER)\n";
    }
    return exit_ok;
}

mime::SerializeOptions file_options(const mime::Message& m) {
    std::string domain = "missive.invalid";
    if (const auto sender = m.sender()) {
        const auto at = sender->address.rfind('@');
        if (at != std::string::npos) {
            domain = mime::to_ascii_domain(sender->address.substr(at + 1));
        }
    }
    return {.allow_8bit = false,
            .allow_utf8 = m.needs_smtputf8(),
            .date = std::chrono::system_clock::now(),
            .message_id = mime::make_message_id(domain)};
}

void print_envelope(const smtp::Envelope& e, const std::string& server) {
    std::cerr << "missive: dry run: would send from <" << e.from << "> to";
    for (const auto& r : e.to) {
        std::cerr << " <" << r.address << ">";
    }
    std::cerr << " via " << (server.empty() ? "the outbox" : display_server(server)) << '\n';
}

}  // namespace

std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (u < 0x20) {
            std::array<char, 8> buf{};
            std::snprintf(buf.data(), buf.size(), "\\u%04x", u);
            out += buf.data();
        } else {
            out += c;
        }
    }
    return out + '"';
}

Target make_target(const TargetFlags& flags, std::ostream& warnings) {
    Target t;
    t.outbox = flags.outbox;
    t.dry_run = flags.dry_run;
    t.json = flags.json;
    client::Options& o = t.options;

    const Config config = load_config(
        flags.config.empty() ? default_config_path() : std::filesystem::path(flags.config),
        warnings);
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
    if (t.server.find("://") == std::string::npos) {
        t.server = "smtp://" + t.server;
    }
    const net::Url url = net::Url::parse(t.server);  // checked now: a config error, not later
    if (url.has_password && !flags.server.empty()) {
        warnings << "missive: warning: a password on the command line can be seen by other users "
                    "(ps); use MISSIVE_PASSWORD, --password-file or --password-command\n";
    }

    std::string tls = flags.tls;
    std::string ca_file = flags.ca_file;
    std::string peer = flags.tls_peer;
    bool insecure = flags.insecure;
    std::string user = flags.user;
    double timeout = flags.timeout;
    PasswordSource password;
    if (account != nullptr) {
        tls = tls.empty() ? account->tls : tls;
        ca_file = ca_file.empty() ? account->ca_file : ca_file;
        peer = peer.empty() ? account->tls_peer : peer;
        insecure = insecure || account->insecure;
        user = user.empty() ? account->user : user;
        if (account->timeout && flags.timeout == 30) {
            timeout = *account->timeout;
        }
        password = account->password;
        t.default_from = account->from;
    }
    if (const auto mode = tls_mode(tls)) {
        o.tls = *mode;
    }
    o.tls_options.ca_file = ca_file;
    o.tls_options.peer_name = peer;
    o.tls_options.insecure_skip_verify = insecure;
    if (!(timeout > 0)) {
        throw Error(errc::config, "--timeout must be a positive number of seconds");
    }
    const auto per_operation = std::chrono::milliseconds(static_cast<std::int64_t>(timeout * 1000));
    o.connect_timeout = o.command_timeout = o.data_block_timeout = o.final_reply_timeout =
        per_operation;

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
    if (flags.trace) {
        o.trace = [](smtp::Direction d, std::string_view line) {
            std::cerr << (d == smtp::Direction::client ? "C: " : "S: ") << line << '\n';
        };
    }
    return t;
}

int deliver(const Target& t, const mime::Message& message,
            const std::optional<smtp::Envelope>& envelope) {
    try {
        if (t.dry_run || t.server.empty()) {
            const mime::SerializeOptions options = file_options(message);
            if (t.dry_run) {
                smtp::Envelope e = envelope.value_or(smtp::Envelope{});
                if (!envelope) {
                    const auto sender = message.sender();
                    e.from = sender ? sender->address : "";
                    for (const auto& r : message.recipients()) {
                        e.to.emplace_back(r.address);
                    }
                }
                print_envelope(e, t.server);
                std::cout << mime::to_string(message, options);
                return exit_ok;
            }
            mime::Serializer writer(message, options);
            return save(t, [&](std::ostream& out) {
                for (auto chunk = writer.next(); !chunk.empty(); chunk = writer.next()) {
                    out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
                }
            });
        }
        return send_with(t, [&](client::Client& c) {
            return envelope ? c.send(*envelope, message) : c.send(message);
        });
    } catch (const Error& e) {
        return fail(t, e);
    }
}

int deliver_text(const Target& t, const std::string& header, std::istream& rest,
                 const smtp::Envelope& envelope) {
    PrefixedBuf buf(header, rest);
    std::istream text(&buf);
    if (t.dry_run) {
        print_envelope(envelope, t.server);
        std::cout << text.rdbuf();
        return exit_ok;
    }
    if (t.server.empty()) {
        return save(t, [&](std::ostream& out) { out << text.rdbuf(); });
    }
    return send_with(t, [&](client::Client& c) { return c.send(envelope, text); });
}

}  // namespace missive::cli
