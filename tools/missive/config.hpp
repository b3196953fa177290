#pragma once

// The configuration file: named accounts in TOML (see missive(1), CONFIGURATION).

#include <missive/util/secret.hpp>

#include <filesystem>
#include <optional>
#include <ostream>
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
 * literal password and that group or others can read gets a warning on `warnings`.
 * @throws Error errc::config "<file>:<line>:<column>: <what>" for TOML errors, unknown keys,
 * wrong types, or an account with more than one password source
 */
Config load_config(const std::filesystem::path& path, std::ostream& warnings);

/**
 * @param name "" for the default account: `default`, else the only account, else none
 * @return the account, or nullptr when `name` is "" and there is no default
 * @throws Error errc::config when a named account does not exist (the message lists those that do)
 */
const Account* find_account(const Config& config, std::string_view name);

/**
 * Reads a password: an environment variable, the first line of a file, the first line a command
 * prints (run with /bin/sh -c; it must exit 0 and print something), or the literal.
 * @throws Error errc::config saying which source failed and why
 */
Secret read_password(const PasswordSource& source);

}  // namespace missive::cli
