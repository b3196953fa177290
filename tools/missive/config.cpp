#include "config.hpp"

#include <missive/error.hpp>

#include <toml++/toml.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>

namespace missive::cli {

namespace {

const char* env(const char* name) {
    return std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read before any thread starts
}

[[noreturn]] void bad(const std::filesystem::path& path, const toml::source_region& where,
                      const std::string& what) {
    throw Error(errc::config, path.string() + ":" + std::to_string(where.begin.line) + ":" +
                                  std::to_string(where.begin.column) + ": " + what);
}

std::string string_of(const std::filesystem::path& path, const toml::node& node,
                      const std::string& key) {
    if (const auto* s = node.as_string()) {
        return s->get();
    }
    bad(path, node.source(), "'" + key + "' must be a string");
}

Account read_account(const std::filesystem::path& path, const std::string& name,
                     const toml::table& table, bool& has_literal_password) {
    Account a;
    a.name = name;
    int sources = 0;
    for (const auto& [key_node, value] : table) {
        const std::string key(key_node.str());
        std::string where = "accounts.";
        where.append(name).append(".").append(key);
        if (key == "server") {
            a.server = string_of(path, value, where);
        } else if (key == "user") {
            a.user = string_of(path, value, where);
        } else if (key == "from") {
            a.from = string_of(path, value, where);
        } else if (key == "tls") {
            a.tls = string_of(path, value, where);
            if (a.tls != "opportunistic" && a.tls != "required" && a.tls != "always" &&
                a.tls != "implicit" && a.tls != "none") {
                bad(path, value.source(),
                    "'" + where + "' must be opportunistic, required, always, implicit or none");
            }
        } else if (key == "ca_file") {
            a.ca_file = string_of(path, value, where);
        } else if (key == "tls_peer") {
            a.tls_peer = string_of(path, value, where);
        } else if (key == "insecure") {
            const auto* b = value.as_boolean();
            if (b == nullptr) {
                bad(path, value.source(), "'" + where + "' must be true or false");
            }
            a.insecure = b->get();
        } else if (key == "timeout") {
            const auto t = value.value<double>();
            if (!t || *t <= 0) {
                bad(path, value.source(), "'" + where + "' must be a positive number of seconds");
            }
            a.timeout = *t;
        } else if (key == "password" || key == "password_env" || key == "password_file" ||
                   key == "password_command") {
            ++sources;
            const auto kind = key == "password"        ? PasswordSource::Kind::literal
                              : key == "password_env"  ? PasswordSource::Kind::env
                              : key == "password_file" ? PasswordSource::Kind::file
                                                       : PasswordSource::Kind::command;
            a.password = {kind, string_of(path, value, where)};
            has_literal_password = has_literal_password || kind == PasswordSource::Kind::literal;
        } else {
            bad(path, key_node.source(),
                "unknown key '" + where +
                    "' (known: server, user, password, password_env, password_file, "
                    "password_command, from, tls, ca_file, tls_peer, insecure, timeout)");
        }
    }
    if (sources > 1) {
        bad(path, table.source(),
            "account '" + name +
                "' has more than one of password, password_env, password_file, password_command");
    }
    return a;
}

}  // namespace

std::filesystem::path default_config_path() {
    if (const char* p = env("MISSIVE_CONFIG"); p != nullptr && *p != '\0') {
        return p;
    }
    if (const char* x = env("XDG_CONFIG_HOME"); x != nullptr && *x != '\0') {
        return std::filesystem::path(x) / "missive" / "config.toml";
    }
    if (const char* h = env("HOME"); h != nullptr && *h != '\0') {
        return std::filesystem::path(h) / ".config" / "missive" / "config.toml";
    }
    return {};
}

Config load_config(const std::filesystem::path& path, std::ostream& warnings) {
    Config c;
    c.path = path;
    std::error_code ec;
    if (path.empty() || !std::filesystem::exists(path, ec)) {
        return c;
    }
    toml::table root;
    try {
        root = toml::parse_file(path.string());
    } catch (const toml::parse_error& e) {
        bad(path, e.source(), std::string(e.description()));
    }
    bool literal = false;
    for (const auto& [key_node, value] : root) {
        const std::string key(key_node.str());
        if (key == "default") {
            c.default_account = string_of(path, value, key);
        } else if (key == "accounts") {
            const auto* accounts = value.as_table();
            if (accounts == nullptr) {
                bad(path, value.source(), "'accounts' must be a table of [accounts.NAME] tables");
            }
            for (const auto& [name, account] : *accounts) {
                const auto* table = account.as_table();
                if (table == nullptr) {
                    bad(path, account.source(),
                        "'accounts." + std::string(name.str()) + "' must be a table");
                }
                c.accounts.push_back(read_account(path, std::string(name.str()), *table, literal));
            }
        } else {
            bad(path, key_node.source(), "unknown key '" + key + "' (known: default, accounts)");
        }
    }
    if (!c.default_account.empty() && find_account(c, c.default_account) == nullptr) {
        throw Error(errc::config, path.string() + ": the default account '" + c.default_account +
                                      "' is not defined");
    }

    struct stat st {};

    if (literal && ::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
        warnings << "missive: warning: " << path.string()
                 << " holds a password and is readable by others; chmod 600 " << path.string()
                 << '\n';
    }
    return c;
}

const Account* find_account(const Config& config, std::string_view name) {
    const std::string_view wanted = name.empty() ? std::string_view(config.default_account) : name;
    if (wanted.empty()) {
        return config.accounts.size() == 1 ? &config.accounts.front() : nullptr;
    }
    for (const Account& a : config.accounts) {
        if (a.name == wanted) {
            return &a;
        }
    }
    std::string known;
    for (const Account& a : config.accounts) {
        known += (known.empty() ? "" : ", ") + a.name;
    }
    throw Error(errc::config,
                "no account '" + std::string(wanted) + "' in " +
                    (config.path.empty() ? std::string("the config") : config.path.string()) +
                    (known.empty() ? " (it defines none)" : " (known: " + known + ")"));
}

Secret read_password(const PasswordSource& source) {
    switch (source.kind) {
        case PasswordSource::Kind::none:
            throw Error(errc::config, "no password source");
        case PasswordSource::Kind::literal:
            return {source.value};
        case PasswordSource::Kind::env: {
            const char* v = env(source.value.c_str());
            if (v == nullptr) {
                throw Error(errc::config, "the password variable " + source.value + " is not set");
            }
            return {v};
        }
        case PasswordSource::Kind::file: {
            std::ifstream in(source.value);
            std::string line;
            if (!in || !std::getline(in, line)) {
                throw Error(errc::config, "the password file " + source.value + " cannot be read");
            }
            if (!line.empty() && line.back() == '\r') {
                line.pop_back();
            }
            return {line};
        }
        case PasswordSource::Kind::command: {
            // stderr passes through to the user; stdout's first line is the password.
            FILE* pipe = ::popen(source.value.c_str(), "r");  // /bin/sh -c
            if (pipe == nullptr) {
                throw Error(errc::config, "the password command cannot be started");
            }
            std::string out;
            std::array<char, 512> buf{};
            std::size_t n = 0;
            while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) {
                out.append(buf.data(), n);
            }
            const int status = ::pclose(pipe);
            if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                throw Error(errc::config,
                            "the password command '" + source.value + "' failed" +
                                (WIFEXITED(status)
                                     ? " with exit status " + std::to_string(WEXITSTATUS(status))
                                     : std::string()));
            }
            out = out.substr(0, out.find('\n'));
            if (!out.empty() && out.back() == '\r') {
                out.pop_back();
            }
            if (out.empty()) {
                throw Error(errc::config,
                            "the password command '" + source.value + "' printed nothing");
            }
            return {out};
        }
    }
    throw Error(errc::config, "no password source");
}

}  // namespace missive::cli
