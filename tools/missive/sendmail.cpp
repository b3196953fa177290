// The sendmail interface: what programs that send mail call (`sendmail -t -i`, `sendmail -f
// sender rcpt…`), with sendmail's own option syntax, which CLI11 does not speak.
#include <missive/error.hpp>
#include <missive/mime/address.hpp>
#include <missive/mime/message.hpp>

#include "commands.hpp"
#include "deliver.hpp"
#include "exit_codes.hpp"
#include "message_input.hpp"
#include "text.hpp"

#include <pwd.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace missive::cli {

namespace {

constexpr std::string_view usage =
    "usage: missive sendmail [-t] [-i|-oi] [-f sender] [-F full-name] [-v] [recipient …]\n"
    "       (or this program installed as `sendmail`)\n"
    "Reads a message on stdin and sends it.\n"
    "  -t            recipients from the To, Cc and Bcc fields too (Bcc is removed)\n"
    "  -i, -oi       a line with a single dot does not end the message\n"
    "  -f ADDR       envelope sender (default: the message's Sender or From)\n"
    "  -F NAME       full name for a From field the message lacks\n"
    "  -v            print the SMTP dialogue on stderr\n"
    "  -oX, -B, -N, -R, -V, -bm, -G, -U, -h N: accepted and ignored\n"
    "The server comes from MISSIVE_SERVER or the config file's default account (see missive(1));\n"
    "without one the message is stored in the outbox (MISSIVE_OUTBOX, else\n"
    "$XDG_STATE_HOME/missive/outbox.db, else ~/.local/state/missive/outbox.db), and so is what a\n"
    "temporary failure leaves undelivered; `missive deliver` sends it. Exit status per\n"
    "sysexits.h (0 once the message is sent or queued).\n";

struct Args {
    bool from_headers = false;
    bool dots_end = true;
    std::string sender;
    std::string full_name;
    bool verbose = false;
    std::vector<std::string> recipients;
};

// @return nullopt when the command line was handled (help) or is wrong; `status` says which
std::optional<Args> parse(int argc, char** argv, int& status) {
    Args a;
    bool options = true;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (!options || arg.size() < 2 || arg[0] != '-') {
            a.recipients.emplace_back(arg);
            continue;
        }
        // An option that takes a value: "-fADDR" or "-f ADDR".
        const auto value = [&](std::string& out) {
            if (arg.size() > 2) {
                out = std::string(arg.substr(2));
                return true;
            }
            if (i + 1 < argc) {
                out = argv[++i];
                return true;
            }
            std::cerr << "missive sendmail: " << printable(arg) << " needs a value\n" << usage;
            status = exit_usage;
            return false;
        };
        std::string ignored;
        if (arg == "--") {
            options = false;
        } else if (arg == "--help") {
            std::cout << usage;
            status = exit_ok;
            return std::nullopt;
        } else if (arg == "-t") {
            a.from_headers = true;
        } else if (arg == "-i" || arg == "-oi") {
            a.dots_end = false;
        } else if (arg == "-v") {
            a.verbose = true;
        } else if (arg[1] == 'f' || arg[1] == 'r') {  // -r is the old name of -f
            if (!value(a.sender)) {
                return std::nullopt;
            }
        } else if (arg[1] == 'F') {
            if (!value(a.full_name)) {
                return std::nullopt;
            }
        } else if (arg[1] == 'B' || arg[1] == 'N' || arg[1] == 'R' || arg[1] == 'V' ||
                   arg[1] == 'h' || arg[1] == 'L' || arg[1] == 'O') {
            if (!value(ignored)) {
                return std::nullopt;
            }
        } else if (arg[1] == 'o' || arg == "-bm" || arg == "-G" || arg == "-U" || arg == "-em" ||
                   arg == "-ep" || arg == "-eq" || arg == "-m" || arg == "-n") {
            // -oXvalue options and other historic switches change nothing here.
        } else {
            std::cerr << "missive sendmail: option " << printable(arg) << " is not supported\n"
                      << usage;
            status = exit_usage;
            return std::nullopt;
        }
    }
    return a;
}

// The sender of last resort, as sendmail has it: the login name at this host.
std::string login_address() {
    const passwd* pw = getpwuid(getuid());  // NOLINT(concurrency-mt-unsafe): one thread here
    std::array<char, 256> host{};
    if (pw == nullptr || gethostname(host.data(), host.size() - 1) != 0) {
        return {};
    }
    return std::string(pw->pw_name) + "@" + host.data();
}

// The body up to a line with a single dot (sendmail without -i).
std::string read_until_dot(std::istream& in) {
    std::string body;
    std::string line;
    while (std::getline(in, line)) {
        if (line == "." || line == ".\r") {
            break;
        }
        body += line;
        body += '\n';
    }
    return body;
}

}  // namespace

int run_sendmail(int argc, char** argv) {
    int status = exit_ok;
    const std::optional<Args> args = parse(argc, argv, status);
    if (!args) {
        return status;
    }
    if (!args->from_headers && args->recipients.empty()) {
        std::cerr << "missive sendmail: no recipients (give them as arguments, or use -t)\n";
        return exit_usage;
    }
    TargetFlags flags;
    flags.trace = args->verbose;
    Target target;
    try {
        target = make_target(flags, std::cerr);
        target.queue_on_failure = true;
        // Standard input through InputBuf: a read error is an error (exit 66), never an end.
        InputBuf stdin_buf(0, "standard input");
        std::istream input(&stdin_buf);
        input.exceptions(std::ios::badbit);
        std::istringstream dotted;
        std::istream* in = &input;
        if (args->dots_end) {
            dotted.str(read_until_dot(input));
            in = &dotted;
        }
        const std::string sender = args->sender.empty() ? target.default_from : args->sender;
        ReadyMessage ready =
            read_ready_message(*in, args->recipients, sender, args->from_headers, login_address());
        // Fields a message handed to sendmail may lack; an MTA would add them too.
        std::string added;
        if (!ready.has_from) {
            mime::Mailbox from{args->full_name, ready.envelope.from};
            added += "From: " + mime::format_mailbox(from) + "\r\n";
        }
        if (!ready.has_date) {
            added += "Date: " + mime::format_date(std::chrono::system_clock::now()) + "\r\n";
        }
        if (!ready.has_message_id) {
            const auto at = ready.envelope.from.rfind('@');
            added += "Message-ID: " +
                     mime::make_message_id(
                         at == std::string::npos ? "" : ready.envelope.from.substr(at + 1)) +
                     "\r\n";
        }
        return deliver_text(target, added + ready.header, *in, ready.envelope);
    } catch (const Error& e) {
        std::cerr << "missive sendmail: " << printable(e.what()) << '\n';
        return exit_code_for(e);
    } catch (const InputError& e) {
        std::cerr << "missive sendmail: " << printable(e.what()) << "; nothing was sent\n";
        return exit_no_input;
    }
}

}  // namespace missive::cli
