#pragma once

// The embedded outbox store: one SQLite file (target missive::outbox_sqlite, links libsqlite3).

#include <missive/outbox/store.hpp>

#include <chrono>
#include <filesystem>
#include <memory>

namespace missive::outbox {

/** How a SqliteStore opens its file. */
struct SqliteOptions {
    /// How long a statement waits for another process's write lock before errc::storage.
    std::chrono::milliseconds busy_timeout = std::chrono::seconds(10);
};

/**
 * `Store` over one SQLite file in WAL mode with `synchronous=FULL`: a committed enqueue survives
 * a crash of the process and of the machine. The file (and its -wal and -shm) is created 0600,
 * missing directories 0700. The text is kept in rows of 64 KiB, written and read one row at a
 * time, so no message is ever held whole. Several processes may share the file (SQLite's locks;
 * claims are one write transaction each, so no two workers claim the same job). The stores of
 * one file in one process take turns to write (a mutex shared by them), so they never wait for
 * each other in SQLite's busy handler, which sleeps and polls.
 *
 * An enqueue is one write transaction that reads the text as it stores it: other writers (a
 * worker's claim or record) wait for it, up to `busy_timeout`. Give it text that reads at disk
 * speed (a string, a file, a built message), not a slow network stream; spool that first.
 */
class SqliteStore final : public Store {
public:
    /**
     * Opens (or creates) the outbox at `path`.
     * @throws Error errc::storage when the file cannot be created, opened or set up, or is not
     * an outbox
     */
    explicit SqliteStore(const std::filesystem::path& path, SqliteOptions options = {});
    ~SqliteStore() override;
    SqliteStore(const SqliteStore&) = delete;
    SqliteStore& operator=(const SqliteStore&) = delete;
    SqliteStore(SqliteStore&&) = delete;
    SqliteStore& operator=(SqliteStore&&) = delete;

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

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;  // shared with the text streams it opened
};

}  // namespace missive::outbox
