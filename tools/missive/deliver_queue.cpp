// `missive deliver`: workers that send the outbox through the server, with retries, a progress
// line and a per-recipient report.

#include <missive/error.hpp>
#include <missive/net/url.hpp>
#include <missive/outbox/deliverer.hpp>

#include "commands.hpp"
#include "deliver.hpp"
#include "exit_codes.hpp"
#include "failure.hpp"
#include "outbox_store.hpp"
#include "text.hpp"

#include <unistd.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace missive::cli {

namespace {

struct DeliverFlags {
    TargetFlags target{};
    std::size_t workers = 1;
    std::size_t connections = 2;
    bool once = false;
    std::size_t batch = 32;
    std::optional<double> rate{};
    std::string lease = "5m";
    std::string backoff = "1m";
    std::string max_backoff = "1h";
    std::string max_age = "5d";
    std::string poll = "1s";
    bool allow_duplicates = false;
    bool quiet = false;
    double progress_interval = 10;
    std::string metrics{};
};

// Set by SIGINT and SIGTERM: the workers finish the jobs they hold and stop.
std::atomic<bool> stop_requested{false};

extern "C" void on_stop_signal(int /*signal*/) {
    stop_requested.store(true);
}

std::chrono::milliseconds duration_of(const char* flag, const std::string& value) {
    const auto d = parse_duration(value);
    if (!d) {
        throw UsageError(std::string(flag) + " must be a duration such as 90s, 15m, 2h or 7d, " +
                         "not '" + value + "'");
    }
    return *d;
}

// What the workers did, summed; and the per-recipient report, one writer at a time.
class Progress {
public:
    explicit Progress(bool json, bool quiet)
        : json_(json)
        , quiet_(quiet) {}

    void record(const outbox::Job& job, const outbox::AttemptEnd& end) {
        const std::lock_guard lock(mutex_);
        switch (end.next) {
            case outbox::JobState::done:
                ++report_.delivered;
                break;
            case outbox::JobState::queued:
                ++report_.deferred;
                break;
            case outbox::JobState::held:
                ++report_.held;
                break;
            default:
                ++report_.failed;
                break;
        }
        if (quiet_) {
            return;
        }
        for (const auto& u : end.updates) {
            const auto& address = job.recipients.at(u.index).recipient.address;
            const std::string_view word = u.state == outbox::RecipientState::pending
                                              ? std::string_view("deferred")
                                              : outbox::to_string(u.state);
            if (json_) {
                std::cout << "{\"id\":" << job.id << ",\"recipient\":" << json_string(address)
                          << ",\"state\":" << json_string(word)
                          << ",\"code\":" << (u.reply ? std::to_string(u.reply->code) : "null")
                          << ",\"enhanced\":"
                          << (u.reply && u.reply->enhanced
                                  ? json_string(u.reply->enhanced->to_string())
                                  : "null")
                          << ",\"text\":" << json_string(u.reply ? u.reply->text() : "")
                          << ",\"note\":" << json_string(u.note)
                          << ",\"job\":" << json_string(outbox::to_string(end.next)) << "}\n";
                continue;
            }
            std::cout << job.id << " <" << printable(address) << "> " << word;
            if (u.state == outbox::RecipientState::pending) {
                const auto wait = std::chrono::duration_cast<std::chrono::seconds>(
                    end.due - outbox::Clock::now());
                std::cout << " (next try in " << format_age(wait) << ")";
            }
            if (u.reply) {
                std::cout << ": " << printable(u.reply->to_string());
            }
            if (!u.note.empty() && (!u.reply || u.note != u.reply->to_string())) {
                std::cout << (u.reply ? " (" : ": ") << printable(u.note) << (u.reply ? ")" : "");
            }
            std::cout << '\n';
        }
        std::cout.flush();
    }

    [[nodiscard]] outbox::RunReport report() {
        const std::lock_guard lock(mutex_);
        return report_;
    }

private:
    std::mutex mutex_;
    outbox::RunReport report_{};
    bool json_;
    bool quiet_;
};

std::string counts_text(const outbox::RunReport& r, double seconds) {
    const std::uint64_t finished = r.delivered + r.failed;
    std::string rate =
        seconds > 0
            ? std::to_string(static_cast<std::uint64_t>(static_cast<double>(finished) / seconds))
            : "0";
    return std::to_string(r.delivered) + " delivered, " + std::to_string(r.deferred) +
           " deferred, " + std::to_string(r.held) + " held, " + std::to_string(r.failed) +
           " failed (" + rate + "/s)";
}

std::string outbox_text(const outbox::Stats& s) {
    return "queued " + std::to_string(s.queued + s.deferred) + ", in flight " +
           std::to_string(s.in_flight) + ", held " + std::to_string(s.held) +
           (s.oldest_age ? ", oldest " + format_age(*s.oldest_age) : std::string());
}

// Writes the metrics file whole, then renames it over the old one (a scraper never reads half).
void write_metrics(const std::string& path, const outbox::Stats& s) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << outbox::to_prometheus(s);
        if (!out) {
            return;  // the next tick tries again; delivery goes on
        }
    }
    (void)std::rename(tmp.c_str(), path.c_str());
}

int run_deliver(const DeliverFlags& f, const Target& target) {
    if (target.server.empty()) {
        throw Error(errc::config,
                    "no server to deliver to: use --server, --account or MISSIVE_SERVER");
    }
    const std::string where = outbox_location(f.target.outbox);
    const std::unique_ptr<outbox::Store> watcher = open_outbox(where);  // progress, metrics
    const net::Url server = net::Url::parse(target.server);

    outbox::DelivererOptions options;
    options.lease = duration_of("--lease", f.lease);
    options.batch = f.batch;
    options.backoff = duration_of("--backoff", f.backoff);
    options.max_backoff = std::max(options.backoff, duration_of("--max-backoff", f.max_backoff));
    options.max_age = duration_of("--max-age", f.max_age);
    options.allow_duplicates = f.allow_duplicates;
    const auto poll = duration_of("--poll", f.poll);
    client::PoolOptions pool;
    pool.connections = f.connections;
    if (f.rate) {
        pool.rate_per_second = *f.rate / static_cast<double>(f.workers);
    }
    Progress progress(target.json, f.quiet);
    options.on_recorded = [&progress](const outbox::Job& job, const outbox::AttemptEnd& end) {
        progress.record(job, end);
    };

    stop_requested = false;

    struct sigaction action {};

    action.sa_handler = on_stop_signal;  // NOLINT(cppcoreguidelines-pro-type-union-access)
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);

    std::mutex mutex;
    std::condition_variable wake;
    std::size_t running = f.workers;
    std::exception_ptr failure;
    // Each worker has a store (its own database connection) and a Deliverer of its own.
    std::vector<std::unique_ptr<outbox::Store>> stores;
    std::vector<std::unique_ptr<outbox::Deliverer>> deliverers;
    for (std::size_t i = 0; i < f.workers; ++i) {
        stores.push_back(open_outbox(where));
        outbox::DelivererOptions o = options;
        std::array<char, 256> host{};
        (void)::gethostname(host.data(), host.size() - 1);
        o.worker = std::string(host.data()) + ":" + std::to_string(::getpid()) + ":" +
                   std::to_string(i + 1);
        deliverers.push_back(
            std::make_unique<outbox::Deliverer>(*stores.back(), server, target.options, pool, o));
    }
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < f.workers; ++i) {
        threads.emplace_back([&, i] {
            try {
                while (!stop_requested) {
                    const outbox::RunReport r = deliverers[i]->run_once();
                    if (r.claimed > 0) {
                        continue;
                    }
                    if (f.once) {
                        break;
                    }
                    std::unique_lock lock(mutex);
                    wake.wait_for(lock, poll, [&] { return stop_requested.load(); });
                }
            } catch (...) {
                const std::lock_guard lock(mutex);
                failure = failure ? failure : std::current_exception();
                stop_requested = true;
            }
            const std::lock_guard lock(mutex);
            --running;
            wake.notify_all();
        });
    }

    const bool tty = ::isatty(STDERR_FILENO) != 0;
    const auto tick =
        tty ? std::chrono::milliseconds(1000)
            : std::chrono::milliseconds(static_cast<std::int64_t>(f.progress_interval * 1000));
    const auto elapsed = [&start] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    auto last = start;
    for (;;) {
        {
            std::unique_lock lock(mutex);
            // A signal wakes nobody: the wait is short enough to notice it.
            wake.wait_for(lock, std::min(tick, std::chrono::milliseconds(250)),
                          [&] { return running == 0; });
            if (running == 0) {
                break;
            }
            if (stop_requested) {
                wake.notify_all();  // wakes the workers that wait for the next poll
            }
        }
        if (std::chrono::steady_clock::now() - last < tick) {
            continue;
        }
        last = std::chrono::steady_clock::now();
        const outbox::Stats s = watcher->stats(outbox::Clock::now());
        if (!f.metrics.empty()) {
            write_metrics(f.metrics, s);
        }
        if (!f.quiet && (tty || !f.once)) {
            const std::string line = "deliver: " + counts_text(progress.report(), elapsed()) +
                                     "; outbox: " + outbox_text(s);
            if (tty) {
                std::cerr << '\r' << line << "\x1b[K" << std::flush;
            } else {
                std::cerr << line << std::endl;
            }
        }
    }
    for (auto& t : threads) {
        t.join();
    }
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    const outbox::Stats s = watcher->stats(outbox::Clock::now());
    if (!f.metrics.empty()) {
        write_metrics(f.metrics, s);
    }
    if (tty && !f.quiet) {
        std::cerr << "\r\x1b[K";
    }
    if (!f.quiet || failure) {
        std::cerr << "deliver: " << counts_text(progress.report(), elapsed()) << " in "
                  << std::fixed << std::setprecision(1) << elapsed()
                  << " s; outbox: " << outbox_text(s) << '\n';
    }
    if (failure) {
        std::rethrow_exception(failure);
    }
    return exit_ok;
}

}  // namespace

void add_deliver(CLI::App& app, int& status) {
    auto flags = std::make_shared<DeliverFlags>();
    DeliverFlags& f = *flags;
    CLI::App* cmd = app.add_subcommand(
        "deliver",
        "Send the outbox through the server: each message to the recipients still pending, "
        "4xx and lost connections retried with backoff until --max-age, 5xx final, outcome "
        "unknown held (`missive queue`). Runs until stopped (SIGINT, SIGTERM: the jobs in hand "
        "are finished first), or with --once until nothing is due. Prints one line per "
        "recipient outcome on stdout and a progress line on stderr");
    add_target_flags(*cmd, f.target);
    add_outbox_flag(*cmd, f.target.outbox);
    cmd->add_option("--workers", f.workers,
                    "Workers claiming jobs side by side, each with its own connections")
        ->capture_default_str()
        ->check(CLI::Range(1, 64));
    cmd->add_option("--connections", f.connections, "Connections to the server per worker")
        ->capture_default_str()
        ->check(CLI::Range(1, 100));
    cmd->add_flag("--once", f.once, "Deliver what is due now, then exit");
    cmd->add_option("--batch", f.batch, "Jobs a worker claims at once")
        ->capture_default_str()
        ->check(CLI::Range(1, 10000));
    cmd->add_option("--rate", f.rate, "At most R messages per second, over all workers")
        ->type_name("R")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--lease", f.lease,
                    "How long a claim holds a job; a worker that dies leaves it to others then")
        ->capture_default_str()
        ->type_name("DURATION");
    cmd->add_option("--backoff", f.backoff,
                    "Wait before the second try, doubled for each later one")
        ->capture_default_str()
        ->type_name("DURATION");
    cmd->add_option("--max-backoff", f.max_backoff, "The longest wait between tries")
        ->capture_default_str()
        ->type_name("DURATION");
    cmd->add_option("--max-age", f.max_age,
                    "Recipients still deferred this long after queueing are given up")
        ->capture_default_str()
        ->type_name("DURATION");
    cmd->add_option("--poll", f.poll, "How often an idle worker looks for due jobs")
        ->capture_default_str()
        ->type_name("DURATION");
    cmd->add_flag("--allow-duplicates", f.allow_duplicates,
                  "Retry messages whose outcome is unknown instead of holding them (they may "
                  "arrive twice)");
    cmd->add_flag("--json", f.target.json, "The per-recipient report as JSON Lines on stdout");
    cmd->add_flag("-q,--quiet", f.quiet, "No report and no progress; errors only");
    cmd->add_option("--progress-interval", f.progress_interval,
                    "When stderr is not a terminal: seconds between progress lines")
        ->capture_default_str()
        ->check(CLI::Range(0.1, 86400.0));
    cmd->add_option("--metrics", f.metrics,
                    "Keep the outbox's counts in FILE, Prometheus' text format (for "
                    "node_exporter's textfile collector), renewed with each progress line")
        ->type_name("FILE");
    cmd->callback([flags, &status] {
        const bool json = flags->target.json;
        try {
            const Target target = make_target(flags->target, std::cerr);
            status = run_deliver(*flags, target);
        } catch (const Error& e) {
            status = report_failure(json, kind_name(e.kind()), e.what(), exit_code_for(e));
        } catch (const UsageError& e) {
            status = report_failure(json, "usage", e.what(), exit_usage);
        }
    });
}

}  // namespace missive::cli
