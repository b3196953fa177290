// missive send: compose a message from flags, or send a ready one (--message FILE|-).
#include <missive/client/prepare.hpp>
#include <missive/error.hpp>
#include <missive/mime/builder.hpp>

#include "advice.hpp"
#include "commands.hpp"
#include "deliver.hpp"
#include "exit_codes.hpp"
#include "failure.hpp"
#include "message_input.hpp"
#include "text.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <system_error>

namespace missive::cli {

namespace {

struct SendFlags {
    TargetFlags target;
    std::string from;
    std::vector<std::string> to, cc, bcc, attach, inline_files, headers, add_headers;
    std::string subject, text, text_file, html_file, message;
};

// Throws InputError (exit 66) with the OS's reason when `path` cannot be read: checked before
// anything is built or sent, so a missing --attach never reaches a server.
void check_readable(const std::string& path, std::string_view flag) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        ec = std::make_error_code(std::errc::is_a_directory);
    } else if (const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC); fd < 0) {
        ec = std::error_code(errno, std::generic_category());
    } else {
        ::close(fd);
    }
    if (ec) {
        throw InputError(std::string(flag) + " '" + path +
                         "' cannot be read: " + std::generic_category().message(ec.value()));
    }
}

std::string read_file(const std::string& path, std::string_view flag) {
    check_readable(path, flag);
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    if (in.bad()) {
        throw InputError(std::string(flag) + " '" + path + "' cannot be read");
    }
    return s.str();
}

using AddAddresses = mime::Builder& (mime::Builder::*)(std::string_view);

// Adds an address flag's list, with advice when it does not parse ("did you mean …?").
void add_addresses(mime::Builder& b, AddAddresses add, const std::string& list) {
    try {
        (b.*add)(list);
    } catch (const Error& e) {
        const std::string advice = address_advice(list);
        throw Error(e.kind(), std::string(e.what()) + (advice.empty() ? "" : "; " + advice));
    }
}

// A --header or --add-header 'Name: value' split in two. Fields missive writes itself, and
// Bcc (never written), are refused with the flag that does it.
std::pair<std::string, std::string> split_header(const std::string& h, const std::string& flag) {
    const auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
        throw UsageError(flag + " must be 'Name: value', not '" + h + "'");
    }
    std::string name = h.substr(0, colon);
    std::string value = h.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    for (const char* own :
         {"Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "MIME-Version"}) {
        if (mime::iequals(name, own)) {
            std::string what = flag;
            what.append(" '").append(name).append(
                ": …': missive writes this field itself; for an HTML body use --html-file FILE "
                "(with --text for a plain-text alternative), for a file --attach FILE");
            throw UsageError(what);
        }
    }
    if (mime::iequals(name, "Bcc")) {
        throw UsageError(flag + " 'Bcc: …': a Bcc field is never written; use --bcc");
    }
    return {std::move(name), std::move(value)};
}

int compose_and_send(const SendFlags& f, const Target& target) {
    mime::Builder b;
    const std::string& from = f.from.empty() ? target.default_from : f.from;
    if (from.empty()) {
        throw UsageError("--from is required (or `from` in the account)");
    }
    if (f.to.empty() && f.cc.empty() && f.bcc.empty()) {
        throw UsageError("no recipient: give --to, --cc or --bcc");
    }
    std::vector<std::pair<std::string, std::string>> replaced;
    std::vector<std::pair<std::string, std::string>> added;
    for (const auto& h : f.headers) {
        replaced.push_back(split_header(h, "--header"));
    }
    for (const auto& h : f.add_headers) {
        added.push_back(split_header(h, "--add-header"));
    }
    for (const auto& path : f.inline_files) {
        check_readable(path, "--inline");
    }
    for (const auto& path : f.attach) {
        check_readable(path, "--attach");
    }
    add_addresses(b, &mime::Builder::from, from);
    for (const auto& a : f.to) {
        add_addresses(b, &mime::Builder::to, a);
    }
    for (const auto& a : f.cc) {
        add_addresses(b, &mime::Builder::cc, a);
    }
    for (const auto& a : f.bcc) {
        add_addresses(b, &mime::Builder::bcc, a);
    }
    b.subject(f.subject);
    if (!f.text.empty() || !f.text_file.empty() || f.html_file.empty()) {
        b.text(f.text_file.empty() ? f.text : read_file(f.text_file, "--text-file"));
    }
    if (!f.html_file.empty()) {
        b.html(read_file(f.html_file, "--html-file"));
    }
    for (const auto& path : f.inline_files) {
        b.inline_file(path, std::filesystem::path(path).filename().string());
    }
    for (const auto& path : f.attach) {
        b.attach_file(path);
    }
    mime::Message message = b.build();
    // The envelope comes from the flags: a --header that replaces To or From (swaks' --header)
    // changes what is written, not who gets it.
    const smtp::Envelope envelope = client::envelope_of(message);
    for (auto& [name, value] : replaced) {
        message.headers.set(std::move(name), std::move(value));
    }
    for (auto& [name, value] : added) {
        message.headers.add(std::move(name), std::move(value));
    }
    return deliver(target, message, envelope);
}

// Closes the descriptor of a --message FILE.
struct Fd {
    int fd = -1;
    Fd() = default;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&&) = delete;
    Fd& operator=(Fd&&) = delete;

    ~Fd() {
        if (fd > 2) {
            ::close(fd);
        }
    }
};

int send_ready(const SendFlags& f, const Target& target) {
    Fd file;
    if (f.message == "-") {
        file.fd = 0;
    } else {
        file.fd = ::open(f.message.c_str(), O_RDONLY | O_CLOEXEC);
        if (file.fd < 0) {
            throw InputError("--message '" + f.message +
                             "' cannot be read: " + std::generic_category().message(errno));
        }
    }
    InputBuf buf(file.fd, f.message == "-" ? "standard input" : "'" + f.message + "'");
    std::istream in(&buf);
    in.exceptions(std::ios::badbit);  // a read error throws InputError, never looks like EOF
    std::vector<std::string> recipients = f.to;
    recipients.insert(recipients.end(), f.cc.begin(), f.cc.end());
    recipients.insert(recipients.end(), f.bcc.begin(), f.bcc.end());
    ReadyMessage ready =
        read_ready_message(in, recipients, f.from.empty() ? target.default_from : f.from);
    return deliver_text(target, ready.header, in, ready.envelope);
}

}  // namespace

void add_send(CLI::App& app, int& status) {
    auto flags = std::make_shared<SendFlags>();
    CLI::App* cmd = app.add_subcommand(
        "send",
        "Send a message composed from flags, or a ready one (--message). With no server "
        "configured (--server, --account, MISSIVE_SERVER or a default account) the message is "
        "saved as a .eml file in the outbox instead.");
    SendFlags& f = *flags;
    cmd->add_option("--from", f.from, "Sender, e.g. 'Ada <ada@example.org>'");
    cmd->add_option("--to", f.to, "Recipient (repeatable; a comma-separated list works too)");
    cmd->add_option("--cc", f.cc, "Copy recipient (repeatable)");
    cmd->add_option("--bcc", f.bcc, "Blind copy: envelope only, never in the headers (repeatable)");
    cmd->add_option("--subject", f.subject, "Subject (any language)");
    cmd->add_option("--text", f.text, "The text/plain body");
    cmd->add_option("--text-file", f.text_file, "Read the text/plain body from FILE");
    cmd->add_option("--html-file", f.html_file, "Read an HTML body from FILE");
    cmd->add_option("--attach", f.attach, "Attach FILE, streamed from disk (repeatable)");
    cmd->add_option("--inline", f.inline_files,
                    "Inline FILE for the HTML, referenced as cid:<file name> (repeatable)");
    cmd->add_option("--header", f.headers,
                    "Header field 'Name: value', replacing one of that name (Subject, To …: what "
                    "is written, not who gets it); repeatable");
    cmd->add_option("--add-header", f.add_headers,
                    "Header field 'Name: value' added beside any of that name (repeatable)");
    cmd->add_option("--message", f.message,
                    "Send a ready message from FILE or - (stdin); recipients from its To/Cc/Bcc "
                    "unless --to/--cc/--bcc are given; Bcc is removed");
    TargetFlags& t = f.target;
    cmd->add_option("--server", t.server,
                    "Server URL: smtp://, submission:// (587, STARTTLS), smtps:// (465), lmtp:// "
                    "… or host:port");
    cmd->add_option("--account", t.account, "Account from the config file");
    cmd->add_option("--config", t.config,
                    "Config file (default $XDG_CONFIG_HOME/missive/config.toml)");
    cmd->add_option("--tls", t.tls,
                    "When to encrypt: opportunistic (STARTTLS when offered), required (STARTTLS "
                    "or fail: then only EHLO, STARTTLS and QUIT went in clear), always (STARTTLS "
                    "even when not offered), implicit (TLS from the first byte), none. Precedence: "
                    "--tls, else the account's tls, else the URL's scheme (smtp:// opportunistic, "
                    "submission:// required, smtps:// implicit); a mode that contradicts the "
                    "scheme (smtps:// with anything but implicit, submission:// with less than "
                    "required) exits 78")
        ->check(CLI::IsMember({"opportunistic", "required", "always", "implicit", "none"}));
    cmd->add_option("--ca-file", t.ca_file, "Trust the CAs in FILE (PEM) instead of the system's");
    cmd->add_option("--tls-peer", t.tls_peer, "Name the server's certificate must carry");
    cmd->add_flag("--insecure", t.insecure, "Do not check the server's certificate (insecure)");
    cmd->add_option("--user", t.user,
                    "Log in as USER; password from MISSIVE_PASSWORD, "
                    "--password-file or --password-command");
    cmd->add_option("--password-file", t.password_file, "Read the password from FILE");
    cmd->add_option("--password-command", t.password_command,
                    "Run CMD (sh -c, stdin from /dev/null, at most 30 s and 64 KiB of output) and "
                    "use the first line it prints as the password");
    const auto seconds = CLI::Validator(
        [](const std::string& value) -> std::string {
            return parse_seconds(value)
                       ? std::string()
                       : "must be a number of seconds from 0.001 to 86400, not '" + value + "'";
        },
        "SECONDS", "seconds");
    cmd->add_option("--timeout", t.timeout,
                    "Seconds each wait may take: connecting, each reply, each write of message "
                    "data, the reply to the end of the data. Default: the account's timeout, "
                    "else RFC 5321's limits (connect 30 s, each reply 5 min, each data write "
                    "3 min, the final reply 10 min)")
        ->check(seconds);
    cmd->add_option("--dkim-key", t.dkim_key,
                    "Sign with DKIM using the private key in FILE (PEM, RSA or Ed25519, mode "
                    "0600; `missive dkim keygen` makes one). Repeatable: one signature per key");
    cmd->add_option("--dkim-selector", t.dkim_selector,
                    "The DKIM selector (s=): once for every key, or once per --dkim-key");
    cmd->add_option("--dkim-domain", t.dkim_domain,
                    "The DKIM signing domain (d=): once for every key, or once per --dkim-key");
    cmd->add_option("--max-time", t.max_time,
                    "Seconds the whole run may take (connect, log in, send), whatever --timeout "
                    "allows; default: no overall limit")
        ->check(seconds);
    cmd->add_flag("-v,--trace", t.trace,
                  "Print the SMTP dialogue on stderr (credentials redacted)");
    cmd->add_flag("--dry-run", t.dry_run, "Print the message that would be sent, send nothing");
    cmd->add_flag("--json", t.json, "Print the outcome as one JSON object on stdout");
    cmd->add_option("--outbox", t.outbox, "Folder for messages when no server is configured")
        ->capture_default_str();
    cmd->callback([flags, &status] {
        const bool json = flags->target.json;
        try {
            const Target target = make_target(flags->target, std::cerr);
            status = flags->message.empty() ? compose_and_send(*flags, target)
                                            : send_ready(*flags, target);
        } catch (const Error& e) {
            status = report_failure(json, kind_name(e.kind()), e.what(), exit_code_for(e));
        } catch (const UsageError& e) {
            status = report_failure(json, "usage", e.what(), exit_usage);
        } catch (const InputError& e) {
            status = report_failure(json, "no_input", std::string(e.what()) + "; nothing was sent",
                                    exit_no_input);
        }
    });
}

}  // namespace missive::cli
