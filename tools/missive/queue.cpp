// `missive queue`: the outbox as an operator sees it (list, show, retry, hold, cancel, purge,
// export, stats), as mailq and postqueue show Postfix's queue.

#include <missive/error.hpp>
#include <missive/outbox/store.hpp>

#include "commands.hpp"
#include "deliver.hpp"
#include "exit_codes.hpp"
#include "failure.hpp"
#include "outbox_store.hpp"
#include "text.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace missive::cli {

namespace {

struct QueueFlags {
    std::string outbox{};
    bool json = false;
    // list
    std::string state{};
    std::string from{};
    std::string to{};
    std::string older_than{};
    std::size_t limit = 100;
    outbox::JobId after = 0;
    // show, retry, hold, cancel, export
    std::vector<outbox::JobId> ids{};
    bool all = false;
    std::string output{};
    // stats
    bool prometheus = false;
};

const std::map<std::string, std::string>& state_names() {
    static const std::map<std::string, std::string> names{
        {"queued", "queued"}, {"deferred", "deferred"}, {"in_flight", "in_flight"},
        {"held", "held"},     {"done", "done"},         {"failed", "failed"}};
    return names;
}

std::optional<outbox::JobState> job_state(const std::string& name) {
    for (auto s : {outbox::JobState::queued, outbox::JobState::in_flight, outbox::JobState::held,
                   outbox::JobState::done, outbox::JobState::failed}) {
        if (outbox::to_string(s) == name) {
            return s;
        }
    }
    return std::nullopt;
}

std::chrono::milliseconds duration_flag(const std::string& flag, const std::string& value) {
    const auto d = parse_duration(value);
    if (!d) {
        throw UsageError(flag + " must be a duration such as 90s, 15m, 2h or 7d, not '" + value +
                         "'");
    }
    return *d;
}

std::string stats_line(const outbox::Stats& s) {
    return "queued " + std::to_string(s.queued) + ", deferred " + std::to_string(s.deferred) +
           ", in flight " + std::to_string(s.in_flight) + ", held " + std::to_string(s.held) +
           ", delivered " + std::to_string(s.delivered) + ", failed " + std::to_string(s.failed) +
           (s.oldest_age ? ", oldest " + format_age(*s.oldest_age) : std::string());
}

std::string stats_json(const outbox::Stats& s) {
    return "{\"queued\":" + std::to_string(s.queued) +
           ",\"deferred\":" + std::to_string(s.deferred) +
           ",\"in_flight\":" + std::to_string(s.in_flight) + ",\"held\":" + std::to_string(s.held) +
           ",\"delivered\":" + std::to_string(s.delivered) +
           ",\"failed\":" + std::to_string(s.failed) + ",\"oldest_age_seconds\":" +
           (s.oldest_age ? std::to_string(s.oldest_age->count()) : std::string("null")) + "}";
}

// One job as `missive queue` prints it: a line for the job, one per recipient.
void print_job(const outbox::Job& job, outbox::TimePoint now) {
    using std::chrono::duration_cast;
    using std::chrono::seconds;
    std::cout << job.id << "  " << state_name(job) << "  "
              << format_age(duration_cast<seconds>(now - job.created)) << " old  " << job.size
              << " B  " << job.attempts << (job.attempts == 1 ? " attempt" : " attempts");
    if (job.state == outbox::JobState::queued) {
        std::cout << (job.due > now
                          ? "  next in " + format_age(duration_cast<seconds>(job.due - now))
                          : std::string("  due now"));
    } else if (job.state == outbox::JobState::in_flight) {
        std::cout << "  by " << printable(job.worker);
    }
    std::cout << "  from <" << printable(job.envelope.from) << ">\n";
    for (const auto& r : job.recipients) {
        std::cout << "      " << outbox::to_string(r.state) << "  "
                  << printable(r.recipient.address);
        if (r.reply) {
            std::cout << "  " << printable(r.reply->to_string());
        }
        if (!r.note.empty() && (!r.reply || r.note != r.reply->to_string())) {
            std::cout << "  (" << printable(r.note) << ")";
        }
        std::cout << '\n';
    }
}

int list(const QueueFlags& f, outbox::Store& store) {
    outbox::ListFilter filter;
    if (!f.state.empty()) {
        if (f.state == "deferred") {
            filter.deferred = true;
        } else {
            filter.state = job_state(f.state);
        }
    }
    filter.sender = f.from;
    filter.recipient = f.to;
    const auto now = outbox::Clock::now();
    if (!f.older_than.empty()) {
        filter.created_before = now - duration_flag("--older-than", f.older_than);
    }
    filter.after = f.after;
    filter.limit = f.limit;
    const std::vector<outbox::Job> jobs = store.list(filter);
    for (const auto& job : jobs) {
        if (f.json) {
            std::cout << job_json(job) << '\n';  // JSON Lines: one job a line
        } else {
            print_job(job, now);
        }
    }
    if (!f.json) {
        std::cout << "-- " << jobs.size() << (jobs.size() == 1 ? " job" : " jobs") << " shown"
                  << (jobs.size() == f.limit
                          ? " (more with --after " + std::to_string(jobs.back().id) + ")"
                          : std::string())
                  << "; outbox: " << stats_line(store.stats(now)) << '\n';
    }
    return exit_ok;
}

int show(const QueueFlags& f, outbox::Store& store) {
    int status = exit_ok;
    const auto now = outbox::Clock::now();
    for (const outbox::JobId id : f.ids) {
        const std::optional<outbox::Job> job = store.find(id);
        if (!job) {
            std::cerr << "missive: no job " << id << " in the outbox\n";
            status = exit_data;
            continue;
        }
        const std::vector<outbox::Attempt> attempts = store.attempts(id);
        if (f.json) {
            std::string out = job_json(*job);
            out.pop_back();
            out += ",\"attempt_log\":[";
            for (std::size_t i = 0; i < attempts.size(); ++i) {
                const auto& a = attempts[i];
                out += (i == 0 ? "{" : ",{");
                out += "\"worker\":" + json_string(a.worker) +
                       ",\"started\":" + json_string(format_time_ms(a.started)) + ",\"data_end\":" +
                       (a.data_end ? json_string(format_time_ms(*a.data_end)) : "null") +
                       ",\"finished\":" +
                       (a.finished ? json_string(format_time_ms(*a.finished)) : "null") +
                       ",\"error\":" + json_string(a.error) + "}";
            }
            std::cout << out << "]}\n";
            continue;
        }
        print_job(*job, now);
        std::cout << "  created " << format_time(job->created) << ", due " << format_time(job->due)
                  << (job->idempotency_key.empty()
                          ? std::string()
                          : ", idempotency key " + printable(job->idempotency_key))
                  << '\n';
        if (!job->last_error.empty()) {
            std::cout << "  last error: " << printable(job->last_error) << '\n';
        }
        for (const auto& a : attempts) {
            std::cout << "  attempt " << format_time(a.started) << " by " << printable(a.worker)
                      << (a.data_end ? ", data ended " + format_time(*a.data_end) : "")
                      << (a.finished ? ", finished " + format_time(*a.finished)
                                     : std::string(", not finished"))
                      << (a.error.empty() ? "" : ": " + printable(a.error)) << '\n';
        }
    }
    return status;
}

// retry, hold, cancel: `act` on each id; a job in the wrong state is said and skipped.
template <typename Act>
int act_on(const QueueFlags& f, outbox::Store& store, const char* verb, const char* can,
           Act&& act) {
    int status = exit_ok;
    const auto now = outbox::Clock::now();
    for (const outbox::JobId id : f.ids) {
        if (act(id, now)) {
            std::cout << verb << ' ' << id << '\n';
            continue;
        }
        const std::optional<outbox::Job> job = store.find(id);
        std::cerr << "missive: "
                  << (job ? "job " + std::to_string(id) + " is " + std::string(state_name(*job)) +
                                "; " + can
                          : "no job " + std::to_string(id) + " in the outbox")
                  << '\n';
        status = exit_data;
    }
    return status;
}

int retry_all(outbox::Store& store) {
    const auto now = outbox::Clock::now();
    std::size_t n = 0;
    outbox::ListFilter filter;
    filter.state = outbox::JobState::queued;
    for (;;) {
        const std::vector<outbox::Job> jobs = store.list(filter);
        for (const auto& job : jobs) {
            n += store.retry(job.id, now) ? 1U : 0U;
        }
        if (jobs.size() < filter.limit) {
            break;
        }
        filter.after = jobs.back().id;
    }
    std::cout << "retry: " << n << " queued " << (n == 1 ? "job" : "jobs")
              << " due now (held jobs are retried by id only: they may be delivered twice)\n";
    return exit_ok;
}

// Writes the stored text of a job: to stdout, or to a new file (0600, never over another).
int export_job(const QueueFlags& f, outbox::Store& store) {
    if (f.ids.size() != 1) {
        throw UsageError("queue export takes one job id");
    }
    const std::unique_ptr<std::istream> text = store.open_text(f.ids[0]);
    if (f.output.empty() || f.output == "-") {
        std::cout << text->rdbuf();
        return std::cout ? exit_ok : exit_io;
    }
    const int fd = ::open(f.output.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        std::cerr << "missive: cannot create " << printable(f.output) << ": "
                  << std::generic_category().message(errno) << '\n';
        return exit_cant_create;
    }
    std::array<char, 65536> piece{};
    bool ok = true;
    while (ok && (text->read(piece.data(), piece.size()) || text->gcount() > 0)) {
        const auto n = static_cast<std::size_t>(text->gcount());
        for (std::size_t done = 0; ok && done < n;) {
            const ssize_t w = ::write(fd, piece.data() + done, n - done);
            if (w < 0 && errno == EINTR) {
                continue;
            }
            ok = w > 0;
            done += ok ? static_cast<std::size_t>(w) : 0;
        }
    }
    const int error = errno;
    ok = ok && ::fsync(fd) == 0;
    ok = ::close(fd) == 0 && ok;
    if (!ok) {
        ::unlink(f.output.c_str());  // no partial file under the name asked for
        std::cerr << "missive: cannot write " << printable(f.output) << ": "
                  << std::generic_category().message(error) << "; nothing was kept\n";
        return exit_cant_create;
    }
    std::cout << "exported " << f.ids[0] << " to " << printable(f.output) << '\n';
    return exit_ok;
}

int stats(const QueueFlags& f, outbox::Store& store) {
    const outbox::Stats s = store.stats(outbox::Clock::now());
    if (f.prometheus) {
        std::cout << outbox::to_prometheus(s);
    } else if (f.json) {
        std::cout << stats_json(s) << '\n';
    } else {
        std::cout << stats_line(s) << '\n';
    }
    return exit_ok;
}

// Runs `body` on the opened outbox, with errors reported as every command reports them.
template <typename Body>
void run(const QueueFlags& f, int& status, Body&& body) {
    try {
        const std::unique_ptr<outbox::Store> store = open_outbox(outbox_location(f.outbox));
        status = body(*store);
    } catch (const Error& e) {
        status = report_failure(f.json, kind_name(e.kind()), e.what(), exit_code_for(e));
    } catch (const UsageError& e) {
        status = report_failure(f.json, "usage", e.what(), exit_usage);
    }
}

}  // namespace

void add_queue(CLI::App& app, int& status) {
    auto flags = std::make_shared<QueueFlags>();
    QueueFlags& f = *flags;
    CLI::App* cmd = app.add_subcommand(
        "queue",
        "The outbox (see `missive deliver`): list (the default), show, retry, hold, cancel, "
        "purge, export, stats");
    add_outbox_flag(*cmd, f.outbox);
    cmd->add_flag("--json", f.json, "JSON: one object a line");
    cmd->require_subcommand(0, 1);

    const auto add_list_flags = [&f](CLI::App* c) {
        c->add_option("--state", f.state, "Only jobs in this state")
            ->check(CLI::IsMember(state_names()));
        c->add_option("--from", f.from, "Only jobs whose sender contains TEXT")->type_name("TEXT");
        c->add_option("--to", f.to, "Only jobs with a recipient that contains TEXT")
            ->type_name("TEXT");
        c->add_option("--older-than", f.older_than,
                      "Only jobs queued longer ago (90s, 15m, 2h, 7d)")
            ->type_name("DURATION");
        c->add_option("--limit", f.limit, "At most N jobs")
            ->capture_default_str()
            ->check(CLI::Range(1, 1000000));
        c->add_option("--after", f.after, "Only jobs with a greater id (the next page)")
            ->type_name("ID");
    };
    add_list_flags(cmd);
    cmd->callback([flags, cmd, &status] {
        if (cmd->get_subcommands().empty()) {
            run(*flags, status, [&](outbox::Store& s) { return list(*flags, s); });
        }
    });

    CLI::App* l = cmd->add_subcommand("list", "List jobs, oldest first, recipient by recipient");
    l->fallthrough();
    add_list_flags(l);
    l->callback([flags, &status] {
        run(*flags, status, [&](outbox::Store& s) { return list(*flags, s); });
    });

    CLI::App* sh = cmd->add_subcommand("show", "Show jobs whole: recipients, replies, attempts");
    sh->fallthrough();
    sh->add_option("ID", f.ids, "Job id")->required();
    sh->callback([flags, &status] {
        run(*flags, status, [&](outbox::Store& s) { return show(*flags, s); });
    });

    CLI::App* r = cmd->add_subcommand(
        "retry",
        "Make queued jobs due now; release held ones for a retry (outcome unknown: the "
        "message may then arrive twice)");
    r->fallthrough();
    r->add_option("ID", f.ids, "Job id");
    r->add_flag("--all", f.all, "Every queued job (not the held ones)");
    r->callback([flags, &status] {
        run(*flags, status, [&](outbox::Store& s) {
            if (flags->all == !flags->ids.empty()) {
                throw UsageError("queue retry takes job ids or --all");
            }
            return flags->all
                       ? retry_all(s)
                       : act_on(*flags, s, "retried", "only a queued or held job can be retried",
                                [&](outbox::JobId id, auto now) { return s.retry(id, now); });
        });
    });

    CLI::App* h = cmd->add_subcommand("hold", "Hold queued jobs: not sent until retried");
    h->fallthrough();
    h->add_option("ID", f.ids, "Job id")->required();
    h->callback([flags, &status] {
        run(*flags, status, [&](outbox::Store& s) {
            return act_on(*flags, s, "held", "only a queued job can be held",
                          [&](outbox::JobId id, auto now) { return s.hold(id, now); });
        });
    });

    CLI::App* c = cmd->add_subcommand(
        "cancel", "Give up queued or held jobs: their recipients not yet accepted are refused");
    c->fallthrough();
    c->add_option("ID", f.ids, "Job id")->required();
    c->callback([flags, &status] {
        run(*flags, status, [&](outbox::Store& s) {
            return act_on(*flags, s, "cancelled", "only a queued or held job can be cancelled",
                          [&](outbox::JobId id, auto now) { return s.cancel(id, now); });
        });
    });

    CLI::App* p = cmd->add_subcommand("purge", "Delete finished jobs (delivered, failed)");
    p->fallthrough();
    p->add_option("--older-than", f.older_than, "Only those queued longer ago (90s, 15m, 2h, 7d)")
        ->type_name("DURATION");
    p->callback([flags, &status] {
        run(*flags, status, [&](outbox::Store& s) {
            const auto now = outbox::Clock::now();
            const auto before = flags->older_than.empty()
                                    ? now + std::chrono::hours(1)
                                    : now - duration_flag("--older-than", flags->older_than);
            const std::size_t n = s.purge(before);
            std::cout << "purged " << n << (n == 1 ? " job\n" : " jobs\n");
            return exit_ok;
        });
    });

    CLI::App* e = cmd->add_subcommand("export", "Write a job's message as stored (.eml)");
    e->fallthrough();
    e->add_option("ID", f.ids, "Job id")->required();
    e->add_option("-o,--output", f.output, "Write to FILE (created 0600; never over another)")
        ->type_name("FILE");
    e->callback([flags, &status] {
        run(*flags, status, [&](outbox::Store& s) { return export_job(*flags, s); });
    });

    CLI::App* st = cmd->add_subcommand(
        "stats", "Counts: queued, deferred, in flight, held, delivered, failed, oldest age");
    st->fallthrough();
    st->add_flag("--prometheus", f.prometheus, "Prometheus' text format (for a scrape)");
    st->callback([flags, &status] {
        run(*flags, status, [&](outbox::Store& s) { return stats(*flags, s); });
    });
}

}  // namespace missive::cli
