// missive: send mail from the command line (`send`), be the `sendmail` of other programs, or
// catch mail during development (`capture`). See `missive --help` and missive(1).
#include "commands.hpp"
#include "exit_codes.hpp"
#include "text.hpp"

#include <CLI/CLI.hpp>

#include <cstring>
#include <iostream>
#include <string_view>

namespace {

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
        "--help`), capture. Exit status per sysexits.h; see missive(1).",
        "missive");
    app.require_subcommand(1);
    app.set_version_flag("--version", "missive 0.1");
    int status = missive::cli::exit_ok;
    missive::cli::add_send(app, status);
    missive::cli::add_capture(app, status);
    missive::cli::add_dkim(app, status);
    app.add_subcommand("sendmail",
                       "The sendmail interface: -t -i -f -F -v, recipients, message "
                       "on stdin (see `missive sendmail --help`)")
        ->allow_extras()
        ->prefix_command();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? missive::cli::exit_ok : missive::cli::exit_usage;
    }
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        // Every failure the subcommands expect is handled there; this is the last resort.
        std::cerr << "missive: " << missive::cli::printable(e.what()) << '\n';
        return missive::cli::exit_software;
    }
}
