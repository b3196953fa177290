#pragma once

// The configuration file: named accounts in TOML (see missive(1), CONFIGURATION).

#include <missive/util/secret.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace missive::cli {

/** Where an account's password comes from. */
struct PasswordSource {
    enum class Kind { none, env, file, command, literal };
    Kind kind = Kind::none;
    std::string value{};  ///< the variable, file, command or the password itself
};

/** One DKIM signature to add: `--dkim-key/--dkim-selector/--dkim-domain`, or a `dkim` table. */
struct DkimSetting {
    std::string key{};       ///< the private key's PEM file (must not be readable by others)
    std::string selector{};  ///< s=
    std::string domain{};    ///< d=
};

/** One [accounts.NAME] table. */
struct Account {
    std::string name{};
    std::string server{};  ///< a URL or host:port
    std::string user{};
    PasswordSource password{};
    std::string from{};      ///< the sender when a message names none
    std::string tls{};       ///< opportunistic, required, always, implicit, none; "" = the URL's
    std::string ca_file{};   ///< trust these CAs
    std::string tls_peer{};  ///< the name the certificate must carry
    bool insecure = false;   ///< skip certificate checks
    std::optional<double> timeout{};  ///< seconds per operation
    std::vector<DkimSetting> dkim{};  ///< `dkim = { key, selector, domain }` or an array of them
};

struct Config {
    std::filesystem::path path{};
    std::vector<Account> accounts{};
    std::string default_account{};
};

/** @return $MISSIVE_CONFIG, else $XDG_CONFIG_HOME/missive/config.toml, else
 * ~/.config/missive/config.toml */
std::filesystem::path default_config_path();

/**
 * Reads the config file. A file that does not exist is an empty config. A file that holds a
 * password or a password command must be the user's own and closed to group and others (as
 * msmtp wants): otherwise it is refused, and the message says `chmod 600 FILE`.
 * @throws Error errc::config "<file>:<line>:<column>: <what>" for TOML errors, unknown keys,
 * wrong types, a timeout out of range, an account with more than one password source, or such
 * a file that others can read or write or that another user owns
 */
Config load_config(const std::filesystem::path& path);

/**
 * @param name "" for the default account: `default`, else the only account, else none
 * @return the account, or nullptr when `name` is "" and there is no default
 * @throws Error errc::config when a named account does not exist (the message lists those that do)
 */
const Account* find_account(const Config& config, std::string_view name);

/** Bounds on a password command. */
struct CommandLimits {
    std::chrono::milliseconds time = std::chrono::seconds(30);  ///< then it is killed
    std::size_t output = std::size_t{64} * 1024;                ///< more is an error
};

/**
 * Refuses a file that holds a secret unless it is the user's own and closed to everyone else
 * (msmtp's rule for its config, opendkim's for keys), with the fix in the message.
 * @param holds what it holds, for the message ("a password or a password command")
 * @throws Error errc::config "FILE holds …, so group and others must not read or write it; run:
 * chmod 600 FILE", or when it belongs to another user or cannot be checked
 */
void check_private(const std::filesystem::path& path, std::string_view holds);

/**
 * Reads a password: an environment variable, the first line of a file, the first line a command
 * prints, or the literal. The command runs as `/bin/sh -c COMMAND` (posix_spawn) with stdin
 * from /dev/null (the message may be on ours), its stderr passed through; it must exit 0 within
 * `limits.time` (else it is killed: the shell, or what it `exec`s; it stays in our process
 * group so that it can prompt on the terminal), print at most `limits.output` octets, and print
 * something.
 * Messages never repeat the command (it may hold a secret).
 * @throws Error errc::config saying which source failed and why
 */
Secret read_password(const PasswordSource& source, const CommandLimits& limits = {});

}  // namespace missive::cli
