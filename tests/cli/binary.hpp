#pragma once

// Runs the built `missive` binary (MISSIVE_CLI) as a user would, in a scratch directory with a
// clean environment, and starts `missive capture` for tests that need a real TLS server.

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#ifndef MISSIVE_CLI
#error "MISSIVE_CLI (the path of the missive binary) must be defined"
#endif

namespace missive::cli::test {

namespace fs = std::filesystem;

struct Outcome {
    int status = -1;
    std::string out;
    std::string err;
};

inline std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/** @return a new empty directory with an empty config home (xdg/). */
inline fs::path scratch() {
    static std::mt19937_64 rng(std::random_device{}());
    const fs::path dir = fs::temp_directory_path() / ("missive-cli-" + std::to_string(rng()));
    fs::create_directories(dir / "xdg");
    return dir;
}

inline std::string quoted(const std::string& s) {
    std::string out = "'";
    for (const char c : s) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

/** @return `command` run by sh in `dir`, the environment cleared of MISSIVE_*, XDG_CONFIG_HOME
 * set to dir/xdg and XDG_STATE_HOME to dir/state (so the outbox is dir/state/missive/outbox.db);
 * `command` names the binary as `missive`. */
inline Outcome shell(const fs::path& dir, const std::string& command,
                     const std::string& input = "") {
    std::ofstream(dir / "stdin", std::ios::binary) << input;
    const std::string cmd =
        "cd " + quoted(dir.string()) + " && missive() { " + quoted(MISSIVE_CLI) +
        " \"$@\"; } && export XDG_CONFIG_HOME=" + quoted((dir / "xdg").string()) +
        " XDG_STATE_HOME=" + quoted((dir / "state").string()) +
        " && unset MISSIVE_SERVER MISSIVE_PASSWORD MISSIVE_CONFIG MISSIVE_OUTBOX && { " + command +
        "; } <stdin >stdout 2>stderr";
    const int rc = std::system(cmd.c_str());  // NOLINT(concurrency-mt-unsafe,cert-env33-c)
    Outcome r;
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    r.out = read_text(dir / "stdout");
    r.err = read_text(dir / "stderr");
    return r;
}

/** @return `missive ARGS` run in `dir` (see shell). */
inline Outcome run(const fs::path& dir, const std::string& args, const std::string& input = "") {
    return shell(dir, "missive " + args, input);
}

/** `missive capture --listen 127.0.0.1:0` in the background, stopped (SIGTERM) at the end. */
class Capture {
public:
    explicit Capture(const fs::path& dir)
        : maildir_(dir / "maildir") {
        const fs::path out = dir / "capture.out";
        const std::string cmd = quoted(MISSIVE_CLI) + " capture --listen 127.0.0.1:0 --maildir " +
                                quoted(maildir_.string()) + " >" + quoted(out.string()) +
                                " 2>&1 & echo $! >" + quoted((dir / "capture.pid").string());
        (void)std::system(cmd.c_str());  // NOLINT(concurrency-mt-unsafe,cert-env33-c)
        pid_ = std::stoi(read_text(dir / "capture.pid"));
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (port_ == 0 && std::chrono::steady_clock::now() < until) {
            const std::string text = read_text(out);
            const auto at = text.find("listening on 127.0.0.1:");
            if (at != std::string::npos && text.find(',', at) != std::string::npos) {
                port_ = std::stoi(text.substr(at + 23));
            } else {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
    }

    Capture(const Capture&) = delete;
    Capture& operator=(const Capture&) = delete;
    Capture(Capture&&) = delete;
    Capture& operator=(Capture&&) = delete;

    ~Capture() {
        // Not our child (sh started it): wait until it is gone.
        ::kill(pid_, SIGTERM);
        for (int i = 0; i < 250 && ::kill(pid_, 0) == 0; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

    [[nodiscard]] int port() const { return port_; }

    [[nodiscard]] const fs::path& maildir() const { return maildir_; }

private:
    fs::path maildir_;
    int pid_ = 0;
    int port_ = 0;
};

}  // namespace missive::cli::test
