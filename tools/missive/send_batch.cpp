// missive send --batch FILE.jsonl: the command around the batch runner (batch.hpp): input,
// results file, progress, signals, summary and exit status.
#include "send_batch.hpp"

#include <missive/error.hpp>
#include <missive/net/url.hpp>

#include "advice.hpp"
#include "batch.hpp"
#include "exit_codes.hpp"
#include "failure.hpp"
#include "message_input.hpp"
#include "text.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <system_error>

namespace missive::cli {

namespace {

std::atomic<bool> interrupted{false};  // NOLINT: set by the signal handler

extern "C" void on_signal(int /*signal*/) {
    interrupted = true;
}

// SIGINT and SIGTERM stop the reading: what is in flight finishes and is recorded. A second
// one kills as usual (SA_RESETHAND).
class SignalGuard {
public:
    SignalGuard() {
        struct sigaction sa {};

        sa.sa_handler = on_signal;
        sa.sa_flags = static_cast<int>(SA_RESETHAND);
        sigemptyset(&sa.sa_mask);
        ::sigaction(SIGINT, &sa, &old_int_);
        ::sigaction(SIGTERM, &sa, &old_term_);
    }

    SignalGuard(const SignalGuard&) = delete;
    SignalGuard& operator=(const SignalGuard&) = delete;
    SignalGuard(SignalGuard&&) = delete;
    SignalGuard& operator=(SignalGuard&&) = delete;

    ~SignalGuard() {
        ::sigaction(SIGINT, &old_int_, nullptr);
        ::sigaction(SIGTERM, &old_term_, nullptr);
    }

private:
    struct sigaction old_int_ {};

    struct sigaction old_term_ {};
};

// Messages in a batch file: its lines that are not blank (for the progress bar and ETA).
std::uint64_t count_messages(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::uint64_t n = 0;
    std::string line;
    while (std::getline(in, line)) {
        if (line.find_first_not_of(" \t\r") != std::string::npos) {
            ++n;
        }
    }
    return n;
}

std::string rate(std::uint64_t n, double seconds) {
    const double r = seconds > 0 ? static_cast<double>(n) / seconds : 0;
    std::array<char, 32> buf{};
    std::snprintf(buf.data(), buf.size(), r < 10 ? "%.1f" : "%.0f", r);
    return buf.data();
}

}  // namespace

std::filesystem::path default_results_path(const std::string& batch) {
    std::filesystem::path p(batch);
    if (p.extension() == ".jsonl" || p.extension() == ".json") {
        p.replace_extension();
    }
    p += ".results.jsonl";
    return p;
}

int send_batch(const BatchFlags& f, const Target& target, const std::string& default_from) {
    if (target.server.empty() || target.queue) {
        return queue_batch(f, target, default_from);
    }
    if (f.batch == "-" && f.results.empty()) {
        throw UsageError("--batch - (standard input) needs --results FILE");
    }
    const std::filesystem::path results_path =
        f.results.empty() ? default_results_path(f.batch) : std::filesystem::path(f.results);

    // The input, read one line at a time.
    std::ifstream file;
    std::unique_ptr<InputBuf> stdin_buf;
    std::istream* input = &file;
    std::uint64_t total = 0;
    std::filesystem::path base;
    if (f.batch == "-") {
        stdin_buf = std::make_unique<InputBuf>(0, "standard input");
        input = nullptr;
    } else {
        const int fd = ::open(f.batch.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            throw InputError("--batch '" + f.batch +
                             "' cannot be read: " + std::generic_category().message(errno));
        }
        ::close(fd);
        file.open(f.batch, std::ios::binary);
        total = count_messages(f.batch);
        base = std::filesystem::path(f.batch).parent_path();
    }
    std::istream stdin_stream(stdin_buf.get());
    if (input == nullptr) {
        input = &stdin_stream;
    }

    const PriorResults prior = read_results(results_path);
    ResultsFile results(results_path);
    const bool tty = ::isatty(2) == 1;
    // Invalid lines are read again (nothing was sent for them), and deferred messages too with
    // --retry-failed: they are not counted as done.
    const auto done = static_cast<std::size_t>(
        std::count_if(prior.latest.begin(), prior.latest.end(), [&f](const auto& entry) {
            return entry.second != BatchStatus::invalid &&
                   !(f.retry_failed && entry.second == BatchStatus::deferred);
        }));
    if (!f.quiet && done > 0) {
        std::cerr << "missive: batch: resuming: " << done << " messages are recorded in "
                  << printable(results_path.string()) << "; they are not sent again\n";
    }
    if (!f.quiet && prior.unreadable_lines > 0) {
        std::cerr << "missive: batch: " << prior.unreadable_lines << " lines of "
                  << printable(results_path.string()) << " are not results and were ignored\n";
    }

    SinkSettings sink_settings;
    sink_settings.connections = f.connections;
    sink_settings.rate_per_second = f.rate > 0 ? std::optional(f.rate) : std::nullopt;
    sink_settings.rate_per_minute =
        f.rate_per_minute > 0 ? std::optional(f.rate_per_minute) : std::nullopt;
    const std::unique_ptr<LetterSink> sink =
        make_smtp_sink(target.server, target.options, sink_settings);

    BatchSettings settings;
    settings.base = base;
    settings.default_from = default_from;
    settings.window = 4 * sink_settings.connections * sink_settings.pipeline_depth;
    if (f.rate > 0 || f.rate_per_minute > 0) {
        // Paced: about two seconds of messages in flight, so that Ctrl-C (which lets them
        // finish) is answered in about two seconds, not after minutes of a slow rate.
        const double per_second = std::min(f.rate > 0 ? f.rate : 1e9,
                                           f.rate_per_minute > 0 ? f.rate_per_minute / 60 : 1e9);
        const auto paced = static_cast<std::size_t>(std::ceil(per_second * 2));
        settings.window = std::clamp(paced, sink_settings.connections, settings.window);
    }
    settings.retry_failed = f.retry_failed;
    settings.total = total;
    settings.warn = [tty](const std::string& text) {
        std::cerr << (tty ? "\r\x1b[K" : "") << "missive: batch: " << printable(text) << '\n';
    };
    interrupted = false;
    settings.interrupted = &interrupted;

    BatchCounts counts;
    const auto start = std::chrono::steady_clock::now();
    BatchSummary summary;
    {
        const SignalGuard signals;
        std::optional<ProgressDisplay> progress;
        if (!f.quiet) {
            const auto every =
                tty ? std::chrono::milliseconds(250)
                    : std::chrono::milliseconds(std::llround(f.progress_interval * 1000));
            progress.emplace(counts, total, tty, every, std::cerr);
        }
        summary = run_batch(*input, settings, prior, *sink, results, counts);
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    const std::string where = printable(results_path.string());
    if (!f.quiet || summary.exit_status != exit_ok) {
        std::cerr << "missive: batch: " << counts.accepted << " accepted, " << counts.partial
                  << " partial, " << counts.refused << " refused, " << counts.deferred
                  << " deferred, " << counts.unknown << " unknown, " << counts.invalid
                  << " invalid; " << counts.skipped << " skipped (already in " << where << "); "
                  << format_duration(seconds) << ", "
                  << rate(counts.sent() + counts.failed(), seconds) << " msg/s; results in "
                  << where << '\n';
    }
    if (summary.stopped_by) {
        const Error& e = *summary.stopped_by;
        std::cerr << "missive: batch stopped: " << printable(e.what()) << '\n';
        if (const std::string advice = advice_for(e, target.server, target.options);
            !advice.empty()) {
            std::cerr << "missive: " << printable(advice) << '\n';
        }
        std::cerr << "missive: what was not sent is not in " << where
                  << "; run the same command again to resume\n";
    } else if (summary.interrupted) {
        std::cerr << "missive: batch interrupted; run the same command again to resume\n";
    }
    if (counts.unknown > 0) {
        std::cerr << "missive: " << counts.unknown
                  << " messages may have been delivered (status \"unknown\" in " << where
                  << "); check before sending them again: a resumed run does not\n";
    }
    if (counts.deferred > 0) {
        std::cerr << "missive: " << counts.deferred
                  << " messages were deferred; --retry-failed sends them again\n";
    }
    if (target.json) {
        std::cout << R"({"status":)"
                  << json_string(summary.stopped_by    ? "stopped"
                                 : summary.interrupted ? "interrupted"
                                                       : "done")
                  << R"(,"accepted":)" << counts.accepted << R"(,"partial":)" << counts.partial
                  << R"(,"refused":)" << counts.refused << R"(,"deferred":)" << counts.deferred
                  << R"(,"unknown":)" << counts.unknown << R"(,"invalid":)" << counts.invalid
                  << R"(,"skipped":)" << counts.skipped << R"(,"not_sent":)" << counts.not_sent
                  << R"(,"results":)" << json_string(results_path.string()) << R"(,"exit":)"
                  << summary.exit_status << "}\n";
    }
    return summary.exit_status;
}

}  // namespace missive::cli
