#include "config.hpp"

#include <missive/error.hpp>

#include <toml++/toml.h>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <system_error>

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, for posix_spawn

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

// `dkim = { key = "…", selector = "…", domain = "…" }`, or an array of such tables (one
// signature each: Ed25519 and RSA together, say).
void read_dkim(const std::filesystem::path& path, const std::string& where, const toml::node& value,
               std::vector<DkimSetting>& out) {
    auto one = [&](const toml::node& node, const std::string& at) {
        const auto* table = node.as_table();
        if (table == nullptr) {
            bad(path, node.source(),
                "'" + at + "' must be a table { key = FILE, selector = S, domain = D }");
        }
        DkimSetting d;
        for (const auto& [k, v] : *table) {
            const std::string name(k.str());
            if (name == "key") {
                d.key = string_of(path, v, at + ".key");
            } else if (name == "selector") {
                d.selector = string_of(path, v, at + ".selector");
            } else if (name == "domain") {
                d.domain = string_of(path, v, at + ".domain");
            } else {
                std::string what = "unknown key '";
                what.append(at).append(".").append(name).append("' (known: key, selector, domain)");
                bad(path, k.source(), what);
            }
        }
        if (d.key.empty() || d.selector.empty() || d.domain.empty()) {
            bad(path, node.source(), "'" + at + "' needs key, selector and domain");
        }
        out.push_back(std::move(d));
    };
    if (const auto* array = value.as_array()) {
        for (std::size_t i = 0; i < array->size(); ++i) {
            one(*array->get(i), where + "[" + std::to_string(i) + "]");
        }
    } else {
        one(value, where);
    }
}

Account read_account(const std::filesystem::path& path, const std::string& name,
                     const toml::table& table, bool& has_secret) {
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
            // The same range as --timeout: not inf, nan, 1e300, 0 or negative.
            if (!t || !std::isfinite(*t) || *t < 0.001 || *t > 86400) {
                bad(path, value.source(),
                    "'" + where + "' must be a number of seconds from 0.001 to 86400");
            }
            a.timeout = *t;
        } else if (key == "dkim") {
            read_dkim(path, where, value, a.dkim);
        } else if (key == "password" || key == "password_env" || key == "password_file" ||
                   key == "password_command") {
            ++sources;
            const auto kind = key == "password"        ? PasswordSource::Kind::literal
                              : key == "password_env"  ? PasswordSource::Kind::env
                              : key == "password_file" ? PasswordSource::Kind::file
                                                       : PasswordSource::Kind::command;
            a.password = {kind, string_of(path, value, where)};
            // A password, or a command whose text may hold one (and that anyone who can write
            // the file could replace).
            has_secret = has_secret || kind == PasswordSource::Kind::literal ||
                         kind == PasswordSource::Kind::command;
        } else {
            bad(path, key_node.source(),
                "unknown key '" + where +
                    "' (known: server, user, password, password_env, password_file, "
                    "password_command, from, tls, ca_file, tls_peer, insecure, timeout, dkim)");
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

void check_private(const std::filesystem::path& path, std::string_view holds) {
    struct stat st {};

    if (::stat(path.c_str(), &st) != 0) {
        throw Error(errc::config, path.string() + " cannot be checked: " +
                                      std::generic_category().message(errno));
    }
    if (st.st_uid != ::geteuid()) {
        throw Error(errc::config, path.string() + " holds " + std::string(holds) +
                                      " and belongs to another user; copy it to a file of your "
                                      "own and chmod 600 it");
    }
    if ((st.st_mode & 077) != 0) {
        throw Error(errc::config, path.string() + " holds " + std::string(holds) +
                                      ", so group and others must not read or write it; run: "
                                      "chmod 600 " +
                                      path.string());
    }
}

namespace {

// Closes a descriptor when it goes out of scope.
class FdCloser {
public:
    explicit FdCloser(int fd)
        : fd_(fd) {}

    FdCloser(const FdCloser&) = delete;
    FdCloser& operator=(const FdCloser&) = delete;
    FdCloser(FdCloser&&) = delete;
    FdCloser& operator=(FdCloser&&) = delete;

    ~FdCloser() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }

private:
    int fd_;
};

// Runs `/bin/sh -c command` without a shell of ours in between (no popen): stdin from
// /dev/null, stdout to a pipe we read, stderr passed through.
std::string run_password_command(const std::string& command, const CommandLimits& limits) {
    std::array<int, 2> pipe_fds{};
    if (::pipe2(pipe_fds.data(), O_CLOEXEC) != 0) {
        throw Error(errc::config, "the password command cannot be started: " +
                                      std::generic_category().message(errno));
    }
    FdCloser read_end(pipe_fds[0]);
    pid_t pid = 0;
    {
        FdCloser write_end(pipe_fds[1]);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
        std::string sh = "/bin/sh";
        std::string dash_c = "-c";
        std::string text = command;
        std::array<char*, 4> argv{sh.data(), dash_c.data(), text.data(), nullptr};
        const int rc = ::posix_spawn(&pid, sh.c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) {
            throw Error(errc::config, "the password command cannot be started: " +
                                          std::generic_category().message(rc));
        }
    }
    // Read until EOF, the time limit or the output limit; kill the command on either limit.
    std::array<char, 32> seconds{};
    std::snprintf(seconds.data(), seconds.size(), "%g",
                  static_cast<double>(limits.time.count()) / 1000);
    const std::string too_slow =
        "did not finish within " + std::string(seconds.data()) + " s and was killed";
    std::string out;
    std::string problem;
    const auto deadline = std::chrono::steady_clock::now() + limits.time;
    std::array<char, 4096> buf{};
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            problem = too_slow;
            break;
        }
        pollfd p{pipe_fds[0], POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready == 0) {
            continue;  // the deadline check above ends it
        }
        const ssize_t n = ::read(pipe_fds[0], buf.data(), buf.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;  // EOF (or an error: the exit status tells)
        }
        out.append(buf.data(), static_cast<std::size_t>(n));
        if (out.size() > limits.output) {
            problem =
                "printed more than " + std::to_string(limits.output) + " octets and was killed";
            break;
        }
    }
    // Its output has ended; it must also exit in time (it may have closed stdout and go on).
    int status = 0;
    bool killed = false;
    for (;;) {
        if (!problem.empty() && !killed) {
            ::kill(pid, SIGKILL);
            killed = true;
        }
        const pid_t done = ::waitpid(pid, &status, killed ? 0 : WNOHANG);
        if (done == pid || (done < 0 && errno != EINTR)) {
            break;
        }
        if (done == 0) {
            if (std::chrono::steady_clock::now() >= deadline) {
                problem = too_slow;
            } else {
                ::poll(nullptr, 0, 10);  // look again in 10 ms
            }
        }
    }
    if (!problem.empty()) {
        throw Error(errc::config, "the password command " + problem);
    }
    if (WIFSIGNALED(status)) {
        throw Error(errc::config, "the password command was killed by signal " +
                                      std::to_string(WTERMSIG(status)));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw Error(errc::config, "the password command failed with exit status " +
                                      std::to_string(WEXITSTATUS(status)));
    }
    return out;
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

Config load_config(const std::filesystem::path& path) {
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
    bool secret = false;
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
                c.accounts.push_back(read_account(path, std::string(name.str()), *table, secret));
            }
        } else {
            bad(path, key_node.source(), "unknown key '" + key + "' (known: default, accounts)");
        }
    }
    if (!c.default_account.empty() && find_account(c, c.default_account) == nullptr) {
        throw Error(errc::config, path.string() + ": the default account '" + c.default_account +
                                      "' is not defined");
    }

    if (secret) {
        check_private(path, "a password or a password command");
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

Secret read_password(const PasswordSource& source, const CommandLimits& limits) {
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
            std::string out = run_password_command(source.value, limits);
            out = out.substr(0, out.find('\n'));
            if (!out.empty() && out.back() == '\r') {
                out.pop_back();
            }
            if (out.empty()) {
                throw Error(errc::config, "the password command printed nothing");
            }
            return {out};
        }
    }
    throw Error(errc::config, "no password source");
}

}  // namespace missive::cli
