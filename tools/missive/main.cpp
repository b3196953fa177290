// missive: send mail from the command line (`send`), be the `sendmail` of other programs, or
// catch mail during development (`capture`). See `missive --help` and missive(1).
#include "advice.hpp"
#include "commands.hpp"
#include "config.hpp"
#include "exit_codes.hpp"
#include "failure.hpp"
#include "text.hpp"

#include <CLI/CLI.hpp>
#include <openssl/crypto.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#ifndef MISSIVE_VERSION
#error "MISSIVE_VERSION (the project's version) must be defined"
#endif

namespace {

// What msmtp --version tells: the version, the TLS library, and the config file it would read.
std::string version_text() {
    const std::filesystem::path config = missive::cli::default_config_path();
    std::error_code ec;
    return std::string("missive ") + MISSIVE_VERSION +
           "\nTLS library: " + OpenSSL_version(OPENSSL_VERSION) +
           "\nconfig file: " + config.string() +
           (std::filesystem::exists(config, ec) ? "" : " (not found)");
}

std::vector<std::string> subcommand_names(const CLI::App& app) {
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands({})) {
        names.push_back(sub->get_name());
    }
    return names;
}

// A parse error in words a person can act on: the unknown command or option, and what was
// probably meant. nullopt when the mistake is another one (CLI11's message says it).
std::optional<std::string> misspelling(const CLI::App& app, int argc, char** argv) {
    const CLI::App* cmd = nullptr;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--") {
            break;
        }
        if (cmd == nullptr && !arg.starts_with("-")) {
            for (const CLI::App* sub : app.get_subcommands({})) {
                cmd = sub->get_name() == arg ? sub : cmd;
            }
            if (cmd == nullptr) {
                const auto guess = missive::cli::closest(arg, subcommand_names(app));
                return "unknown command '" + std::string(arg) + "'" +
                       (guess ? "; did you mean '" + *guess + "'?" : " (see missive --help)");
            }
            continue;
        }
        if (cmd == nullptr || !arg.starts_with("--")) {
            continue;
        }
        const std::string name(arg.substr(0, arg.find('=')));
        if (cmd->get_option_no_throw(name) != nullptr) {
            continue;
        }
        std::vector<std::string> known;
        for (const CLI::Option* o : cmd->get_options()) {
            for (const std::string& l : o->get_lnames()) {
                known.push_back("--" + l);
            }
        }
        const auto guess = missive::cli::closest(name, known);
        return "unknown option '" + name + "'" +
               (guess ? "; did you mean '" + *guess + "'?"
                      : " (see missive " + cmd->get_name() + " --help)");
    }
    return std::nullopt;
}

int run(int argc, char** argv) {
    const std::string_view self = argc > 0 ? std::string_view(argv[0]) : "missive";
    const std::string_view base = self.substr(self.rfind('/') + 1);
    if (base == "sendmail") {
        return missive::cli::run_sendmail(argc, argv);
    }
    if (argc > 1 && std::strcmp(argv[1], "sendmail") == 0) {
        return missive::cli::run_sendmail(argc - 1, argv + 1);
    }
    CLI::App app(
        "missive: send e-mail over SMTP, and catch it during development.\n"
        "Subcommands: send, sendmail (the sendmail interface, see `missive sendmail "
        "--help`), queue, deliver (the outbox), capture, dkim, completion. Exit status per "
        "sysexits.h; see missive(1).",
        "missive");
    app.require_subcommand(1);
    app.set_version_flag("-V,--version", version_text);
    int status = missive::cli::exit_ok;
    missive::cli::add_send(app, status);
    missive::cli::add_queue(app, status);
    missive::cli::add_deliver(app, status);
    missive::cli::add_capture(app, status);
    missive::cli::add_dkim(app, status);
    app.add_subcommand("sendmail",
                       "The sendmail interface: -t -i -f -F -v, recipients, message "
                       "on stdin (see `missive sendmail --help`)")
        ->allow_extras()
        ->prefix_command();
    missive::cli::add_completion(app, status);  // last: it describes all of the above
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) {
            return app.exit(e);  // --help, --version
        }
        bool json = false;
        for (int i = 1; i < argc; ++i) {
            json = json || std::strcmp(argv[i], "--json") == 0;
        }
        const std::string message = misspelling(app, argc, argv).value_or(e.what());
        missive::cli::report_failure(json, "usage", message, missive::cli::exit_usage);
        std::cerr << "Run with --help for more information.\n";
        return missive::cli::exit_usage;
    }
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    // A file size limit (ulimit -f) reached while writing the outbox or a file is an error
    // (EFBIG) that is reported with exit 73 and leaves nothing half-stored, not a signal that
    // kills the process mid-write.
    std::signal(SIGXFSZ, SIG_IGN);
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        // Every failure the subcommands expect is handled there; this is the last resort.
        std::cerr << "missive: " << missive::cli::printable(e.what()) << '\n';
        return missive::cli::exit_software;
    }
}
