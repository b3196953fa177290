#pragma once

// The server outbox store: PostgreSQL 15 or later (target missive::outbox_postgres, links libpq).

#include <missive/outbox/store.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace missive::outbox {

/** How a PostgresStore connects. */
struct PostgresOptions {
    /// The schema of the outbox's tables, created if missing; "" keeps the connection's
    /// search_path (normally `public`). Several outboxes may share a database this way.
    std::string schema{};
    /// How long connecting may take (libpq's connect_timeout) before errc::storage, unless
    /// the connection string sets its own (as it may application_name).
    std::chrono::seconds connect_timeout = std::chrono::seconds(10);
    /// Shown in pg_stat_activity.
    std::string application_name = "missive-outbox";
};

/**
 * `Store` over a PostgreSQL database (tables `outbox_jobs`, `outbox_recipients`,
 * `outbox_chunks` and `outbox_attempts`, created when missing). A committed change is durable
 * as PostgreSQL makes commits durable (`synchronous_commit`, on by default). The text is kept
 * in `bytea` rows of 64 KiB, written and read one row at a time, so no message is ever held
 * whole.
 *
 * Many processes on many machines may share the queue: a claim is one transaction that locks
 * the jobs it takes (`FOR UPDATE SKIP LOCKED`), so no two workers ever claim the same job, and
 * a worker whose lease another claim took over is refused (`renew`, `mark_data_end` and
 * `finish` lock the job's row and check the lease).
 *
 * Thread-safe through one connection under a mutex: the calls of one store object run one at a
 * time. Workers that want to claim and record in parallel open one store object each. An
 * enqueue reads its text inside its transaction: other connections are not delayed by a slow
 * stream (no lock they need is held), but the other calls on the same store object are.
 *
 * A lost connection is re-established by the next call. A read (`find`, `list`, `attempts`,
 * `stats`, `open_text` and its stream) that fails because the connection was lost reconnects
 * and runs once more; a change that fails so is reported (errc::storage), since whether its
 * commit happened cannot be known: retrying it is the caller's decision (an idempotency key
 * makes an enqueue safe to retry).
 *
 * Error messages never show the connection string's password.
 */
class PostgresStore final : public Store {
public:
    /**
     * Connects and creates the schema when missing (under an advisory lock, so that processes
     * starting together do not race).
     * @param conninfo a libpq connection string (`host=… dbname=…`) or URI
     * (`postgresql://user@host:5432/db`)
     * @throws Error errc::storage when the server cannot be reached or the schema not created;
     * errc::config when `conninfo` cannot be parsed
     */
    explicit PostgresStore(std::string conninfo, PostgresOptions options = {});
    ~PostgresStore() override;
    PostgresStore(const PostgresStore&) = delete;
    PostgresStore& operator=(const PostgresStore&) = delete;
    PostgresStore(PostgresStore&&) = delete;
    PostgresStore& operator=(PostgresStore&&) = delete;

    Enqueued enqueue(const NewJob& job, std::istream& text, TimePoint now) override;
    std::vector<Job> claim(std::string_view worker, std::chrono::milliseconds lease,
                           std::size_t max, TimePoint now, bool allow_duplicates) override;
    bool renew(const Lease& lease, std::chrono::milliseconds duration, TimePoint now) override;
    bool mark_data_end(const Lease& lease, TimePoint now) override;
    std::vector<bool> finish(std::span<const Finish> ends, TimePoint now) override;
    using Store::finish;
    std::unique_ptr<std::istream> open_text(JobId id) override;
    std::optional<Job> find(JobId id) override;
    std::vector<Job> list(const ListFilter& filter) override;
    std::vector<Attempt> attempts(JobId id) override;
    bool release(JobId id, bool retry, TimePoint now) override;
    bool hold(JobId id, TimePoint now) override;
    bool retry(JobId id, TimePoint now) override;
    bool cancel(JobId id, TimePoint now) override;
    std::size_t purge(TimePoint before) override;
    Stats stats(TimePoint now) override;

    /** @return where the store connects, without the password (for logs). */
    [[nodiscard]] const std::string& where() const noexcept;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;  // shared with the text streams it opened
};

}  // namespace missive::outbox
