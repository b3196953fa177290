#include "deliver.hpp"
#include "outbox_store.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace missive::cli {

void add_target_flags(CLI::App& app, TargetFlags& t) {
    CLI::App* cmd = &app;
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
}

void add_outbox_flag(CLI::App& app, std::string& outbox) {
    app.add_option("--outbox", outbox,
                   "The outbox: an SQLite file, or a postgresql:// URL (default MISSIVE_OUTBOX, "
                   "else $XDG_STATE_HOME/missive/outbox.db, else "
                   "~/.local/state/missive/outbox.db)")
        ->type_name("FILE|URL");
}

}  // namespace missive::cli
