// missive send: compose a message from flags, or send a ready one (--message FILE|-).
#include <missive/client/prepare.hpp>
#include <missive/error.hpp>
#include <missive/mime/builder.hpp>

#include "commands.hpp"
#include "compose.hpp"
#include "deliver.hpp"
#include "exit_codes.hpp"
#include "failure.hpp"
#include "message_input.hpp"
#include "send_batch.hpp"
#include "text.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
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
    BatchFlags batch;
};

// --batch takes every message from its file: the flags that make one message have no place.
void check_batch_flags(const SendFlags& f) {
    const std::array<std::pair<bool, const char*>, 14> single{{
        {!f.to.empty(), "--to"},
        {!f.cc.empty(), "--cc"},
        {!f.bcc.empty(), "--bcc"},
        {!f.subject.empty(), "--subject"},
        {!f.text.empty(), "--text"},
        {!f.text_file.empty(), "--text-file"},
        {!f.html_file.empty(), "--html-file"},
        {!f.attach.empty(), "--attach"},
        {!f.inline_files.empty(), "--inline"},
        {!f.headers.empty(), "--header"},
        {!f.add_headers.empty(), "--add-header"},
        {!f.message.empty(), "--message"},
        {f.target.dry_run, "--dry-run"},
        {!f.target.idempotency_key.empty(), "--idempotency-key"},
    }};
    for (const auto& [given, flag] : single) {
        if (given) {
            throw UsageError(std::string(flag) +
                             " cannot go with --batch: each line of the batch says it");
        }
    }
}

int compose_and_send(const SendFlags& f, const Target& target) {
    MessageSpec spec;
    spec.from = f.from;
    spec.to = f.to;
    spec.cc = f.cc;
    spec.bcc = f.bcc;
    spec.subject = f.subject;
    spec.text = f.text;
    spec.text_file = f.text_file;
    spec.html_file = f.html_file;
    spec.attach = f.attach;
    spec.inline_files = f.inline_files;
    for (const auto& h : f.headers) {
        spec.headers.push_back(split_header(h, "--header"));
    }
    for (const auto& h : f.add_headers) {
        spec.add_headers.push_back(split_header(h, "--add-header"));
    }
    const Composed c = compose(spec, target.default_from);
    return deliver(target, c.message, c.envelope);
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
        "Send a message composed from flags, a ready one (--message), or a batch of them "
        "(--batch FILE.jsonl). With no server "
        "configured (--server, --account, MISSIVE_SERVER or a default account), or with "
        "--queue, the message is stored in the outbox and `missive deliver` sends it.");
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
    BatchFlags& batch = f.batch;
    cmd->add_option("--batch", batch.batch,
                    "Send many messages: one JSON object per line of FILE (- for stdin), "
                    "through --connections connections, with progress on stderr and every "
                    "outcome in --results; run again to resume (see missive(1), BATCHES)")
        ->type_name("FILE");
    cmd->add_option("--connections", batch.connections,
                    "With --batch: connections to the server at once")
        ->type_name("N")
        ->capture_default_str()
        ->check(CLI::Range(1, 100));
    cmd->add_option("--rate", batch.rate,
                    "With --batch: at most R messages per second, over all connections")
        ->type_name("R")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--rate-per-minute", batch.rate_per_minute,
                    "With --batch: at most R messages per minute (with --rate, both hold)")
        ->type_name("R")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--results", batch.results,
                    "With --batch: the results file (JSON Lines, appended; default FILE without "
                    ".jsonl, then .results.jsonl); messages recorded there are not sent again")
        ->type_name("FILE");
    cmd->add_flag("--retry-failed", batch.retry_failed,
                  "With --batch: send again the messages the results file says were deferred "
                  "(4xx, connection failures), never those whose outcome is unknown");
    cmd->add_flag("-q,--quiet", batch.quiet,
                  "With --batch: no progress and no summary when every message was accepted");
    cmd->add_option("--progress-interval", batch.progress_interval,
                    "With --batch, when stderr is not a terminal: seconds between progress lines")
        ->type_name("SECONDS")
        ->capture_default_str()
        ->check(CLI::Range(0.1, 86400.0));
    TargetFlags& t = f.target;
    add_target_flags(*cmd, t);
    cmd->add_flag("--dry-run", t.dry_run, "Print the message that would be sent, send nothing");
    cmd->add_flag("--json", t.json, "Print the outcome as one JSON object on stdout");
    cmd->add_flag("--queue", t.queue,
                  "Store the message in the outbox instead of sending it now (`missive "
                  "deliver` sends it, with retries); without a server configured this is what "
                  "happens anyway");
    cmd->add_option("--idempotency-key", t.idempotency_key,
                    "With the outbox: a key of yours; queueing again with the same key stores "
                    "nothing and prints the first job's id")
        ->type_name("KEY");
    add_outbox_flag(*cmd, t.outbox);
    cmd->callback([flags, &status] {
        const bool json = flags->target.json;
        try {
            const Target target = make_target(flags->target, std::cerr);
            if (!flags->batch.batch.empty()) {
                check_batch_flags(*flags);
                status = send_batch(flags->batch, target,
                                    flags->from.empty() ? target.default_from : flags->from);
            } else {
                status = flags->message.empty() ? compose_and_send(*flags, target)
                                                : send_ready(*flags, target);
            }
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
