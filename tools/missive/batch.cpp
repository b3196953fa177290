// The runner of `missive send --batch` (theory of operation in batch.hpp) and its progress.
#include "batch.hpp"

#include <missive/error.hpp>

#include "exit_codes.hpp"
#include "failure.hpp"
#include "message_input.hpp"

#include <sys/ioctl.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <thread>
#include <unordered_map>

namespace missive::cli {

namespace {

// An error that every message would meet alike: its letter was not sent (the failure came
// before MAIL), so it is not recorded, and the batch stops to be resumed once it is fixed.
bool stops_batch(const Error& e) {
    if (e.outcome_unknown()) {
        return false;
    }
    switch (e.kind()) {
        case errc::config:
        case errc::tls:
        case errc::certificate:
        case errc::starttls_unavailable:
        case errc::auth_failed:
        case errc::auth_unavailable:
        case errc::connect_failed:
            return true;
        default:
            return false;
    }
}

int rank(int status) {
    switch (status) {
        case exit_ok:
            return 0;
        case exit_data:
        case exit_no_input:
            return 1;
        case exit_unavailable:
            return 2;
        case exit_temp_fail:
            return 3;
        case exit_io:
            return 4;
        default:
            return 5;  // config, login, unknown host, protocol, software: every message alike
    }
}

std::string rate_text(double rate) {
    std::array<char, 32> buf{};
    std::snprintf(buf.data(), buf.size(), rate < 10 ? "%.1f" : "%.0f", rate);
    return buf.data();
}

}  // namespace

int worse_exit(int a, int b) {
    return rank(b) > rank(a) ? b : a;
}

std::string format_duration(double seconds) {
    const auto s = static_cast<long long>(std::llround(std::max(0.0, seconds)));
    std::array<char, 32> buf{};
    if (s < 60) {
        std::snprintf(buf.data(), buf.size(), "%llds", s);
    } else if (s < 3600) {
        std::snprintf(buf.data(), buf.size(), "%lldm%02llds", s / 60, s % 60);
    } else {
        std::snprintf(buf.data(), buf.size(), "%lldh%02lldm", s / 3600, (s % 3600) / 60);
    }
    return buf.data();
}

std::string progress_text(const BatchCounts& counts, std::uint64_t total, double elapsed, bool bar,
                          std::size_t width) {
    const std::uint64_t sent = counts.sent();
    const std::uint64_t failed = counts.failed();
    const std::uint64_t skipped = counts.skipped;
    const std::uint64_t done = sent + failed + skipped + counts.not_sent;
    const double rate = elapsed > 0 ? static_cast<double>(sent + failed) / elapsed : 0;
    std::string eta;
    if (total > 0 && rate > 0 && done <= total) {
        eta = "ETA " + format_duration(static_cast<double>(total - done) / rate);
    } else if (total > 0) {
        eta = "ETA --";
    }
    const std::string of = total > 0 ? "/" + std::to_string(total) : "";
    if (!bar) {
        return "missive: batch: " + std::to_string(done) + of + " done: " + std::to_string(sent) +
               " sent, " + std::to_string(failed) + " failed, " + std::to_string(skipped) +
               " skipped; " + rate_text(rate) + " msg/s" + (eta.empty() ? "" : ", " + eta);
    }
    std::string text = std::to_string(done) + of + "  sent " + std::to_string(sent) + "  failed " +
                       std::to_string(failed) +
                       (skipped > 0 ? "  skipped " + std::to_string(skipped) : "") + "  " +
                       rate_text(rate) + " msg/s" + (eta.empty() ? "" : "  " + eta);
    if (total == 0) {
        return text;
    }
    // The bar takes what the text leaves of the width (a redrawn line must not wrap).
    const double part = std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
    std::array<char, 8> pct{};
    std::snprintf(pct.data(), pct.size(), "%3d%% ", static_cast<int>(part * 100));
    const std::size_t used = text.size() + std::string_view(pct.data()).size() + 3;
    const std::size_t cells = width > used ? std::min<std::size_t>(30, width - used) : 0;
    if (cells < 10) {
        return pct.data() + text;
    }
    const auto full = static_cast<std::size_t>(part * static_cast<double>(cells));
    return "[" + std::string(full, '#') + std::string(cells - full, '.') + "] " + pct.data() + text;
}

struct ProgressDisplay::State {
    State(const BatchCounts& c, std::uint64_t t, bool is_tty, std::chrono::milliseconds every,
          std::ostream& o)
        : counts(c)
        , total(t)
        , tty(is_tty)
        , interval(every)
        , out(o) {}

    const BatchCounts& counts;
    std::uint64_t total;
    bool tty;
    std::chrono::milliseconds interval;
    std::ostream& out;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    std::mutex mutex{};
    std::condition_variable cv{};
    bool stopping = false;
    std::thread thread{};

    void print() {
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (tty) {
            winsize size{};
            const std::size_t width =
                ::ioctl(2, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 ? size.ws_col - 1U : 79;
            out << '\r' << progress_text(counts, total, elapsed, true, width) << "\x1b[K"
                << std::flush;
        } else {
            out << progress_text(counts, total, elapsed, false) << std::endl;
        }
    }

    void run() {
        std::unique_lock lock(mutex);
        while (!cv.wait_for(lock, interval, [this] { return stopping; })) {
            print();
        }
    }
};

ProgressDisplay::ProgressDisplay(const BatchCounts& counts, std::uint64_t total, bool tty,
                                 std::chrono::milliseconds interval, std::ostream& out)
    : state_(std::make_unique<State>(counts, total, tty, interval, out)) {
    state_->thread = std::thread([s = state_.get()] { s->run(); });
}

ProgressDisplay::~ProgressDisplay() {
    stop();
}

void ProgressDisplay::stop() {
    if (!state_->thread.joinable()) {
        return;
    }
    {
        const std::lock_guard lock(state_->mutex);
        state_->stopping = true;
    }
    state_->cv.notify_all();
    state_->thread.join();
    if (state_->tty) {
        state_->out << "\r\x1b[K" << std::flush;
    }
}

BatchSummary run_batch(std::istream& input, const BatchSettings& settings,
                       const PriorResults& prior, LetterSink& sink, ResultsFile& results,
                       BatchCounts& counts) {
    std::mutex mutex;
    std::condition_variable cv;
    std::size_t in_flight = 0;
    std::optional<Error> stopped_by;
    std::exception_ptr write_error;
    int worst = exit_ok;

    const auto now = [] { return std::chrono::system_clock::now(); };
    const auto warn = [&](const std::string& text) {
        if (settings.warn) {
            settings.warn(text);
        }
    };
    // A line that never became a letter: recorded at once, nothing sent.
    const auto invalid = [&](const std::optional<std::string>& id, std::size_t line,
                             const std::string& kind, const std::string& message, int status) {
        warn("line " + std::to_string(line) + ": " + message);
        results.append(
            result_record(id, line, BatchStatus::invalid, nullptr, kind, message, now()));
        ++counts.invalid;
        const std::lock_guard lock(mutex);
        worst = worse_exit(worst, status);
    };
    const auto on_outcome = [&](const std::optional<std::string>& id, std::size_t line,
                                client::Outcome o) {
        if (o.error && stops_batch(*o.error)) {
            ++counts.not_sent;
            const std::lock_guard lock(mutex);
            if (!stopped_by) {
                stopped_by = *o.error;
            }
            --in_flight;
            cv.notify_all();
            return;
        }
        const BatchStatus status = status_of(o);
        try {
            // Written first, counted after: a kill between them loses nothing recorded.
            results.append(result_record(id, line, status, &o,
                                         o.error ? std::string(kind_name(o.error->kind())) : "",
                                         o.error ? std::string(o.error->what()) : "", now()));
        } catch (...) {
            const std::lock_guard lock(mutex);
            write_error = std::current_exception();
        }
        switch (status) {
            case BatchStatus::accepted:
                ++counts.accepted;
                break;
            case BatchStatus::partial:
                ++counts.partial;
                break;
            case BatchStatus::refused:
                ++counts.refused;
                break;
            case BatchStatus::deferred:
                ++counts.deferred;
                break;
            case BatchStatus::unknown:
                ++counts.unknown;
                break;
            case BatchStatus::invalid:
                ++counts.invalid;
                break;
        }
        const std::lock_guard lock(mutex);
        if (o.error) {
            worst = worse_exit(worst, exit_code_for(*o.error));
        }
        --in_flight;
        cv.notify_all();
    };
    const auto done_before = [&](const std::string& key) {
        const auto it = prior.latest.find(key);
        if (it == prior.latest.end() || it->second == BatchStatus::invalid) {
            return false;  // nothing was sent for it: made again from its (maybe fixed) line
        }
        return !(settings.retry_failed && it->second == BatchStatus::deferred);
    };
    const auto should_stop = [&] {
        return (settings.interrupted != nullptr && settings.interrupted->load()) ||
               stopped_by.has_value() || write_error != nullptr;
    };

    BatchSummary summary;
    std::unordered_map<std::string, std::size_t> seen;  // id → the line that had it first
    std::string text;
    std::size_t line = 0;
    try {
        while (std::getline(input, text)) {
            ++line;
            {
                const std::lock_guard lock(mutex);
                if (should_stop()) {
                    break;
                }
            }
            if (text.find_first_not_of(" \t\r") == std::string::npos) {
                continue;  // blank lines are no messages
            }
            BatchEntry entry;
            try {
                entry = parse_batch_line(text, line, settings.base);
            } catch (const BatchLineError& e) {
                invalid(std::nullopt, line, "invalid_input", e.what(), exit_data);
                continue;
            }
            if (entry.id) {
                const auto [first, fresh] = seen.emplace(*entry.id, line);
                if (!fresh) {
                    // Recorded under its line, not its id: the id's own record stays the one
                    // a resumed run goes by.
                    invalid(std::nullopt, line, "invalid_input",
                            "duplicate id '" + *entry.id + "' (first on line " +
                                std::to_string(first->second) + "); not sent",
                            exit_data);
                    continue;
                }
            }
            if (done_before(batch_key(entry.id, line))) {
                ++counts.skipped;
                continue;
            }
            client::Letter letter;
            try {
                letter = make_letter(entry, settings.default_from);
            } catch (const UsageError& e) {
                invalid(entry.id, line, "invalid_input", e.what(), exit_data);
                continue;
            } catch (const InputError& e) {
                invalid(entry.id, line, "no_input", e.what(), exit_no_input);
                continue;
            } catch (const Error& e) {
                invalid(entry.id, line, std::string(kind_name(e.kind())), e.what(),
                        exit_code_for(e));
                continue;
            }
            {
                std::unique_lock lock(mutex);
                while (in_flight >= settings.window && !should_stop()) {
                    cv.wait_for(lock, std::chrono::milliseconds(100));
                }
                if (should_stop()) {
                    break;
                }
                ++in_flight;
            }
            sink.submit(std::move(letter), [&on_outcome, id = entry.id, line](client::Outcome o) {
                on_outcome(id, line, std::move(o));
            });
        }
    } catch (...) {
        sink.drain();  // the callbacks refer to this frame
        throw;
    }
    sink.drain();
    results.sync();
    if (write_error) {
        std::rethrow_exception(write_error);
    }
    if (input.bad()) {
        throw InputError("reading the batch failed at line " + std::to_string(line + 1));
    }
    summary.exit_status = worst;
    if (stopped_by) {
        summary.stopped_by = stopped_by;
        summary.exit_status = worse_exit(worst, exit_code_for(*stopped_by));
    } else if (settings.interrupted != nullptr && settings.interrupted->load()) {
        summary.interrupted = true;
        summary.exit_status = worse_exit(worst, exit_temp_fail);
    }
    return summary;
}

}  // namespace missive::cli
