// The outbox's worker: claim, send through the Pool, record recipient by recipient.
//
// Never twice: the text's stream records `mark_data_end` (durably) when it reaches its end,
// before handing the last piece to the session, so before the end of the data can be written. A
// worker killed before that mark leaves a job no server can have accepted in that attempt; after
// it, claim holds the job as outcome unknown. The verdict read and not yet recorded by `finish`
// falls in the same case.

#include <missive/outbox/deliverer.hpp>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <streambuf>
#include <utility>

namespace missive::outbox {

namespace {

// The stored text, marking the attempt's end of data when it is about to be read.
class MarkingBuf final : public std::streambuf {
public:
    MarkingBuf(std::unique_ptr<std::istream> in, std::function<void()> at_end)
        : in_(std::move(in))
        , at_end_(std::move(at_end)) {}

protected:
    int_type underflow() override {
        if (gptr() < egptr()) {
            return traits_type::to_int_type(*gptr());
        }
        // Read ahead one piece, so that the piece before the end is given out only after the
        // mark: the session writes no byte of the last piece before this returns.
        if (!next_) {
            next_ = read_piece();
        }
        current_ = std::move(*next_);
        next_ = read_piece();
        if (next_->empty() && !std::exchange(marked_, true)) {
            at_end_();  // throws when the mark cannot be recorded: the stream goes bad
        }
        if (current_.empty()) {
            return traits_type::eof();
        }
        char* begin = current_.data();
        setg(begin, begin, begin + current_.size());  // NOLINT: pointer arithmetic of streambuf
        return traits_type::to_int_type(*gptr());
    }

private:
    std::string read_piece() {
        std::string piece(65536, '\0');
        in_->read(piece.data(), static_cast<std::streamsize>(piece.size()));
        if (in_->bad()) {
            throw Error(errc::storage, "outbox: reading the stored message failed");
        }
        piece.resize(static_cast<std::size_t>(in_->gcount()));
        return piece;
    }

    std::unique_ptr<std::istream> in_;
    std::function<void()> at_end_;
    std::optional<std::string> next_;
    std::string current_;
    bool marked_ = false;
};

class MarkingStream final : public std::istream {
public:
    MarkingStream(std::unique_ptr<std::istream> source, std::function<void()> at_end)
        : std::istream(nullptr)
        , buf_(std::move(source), std::move(at_end)) {
        rdbuf(&buf_);
    }

private:
    MarkingBuf buf_;
};

std::string default_worker() {
    std::array<char, 256> host{};
    if (::gethostname(host.data(), host.size() - 1) != 0) {
        host[0] = '\0';
    }
    return std::string(host.data()) + ":" + std::to_string(::getpid());
}

client::PoolOptions own_retries(client::PoolOptions p) {
    p.max_attempts = 1;  // the outbox retries, recorded; a pool retry would be invisible to it
    p.allow_duplicates = false;
    return p;
}

}  // namespace

struct Deliverer::Impl {
    Store* store;
    DelivererOptions options;
    bool lmtp;  // each recipient's reply is its verdict; over SMTP the end of data's is
    client::Pool pool;
    std::mt19937_64 random{std::random_device{}()};

    Impl(Store& s, net::Url server, client::Options o, client::PoolOptions p, DelivererOptions d)
        : store(&s)
        , options(std::move(d))
        , lmtp(server.lmtp)
        , pool(std::move(server), std::move(o), own_retries(p)) {}

    AttemptEnd decide(const Job& job, const client::Outcome& outcome, TimePoint now);
    std::chrono::milliseconds backoff(unsigned attempts);
};

std::chrono::milliseconds Deliverer::Impl::backoff(unsigned attempts) {
    auto wait = static_cast<double>(options.backoff.count());
    for (unsigned i = 1; i < attempts && wait < static_cast<double>(options.max_backoff.count());
         ++i) {
        wait *= 2;
    }
    wait = std::min(wait, static_cast<double>(options.max_backoff.count()));
    std::uniform_real_distribution<double> spread(1.0 - options.jitter, 1.0 + options.jitter);
    return std::chrono::milliseconds(static_cast<std::int64_t>(wait * spread(random)));
}

AttemptEnd Deliverer::Impl::decide(const Job& job, const client::Outcome& outcome, TimePoint now) {
    AttemptEnd end;
    const bool unknown = outcome.error && outcome.error->outcome_unknown();
    const bool permanent = outcome.error && outcome.error->permanent();
    end.error = outcome.error ? outcome.error->what() : "";
    if (unknown) {
        end.error = (options.allow_duplicates ? "outcome unknown, retried (duplicates allowed): "
                                              : "outcome unknown, held for a decision: ") +
                    end.error;
    }
    // The recipients of this attempt, by index, and what the result says of each.
    std::vector<RecipientState> state(job.recipients.size());
    std::vector<bool> tried(job.recipients.size(), false);
    for (std::size_t i = 0; i < job.recipients.size(); ++i) {
        state[i] = job.recipients[i].state;
        tried[i] = state[i] == RecipientState::pending;
    }
    std::vector<bool> answered(job.recipients.size(), false);
    for (const auto& r : outcome.result.recipients) {
        std::size_t i = 0;
        while (i < job.recipients.size() &&
               (!tried[i] || answered[i] || job.recipients[i].recipient.address != r.address)) {
            ++i;
        }
        if (i == job.recipients.size()) {
            continue;
        }
        answered[i] = true;
        AttemptEnd::Update u{i, RecipientState::pending, r.reply, {}};
        if (r.accepted) {
            // After an outcome_unknown, "accepted" may be only the RCPT's 250 (letter.hpp): the
            // message may or may not have reached it.
            u.state = unknown ? RecipientState::unknown : RecipientState::accepted;
            if (unknown) {
                u.note = end.error;
            } else if (!lmtp && outcome.result.data_reply) {
                u.reply = outcome.result.data_reply;  // "250 2.0.0 queued as …", not RCPT's
            }
        } else if (r.reply.permanent()) {
            u.state = RecipientState::refused;
        } else if (r.reply.transient()) {
            u.state = RecipientState::pending;
        } else {
            // RCPT said 250 but the transaction failed: the error decides.
            u.state = permanent ? RecipientState::refused
                      : unknown ? RecipientState::unknown
                                : RecipientState::pending;
            u.note = end.error;
        }
        end.updates.push_back(u);
    }
    for (std::size_t i = 0; i < job.recipients.size(); ++i) {
        if (tried[i] && !answered[i] && outcome.error) {
            // No reply of its own: no RCPT accepted it, so it cannot have the message.
            end.updates.push_back({i, permanent ? RecipientState::refused : RecipientState::pending,
                                   outcome.error->reply(), end.error});
        }
    }
    for (auto& u : end.updates) {
        if (u.state == RecipientState::unknown && options.allow_duplicates) {
            u.state = RecipientState::pending;
        }
        state[u.index] = u.state;
    }
    const bool any_unknown = std::count(state.begin(), state.end(), RecipientState::unknown) > 0;
    bool any_pending = std::count(state.begin(), state.end(), RecipientState::pending) > 0;
    if (any_pending && now - job.created >= options.max_age) {
        for (std::size_t i = 0; i < state.size(); ++i) {
            if (state[i] != RecipientState::pending) {
                continue;
            }
            auto it = std::find_if(end.updates.begin(), end.updates.end(),
                                   [i](const AttemptEnd::Update& u) { return u.index == i; });
            if (it == end.updates.end()) {
                end.updates.push_back({i, RecipientState::refused, job.recipients[i].reply, {}});
                it = std::prev(end.updates.end());
            }
            it->state = RecipientState::refused;
            it->note = "expired: still deferred after the maximum age (" +
                       (it->note.empty() ? end.error : it->note) + ")";
            state[i] = RecipientState::refused;
        }
        any_pending = false;
    }
    if (any_unknown) {
        end.next = JobState::held;
    } else if (any_pending) {
        end.next = JobState::queued;
        end.due = now + backoff(job.attempts);
    } else {
        const bool any_accepted =
            std::count(state.begin(), state.end(), RecipientState::accepted) > 0;
        end.next = any_accepted ? JobState::done : JobState::failed;
    }
    return end;
}

Deliverer::Deliverer(Store& store, net::Url server, client::Options options,
                     client::PoolOptions pool, DelivererOptions deliverer) {
    if (deliverer.batch == 0 || deliverer.lease.count() <= 0 || deliverer.jitter < 0 ||
        deliverer.jitter >= 1 || deliverer.backoff > deliverer.max_backoff) {
        throw Error(errc::config,
                    "outbox: unusable deliverer options (batch 0, lease not above "
                    "0, jitter outside [0, 1), or backoff above max_backoff)");
    }
    if (deliverer.worker.empty()) {
        deliverer.worker = default_worker();
    }
    impl_ = std::make_unique<Impl>(store, std::move(server), std::move(options), pool,
                                   std::move(deliverer));
}

Deliverer::~Deliverer() = default;

const std::string& Deliverer::worker() const {
    return impl_->options.worker;
}

RunReport Deliverer::run_once() {
    Impl& d = *impl_;
    RunReport report;
    std::vector<Job> jobs = d.store->claim(d.options.worker, d.options.lease, d.options.batch,
                                           Clock::now(), d.options.allow_duplicates);
    report.claimed = jobs.size();
    if (jobs.empty()) {
        return report;
    }
    // Outcomes arrive on the pool's thread; this thread records each as soon as it comes (the
    // shorter the time between a verdict and its record, the smaller the unknown window) and
    // renews the leases of the jobs still out.
    std::mutex mutex;
    std::condition_variable ready;
    std::vector<std::pair<std::size_t, client::Outcome>> arrived;
    std::vector<std::shared_ptr<std::atomic<bool>>> marks_failed;
    for (std::size_t k = 0; k < jobs.size(); ++k) {
        marks_failed.push_back(std::make_shared<std::atomic<bool>>(false));
    }
    for (std::size_t k = 0; k < jobs.size(); ++k) {
        const Job& job = jobs[k];
        const Lease lease{job.id, job.attempt, d.options.worker};
        Store* store = d.store;
        auto failed = marks_failed[k];
        // The mark fails (lease lost, storage error): the stream goes bad before its end, so the
        // letter fails without its end of data; decide() then defers it (not the message's
        // fault, whatever errc the pool reports).
        auto mark = [store, lease, failed] {
            bool ok = false;
            try {
                ok = store->mark_data_end(lease, Clock::now());
            } catch (const Error&) {
                ok = false;
            }
            if (!ok) {
                *failed = true;
                throw Error(errc::storage, "outbox: cannot record the end of data of job " +
                                               std::to_string(lease.job));
            }
        };
        client::Letter letter(
            job.pending_envelope(), client::Letter::MessageSource([store, lease, mark] {
                return std::make_unique<MarkingStream>(store->open_text(lease.job), mark);
            }));
        d.pool.submit(std::move(letter), [&, k](client::Outcome o) {
            const std::lock_guard lock(mutex);
            arrived.emplace_back(k, std::move(o));
            ready.notify_all();
        });
    }
    std::vector<bool> recorded(jobs.size(), false);
    // A storage error is thrown only once every outcome is in: the pool's callbacks refer to
    // this frame. Jobs not recorded return when their lease expires.
    std::exception_ptr storage_error;
    // Leases are renewed every third of a lease, whether outcomes arrive meanwhile or not, and
    // between two records: a batch whose outcomes come one by one, or whose records wait for a
    // busy store, can take longer than a lease, and a job whose lease expires is claimed by
    // another worker (an attempt lost, or the job held after its end of data though this worker
    // delivers it).
    const auto renew_every = d.options.lease / 3;
    auto next_renewal = std::chrono::steady_clock::now() + renew_every;
    const auto renew_if_due = [&] {
        if (std::chrono::steady_clock::now() < next_renewal) {
            return;
        }
        for (std::size_t k = 0; k < jobs.size() && !storage_error; ++k) {
            if (!recorded[k]) {
                try {
                    (void)d.store->renew({jobs[k].id, jobs[k].attempt, d.options.worker},
                                         d.options.lease, Clock::now());
                } catch (const Error&) {
                    storage_error = std::current_exception();
                }
            }
        }
        next_renewal = std::chrono::steady_clock::now() + renew_every;
    };
    for (std::size_t left = jobs.size(); left > 0;) {
        std::vector<std::pair<std::size_t, client::Outcome>> batch;
        {
            std::unique_lock lock(mutex);
            if (ready.wait_until(lock, next_renewal, [&] { return !arrived.empty(); })) {
                batch.swap(arrived);
            }
        }
        renew_if_due();
        // The outcomes in hand are recorded together: one synced commit for all of them.
        std::vector<std::size_t> which;
        std::vector<Finish> ends;
        for (auto& [k, outcome] : batch) {
            --left;
            recorded[k] = true;
            if (storage_error) {
                continue;
            }
            const Job& job = jobs[k];
            if (*marks_failed[k] && outcome.error) {
                outcome.error = Error(errc::storage, "outbox: cannot record the end of data");
            }
            which.push_back(k);
            ends.push_back(
                {{job.id, job.attempt, d.options.worker}, d.decide(job, outcome, Clock::now())});
        }
        if (ends.empty()) {
            continue;
        }
        std::vector<bool> finished;
        try {
            finished = d.store->finish(ends, Clock::now());
        } catch (const Error&) {
            storage_error = std::current_exception();
            continue;
        }
        for (std::size_t i = 0; i < ends.size(); ++i) {
            const AttemptEnd& end = ends[i].end;
            if (!finished[i]) {
                ++report.lost;
                continue;
            }
            if (d.options.on_recorded) {
                d.options.on_recorded(jobs[which[i]], end);
            }
            switch (end.next) {
                case JobState::done:
                    ++report.delivered;
                    break;
                case JobState::queued:
                    ++report.deferred;
                    break;
                case JobState::held:
                    ++report.held;
                    break;
                case JobState::failed:
                case JobState::in_flight:
                    ++report.failed;
                    break;
            }
        }
    }
    if (storage_error) {
        std::rethrow_exception(storage_error);
    }
    return report;
}

RunReport Deliverer::run_until_idle() {
    RunReport total;
    for (;;) {
        const RunReport r = run_once();
        if (r.claimed == 0) {
            return total;
        }
        total.claimed += r.claimed;
        total.delivered += r.delivered;
        total.deferred += r.deferred;
        total.held += r.held;
        total.failed += r.failed;
        total.lost += r.lost;
    }
}

}  // namespace missive::outbox
