#pragma once

// The storage interface of the durable outbox: jobs (an envelope, per-recipient state and the
// message text, stored once), claimed by workers under leases, with every attempt recorded.
// SQLite implements it in <missive/outbox/sqlite_store.hpp> (target missive::outbox_sqlite);
// a PostgreSQL store implements the same contract.

#include <missive/smtp/envelope.hpp>
#include <missive/smtp/reply.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace missive::outbox {

/** Times in the outbox: wall-clock (they are stored and compared across processes). */
using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

/** A job's id, unique in its store, never reused. */
using JobId = std::int64_t;

/** Where one recipient of a job stands. */
enum class RecipientState {
    pending,   ///< to be tried (never tried, or deferred after a 4xx: see Job::due)
    accepted,  ///< the server took the message for it: never sent to it again
    refused,   ///< refused for good (5xx), or given up (maximum age): final
    unknown,   ///< the message may have reached it (outcome unknown): held for a decision
};

/** Where a job stands. */
enum class JobState {
    queued,     ///< waiting until `due` (new, or deferred recipients)
    in_flight,  ///< claimed by a worker whose lease has not expired
    held,       ///< outcome unknown for some recipient: waits for release() or fail()
    done,       ///< every recipient final; at least one accepted (delivered)
    failed,     ///< every recipient final; none accepted
};

/** One recipient of a job and the last reply about it. */
struct RecipientRecord {
    smtp::Recipient recipient;
    RecipientState state = RecipientState::pending;
    std::optional<smtp::Reply> reply{};  ///< the last reply that decided `state`, if any
    std::string note{};                  ///< why, when no reply says it (a lost connection …)
};

/** What enqueue stores besides the text. */
struct NewJob {
    smtp::Envelope envelope{};
    /** A caller's key: a second enqueue with the same key stores nothing and returns the first
     * job's id. Empty: no key. */
    std::string idempotency_key{};
    TimePoint not_before{};  ///< first attempt not before this (default: at once)
    /** Where each recipient of `envelope.to` starts (same order); empty: all pending. A caller
     * that tried to send before queueing (sendmail) records what it learnt: accepted and refused
     * recipients are final and never tried; any `unknown` one makes the job start held. A job
     * with no pending or unknown recipient is refused (errc::invalid_input). */
    std::vector<RecipientState> states{};
    /** Why, for the recipients of `states` that are not pending (the reply or error text). */
    std::string note{};
};

/** The result of Store::enqueue. */
struct Enqueued {
    JobId id = 0;
    bool created = true;  ///< false: the idempotency key was known; nothing was stored
};

/** A job as a worker or an inspector sees it. */
struct Job {
    JobId id = 0;
    JobState state = JobState::queued;
    smtp::Envelope envelope{};  ///< every recipient, as enqueued (with the mail parameters)
    std::vector<RecipientRecord> recipients{};  ///< same order as envelope.to
    std::string idempotency_key{};
    TimePoint created{};
    TimePoint due{};           ///< next attempt not before this
    std::uint64_t size = 0;    ///< octets of the stored text
    unsigned attempts = 0;     ///< attempts started so far (this one included, when claimed)
    std::string worker{};      ///< the claiming worker, while in flight
    TimePoint lease_until{};   ///< while in flight
    std::int64_t attempt = 0;  ///< the id of the attempt in progress (claimed jobs)
    std::string last_error{};  ///< what the last attempt ended with, if it failed

    /** @return the envelope of the recipients still to try (state pending). */
    [[nodiscard]] smtp::Envelope pending_envelope() const;
};

/** One attempt of a job, as recorded. */
struct Attempt {
    std::int64_t id = 0;
    std::string worker{};
    TimePoint started{};
    std::optional<TimePoint> data_end{};  ///< when the end of the data was about to be written
    std::optional<TimePoint> finished{};  ///< none: in progress, or its worker died
    std::string error{};
};

/** Which jobs Store::list returns (every condition given must hold). */
struct ListFilter {
    std::optional<JobState> state{};
    /** Only deferred jobs: queued after at least one attempt (state queued implied). */
    bool deferred = false;
    std::string sender{};     ///< the envelope sender contains this (ASCII case-insensitive)
    std::string recipient{};  ///< some recipient contains this (ASCII case-insensitive)
    std::optional<TimePoint> created_before{};
    JobId after = 0;  ///< ids greater than this (to page through a long queue)
    std::size_t limit = 1000;
};

/** A claim's proof: finish and renew are refused once the lease went to someone else. */
struct Lease {
    JobId job = 0;
    std::int64_t attempt = 0;
    std::string worker{};
};

/** How one attempt ended, as the worker records it. */
struct AttemptEnd {
    /** New state and reply per recipient index (into Job::recipients); the others keep theirs. */
    struct Update {
        std::size_t index = 0;
        RecipientState state = RecipientState::pending;
        std::optional<smtp::Reply> reply{};
        std::string note{};
    };

    std::vector<Update> updates{};
    /** Where the job goes: queued (with `due`), held, done or failed. The store checks nothing of
     * the policy; the Deliverer decides. */
    JobState next = JobState::queued;
    TimePoint due{};
    std::string error{};  ///< the attempt's error text ("" when it succeeded)
};

/** One attempt's end, for Store::finish. */
struct Finish {
    Lease lease{};
    AttemptEnd end{};
};

/** Counts for metrics (`missive queue`, a scrape endpoint). */
struct Stats {
    std::uint64_t queued = 0;     ///< waiting, never attempted
    std::uint64_t deferred = 0;   ///< waiting after at least one attempt
    std::uint64_t in_flight = 0;  ///< claimed, lease not expired
    std::uint64_t held = 0;       ///< outcome unknown, waiting for a decision
    std::uint64_t delivered = 0;  ///< done: every recipient final, at least one accepted
    std::uint64_t failed = 0;     ///< every recipient refused or given up
    /** Age of the oldest job not yet final (queued, deferred, in flight or held). */
    std::optional<std::chrono::seconds> oldest_age{};
};

/**
 * A durable queue of jobs. Every method is atomic: after a crash at any point a job is either
 * absent or whole, and each recorded state change either happened or did not.
 *
 * Claiming: `claim` takes up to `max` jobs that are queued and due (or in flight with a lease
 * that expired), marks them in flight for `worker` until now + lease, and records the start of
 * an attempt for each. A job whose lease expired is looked at first (a crashed worker):
 *  - if its attempt never reached the end of the data (`mark_data_end` not recorded), nothing of
 *    it can have been delivered by that attempt: it is claimed again as usual;
 *  - otherwise the server may have accepted it: its recipients that were being tried become
 *    `unknown` and the job `held` ("outcome unknown"), unless `allow_duplicates`, in which case
 *    it is claimed again (the message may then arrive twice).
 *
 * Thread-safe: a store object may be used from several threads; several processes (or machines,
 * for a server database) may use the same queue.
 */
class Store {
public:
    Store() = default;
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;
    Store(Store&&) = delete;
    Store& operator=(Store&&) = delete;
    virtual ~Store() = default;

    /**
     * Stores a job and its text, read from `text` to its end in bounded pieces. Returns once the
     * job is durable (committed and synced). With a known idempotency key nothing is read or
     * stored and the existing id is returned.
     * @throws Error errc::storage when the store cannot write (disk full, file too large, I/O):
     * nothing of the job is stored; errc::invalid_input when `text` fails before its end, or
     * the envelope has no recipient
     */
    virtual Enqueued enqueue(const NewJob& job, std::istream& text, TimePoint now) = 0;

    /**
     * Claims up to `max` jobs due at `now` (oldest due first) for `worker`, as described above.
     * @return the claimed jobs, each with its attempt id (see Job::attempt)
     * @throws Error errc::storage
     */
    virtual std::vector<Job> claim(std::string_view worker, std::chrono::milliseconds lease,
                                   std::size_t max, TimePoint now, bool allow_duplicates) = 0;

    /** Extends a lease to now + lease. @return false when the lease is no longer ours
     * @throws Error errc::storage */
    virtual bool renew(const Lease& lease, std::chrono::milliseconds duration, TimePoint now) = 0;

    /**
     * Records, durably, that the attempt is about to write the end of the message data: from
     * here on a crash leaves its outcome unknown. Called before the last octets go out.
     * @return false when the lease is no longer ours
     * @throws Error errc::storage
     */
    virtual bool mark_data_end(const Lease& lease, TimePoint now) = 0;

    /**
     * Records the ends of attempts, recipients' states and each job's next state, all in one
     * transaction: one synced commit for the outcomes a worker has in hand.
     * @return per entry, false (and nothing recorded for it) when its lease is no longer ours
     * @throws Error errc::storage (nothing recorded)
     */
    virtual std::vector<bool> finish(std::span<const Finish> ends, TimePoint now) = 0;

    /** Records the end of one attempt. @return false (nothing recorded) when the lease is no
     * longer ours @throws Error errc::storage */
    bool finish(const Lease& lease, const AttemptEnd& end, TimePoint now);

    /** Opens the stored text of job `id` from its start, read in bounded pieces.
     * @throws Error errc::invalid_input for an unknown id; errc::storage */
    virtual std::unique_ptr<std::istream> open_text(JobId id) = 0;

    /** @return job `id`, or nothing. @throws Error errc::storage */
    virtual std::optional<Job> find(JobId id) = 0;

    /** @return the jobs that match `filter`, by id (oldest first). @throws Error errc::storage */
    virtual std::vector<Job> list(const ListFilter& filter) = 0;

    /** @return the attempts of job `id`, oldest first (none for an unknown id).
     * @throws Error errc::storage */
    virtual std::vector<Attempt> attempts(JobId id) = 0;

    /**
     * Decides a held job: with `retry`, its unknown recipients become pending and the job is
     * queued now (they may receive the message twice); without, they become refused and the job
     * final. @return false when the job is not held @throws Error errc::storage
     */
    virtual bool release(JobId id, bool retry, TimePoint now) = 0;

    /**
     * An operator's pause: a queued job becomes held (not claimed) until retry() or cancel().
     * @return false when the job is not queued @throws Error errc::storage
     */
    virtual bool hold(JobId id, TimePoint now) = 0;

    /**
     * Makes a queued job due now; a held one is released for a retry (its unknown recipients
     * become pending: they may receive the message twice) and queued now.
     * @return false when the job is neither queued nor held @throws Error errc::storage
     */
    virtual bool retry(JobId id, TimePoint now) = 0;

    /**
     * Gives up a job that is queued or held: its pending and unknown recipients become refused
     * (note "cancelled"), and the job done (some recipient accepted) or failed.
     * @return false when the job is in flight, final or unknown @throws Error errc::storage
     */
    virtual bool cancel(JobId id, TimePoint now) = 0;

    /** Deletes the final jobs (done, failed) created before `before`, with their text and
     * attempts. @return how many @throws Error errc::storage */
    virtual std::size_t purge(TimePoint before) = 0;

    /** @return the counts at `now`. @throws Error errc::storage */
    virtual Stats stats(TimePoint now) = 0;
};

/**
 * Checks what every Store::enqueue checks before it stores anything: a recipient, `states`
 * empty or one per recipient, and some recipient pending or unknown.
 * @return the job's first state: held when a recipient's outcome is unknown, else queued
 * @throws Error errc::invalid_input
 */
JobState initial_state(const NewJob& job);

/**
 * @return `stats` in Prometheus' text exposition format, one gauge per count
 * (`missive_outbox_jobs{state="queued"} 3` …) and `missive_outbox_oldest_age_seconds` (0 when
 * nothing waits): what a scrape endpoint serves, and readable as it is.
 */
std::string to_prometheus(const Stats& stats);

/** @return "queued", "in_flight", "held", "done" or "failed". */
std::string_view to_string(JobState state) noexcept;

/** @return "pending", "accepted", "refused" or "unknown". */
std::string_view to_string(RecipientState state) noexcept;

}  // namespace missive::outbox
