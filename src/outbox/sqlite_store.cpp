// SQLite store of the outbox. Theory of operation:
//
// Tables: `jobs` (one row per message: state, due time, lease, envelope parameters), `recipients`
// (one row per envelope recipient with its state and last reply), `chunks` (the text, in rows of
// at most 64 KiB, so that it is written and read in bounded pieces and its size need not be
// known first), `attempts` (one row per attempt: worker, start, the moment the end of the data
// was about to be written, end and error).
//
// Durability: WAL with synchronous=FULL, so each COMMIT is on disk when it returns. Every change
// is one transaction (BEGIN IMMEDIATE: the write lock first, so two workers never interleave a
// read and a write of the same jobs): enqueue writes the job, its recipients and every chunk
// and commits once (a crash or a full disk before the commit leaves nothing); claim moves jobs
// to in_flight and inserts their attempts together.
//
// Crash recovery is part of claim: an in-flight job whose lease expired belonged to a worker
// that died or stalled. If its attempt has no data_end mark, no end of data was written: it is
// claimed again. If it has one, the server may have the message: the recipients that attempt
// tried become `unknown` and the job `held`, unless the claimer allows duplicates.

#include <missive/error.hpp>
#include <missive/outbox/sqlite_store.hpp>

#include "store_rows.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <streambuf>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

namespace missive::outbox {

using detail::chunk_size;
using detail::from_ms;
using detail::job_state_of;
using detail::join_lines;
using detail::parse_enhanced;
using detail::recipient_state_of;
using detail::split_lines;
using detail::to_ms;

namespace {

// One prepared statement, reset and cleared when it goes.
class Stmt {
public:
    Stmt(sqlite3* db, std::string_view sql);

    ~Stmt() { sqlite3_finalize(stmt_); }

    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    Stmt(Stmt&&) = delete;
    Stmt& operator=(Stmt&&) = delete;

    Stmt& bind(int i, std::int64_t v) {
        check(sqlite3_bind_int64(stmt_, i, v));
        return *this;
    }

    Stmt& bind(int i, std::string_view v) {
        check(
            sqlite3_bind_text(stmt_, i, v.data() != nullptr ? v.data() : "",  // never NULL
                              static_cast<int>(v.size()),
                              SQLITE_TRANSIENT));  // NOLINT(cppcoreguidelines-pro-type-cstyle-cast)
        return *this;
    }

    Stmt& bind_null(int i) {
        check(sqlite3_bind_null(stmt_, i));
        return *this;
    }

    Stmt& bind_blob(int i, std::string_view v) {
        check(sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC));
        return *this;
    }

    // @return true when a row is there
    bool step();

    void run() {
        while (step()) {
        }
    }

    // Makes the statement ready to be bound and run again.
    void reset() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }

    std::int64_t integer(int c) { return sqlite3_column_int64(stmt_, c); }

    bool is_null(int c) { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }

    std::string text(int c) {
        const auto* p = sqlite3_column_text(stmt_, c);
        return p ? std::string(reinterpret_cast<const char*>(p),  // NOLINT: SQLite's unsigned char
                               static_cast<std::size_t>(sqlite3_column_bytes(stmt_, c)))
                 : std::string();
    }

    std::string_view blob(int c) {
        const void* p = sqlite3_column_blob(stmt_, c);
        return p ? std::string_view(static_cast<const char*>(p),
                                    static_cast<std::size_t>(sqlite3_column_bytes(stmt_, c)))
                 : std::string_view();
    }

private:
    void check(int rc);

    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
    std::string message = "outbox: " + std::string(what) + ": " + sqlite3_errstr(rc);
    const char* detail = db ? sqlite3_errmsg(db) : nullptr;
    if (detail && std::string_view(detail) != sqlite3_errstr(rc)) {
        message += " (" + std::string(detail) + ")";
    }
    Error::Details details;
    // The OS's errno says what an I/O error was (EFBIG, ENOSPC, EIO …); it is meaningful only
    // after one.
    const int primary = rc & 0xff;
    const int os =
        db && (primary == SQLITE_IOERR || primary == SQLITE_FULL || primary == SQLITE_CANTOPEN)
            ? sqlite3_system_errno(db)
            : 0;
    if (os != 0) {
        details.cause = std::error_code(os, std::generic_category());
        message += ": " + details.cause.message();
    } else if (primary == SQLITE_FULL) {
        details.cause = std::make_error_code(std::errc::no_space_on_device);
    }
    throw Error(errc::storage, std::move(message), std::move(details));
}

Stmt::Stmt(sqlite3* db, std::string_view sql)
    : db_(db) {
    const int rc =
        sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
    if (rc != SQLITE_OK) {
        fail(db, rc, "preparing a statement");
    }
}

void Stmt::check(int rc) {
    if (rc != SQLITE_OK) {
        fail(db_, rc, "binding a value");
    }
}

bool Stmt::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    fail(db_, rc, "writing to the store");
}

void exec(sqlite3* db, const char* sql) {
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
        fail(db, rc, sql);
    }
}

// Writers of one file in one process take turns on a mutex before they ask SQLite for its write
// lock. Each connection (a worker's store) would otherwise find the lock taken and wait in
// SQLite's busy handler, which sleeps 1, 2, 5, 10 … ms and polls: with 4 workers `missive
// deliver` spent 15 s of its threads' time in clock_nanosleep for 1,000 messages, and delivered
// fewer per second than one worker (168 against 211). A mutex hands the lock over as soon as
// the commit is done. Other processes still meet the busy handler.
std::shared_ptr<std::mutex> write_turn(dev_t device, ino_t inode) {
    static std::mutex registry_mutex;
    static std::map<std::pair<dev_t, ino_t>, std::weak_ptr<std::mutex>> registry;
    const std::lock_guard lock(registry_mutex);
    std::erase_if(registry, [](const auto& entry) { return entry.second.expired(); });
    std::weak_ptr<std::mutex>& slot = registry[{device, inode}];
    std::shared_ptr<std::mutex> turn = slot.lock();
    if (!turn) {
        turn = std::make_shared<std::mutex>();
        slot = turn;
    }
    return turn;
}

// BEGIN IMMEDIATE … COMMIT, rolled back when left by an exception; in the file's write turn.
class Transaction {
public:
    Transaction(sqlite3* db, std::mutex& turn)
        : turn_(turn)
        , db_(db) {
        exec(db_, "BEGIN IMMEDIATE");
    }

    ~Transaction() {
        if (!done_) {
            (void)sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        }
    }

    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    Transaction(Transaction&&) = delete;
    Transaction& operator=(Transaction&&) = delete;

    void commit() {
        exec(db_, "COMMIT");
        done_ = true;
    }

private:
    std::lock_guard<std::mutex> turn_;
    sqlite3* db_;
    bool done_ = false;
};

constexpr const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS jobs(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  idempotency_key TEXT UNIQUE,
  state TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  due_ms INTEGER NOT NULL,
  size INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  worker TEXT,
  lease_ms INTEGER,
  attempt_id INTEGER,
  last_error TEXT NOT NULL DEFAULT '',
  env_from TEXT NOT NULL,
  body INTEGER NOT NULL, smtputf8 INTEGER NOT NULL, ret INTEGER NOT NULL, envid TEXT NOT NULL,
  requiretls INTEGER NOT NULL, mt_priority INTEGER, by_seconds INTEGER, by_return INTEGER,
  by_trace INTEGER);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs(state, due_ms);
CREATE TABLE IF NOT EXISTS recipients(
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  address TEXT NOT NULL, notify INTEGER NOT NULL, orcpt TEXT NOT NULL,
  state TEXT NOT NULL,
  code INTEGER, enhanced TEXT, reply TEXT, note TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(job_id, idx));
CREATE TABLE IF NOT EXISTS chunks(
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY(job_id, seq));
CREATE TABLE IF NOT EXISTS attempts(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  worker TEXT NOT NULL,
  started_ms INTEGER NOT NULL,
  data_end_ms INTEGER,
  finished_ms INTEGER,
  error TEXT);
CREATE INDEX IF NOT EXISTS attempts_job ON attempts(job_id);
)sql";

// Creates the missing directories of `path` 0700 (the outbox holds mail).
void make_directories(const std::filesystem::path& dir) {
    if (dir.empty() || std::filesystem::exists(dir)) {
        return;
    }
    make_directories(dir.parent_path());
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        throw Error(errc::storage,
                    "outbox: cannot create the directory " + dir.string() + ": " +
                        std::generic_category().message(errno),
                    Error::Details{.cause = std::error_code(errno, std::generic_category())});
    }
}

}  // namespace

struct SqliteStore::Impl {
    std::mutex mutex;
    sqlite3* db = nullptr;
    std::shared_ptr<std::mutex> turn;  // shared by the stores of this file in this process

    ~Impl() { sqlite3_close_v2(db); }

    Impl() = default;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    Impl(Impl&&) = delete;
    Impl& operator=(Impl&&) = delete;

    [[nodiscard]] std::vector<RecipientRecord> recipients_of(JobId id) const;
    [[nodiscard]] Job job_from(Stmt& s) const;
    [[nodiscard]] bool lease_is(const Lease& lease) const;
};

namespace {

constexpr const char* job_columns =
    "id, state, idempotency_key, created_ms, due_ms, size, attempts, worker, lease_ms, "
    "attempt_id, last_error, env_from, body, smtputf8, ret, envid, requiretls, mt_priority, "
    "by_seconds, by_return, by_trace";

}  // namespace

Job SqliteStore::Impl::job_from(Stmt& s) const {
    Job j;
    j.id = s.integer(0);
    j.state = job_state_of(s.text(1));
    j.idempotency_key = s.text(2);
    j.created = from_ms(s.integer(3));
    j.due = from_ms(s.integer(4));
    j.size = static_cast<std::uint64_t>(s.integer(5));
    j.attempts = static_cast<unsigned>(s.integer(6));
    j.worker = s.text(7);
    j.lease_until = from_ms(s.integer(8));
    j.attempt = s.integer(9);
    j.last_error = s.text(10);
    j.envelope.from = s.text(11);
    auto& p = j.envelope.params;
    p.body = static_cast<smtp::BodyType>(s.integer(12));
    p.smtputf8 = s.integer(13) != 0;
    p.ret = static_cast<smtp::DsnReturn>(s.integer(14));
    p.envid = s.text(15);
    p.requiretls = s.integer(16) != 0;
    if (!s.is_null(17)) {
        p.mt_priority = static_cast<int>(s.integer(17));
    }
    if (!s.is_null(18)) {
        p.by = smtp::DeliverBy{s.integer(18), s.integer(19) != 0, s.integer(20) != 0};
    }
    p.size = j.size;
    j.recipients = recipients_of(j.id);
    for (const auto& r : j.recipients) {
        j.envelope.to.push_back(r.recipient);
    }
    return j;
}

std::vector<RecipientRecord> SqliteStore::Impl::recipients_of(JobId id) const {
    Stmt s(db,
           "SELECT address, notify, orcpt, state, code, enhanced, reply, note FROM recipients "
           "WHERE job_id = ? ORDER BY idx");
    s.bind(1, id);
    std::vector<RecipientRecord> out;
    while (s.step()) {
        RecipientRecord r{smtp::Recipient(
            s.text(0), smtp::RcptParams{static_cast<smtp::Notify>(s.integer(1)), s.text(2)})};
        r.state = recipient_state_of(s.text(3));
        if (!s.is_null(4)) {
            smtp::Reply reply;
            reply.code = static_cast<int>(s.integer(4));
            reply.enhanced = parse_enhanced(s.text(5));
            reply.lines = split_lines(s.text(6));
            r.reply = std::move(reply);
        }
        r.note = s.text(7);
        out.push_back(std::move(r));
    }
    return out;
}

// A lease that expired still holds until another worker claims the job (claim is the only
// place that takes a job from its worker): until then nobody else acts on it.
bool SqliteStore::Impl::lease_is(const Lease& lease) const {
    Stmt s(db,
           "SELECT 1 FROM jobs WHERE id = ? AND state = 'in_flight' AND worker = ? "
           "AND attempt_id = ?");
    s.bind(1, lease.job).bind(2, lease.worker).bind(3, lease.attempt);
    return s.step();
}

namespace {

// Creates the database file 0600 before SQLite does (it would follow the umask; -wal and -shm
// take the main file's permissions), and only when it does not exist: closing any descriptor of
// a file drops every POSIX lock the process holds on it (fcntl(2)), those of its SQLite
// connections included. Another process's connection then believes itself the last one when it
// closes, checkpoints and deletes the WAL under ours, and our commits are lost, or the file
// corrupted (https://sqlite.org/howtocorrupt.html, 2.2). One thread at a time: a store opened
// by another thread must not find the file before its creator closed it.
void create_private(const std::filesystem::path& path) {
    static std::mutex creating;
    const std::lock_guard lock(creating);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int e = errno;
    if (fd >= 0) {
        ::close(fd);
        return;
    }
    if (e == EEXIST && ::access(path.c_str(), R_OK | W_OK) == 0) {
        return;
    }
    e = e == EEXIST ? errno : e;
    throw Error(errc::storage,
                "outbox: cannot open " + path.string() + ": " + std::generic_category().message(e),
                Error::Details{.cause = std::error_code(e, std::generic_category())});
}

}  // namespace

SqliteStore::SqliteStore(const std::filesystem::path& path, SqliteOptions options)
    : impl_(std::make_shared<Impl>()) {
    make_directories(path.parent_path());
    create_private(path);

    // The write turn is the file's (device and inode): stat, not open, since closing a
    // descriptor would drop this process's SQLite locks on it (see create_private).
    struct stat st {};

    if (::stat(path.c_str(), &st) != 0) {
        const int e = errno;
        throw Error(
            errc::storage,
            "outbox: cannot open " + path.string() + ": " + std::generic_category().message(e),
            Error::Details{.cause = std::error_code(e, std::generic_category())});
    }
    impl_->turn = write_turn(st.st_dev, st.st_ino);
    const int rc = sqlite3_open_v2(
        path.c_str(), &impl_->db,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        fail(impl_->db, rc, "opening " + path.string());
    }
    sqlite3_extended_result_codes(impl_->db, 1);
    sqlite3_busy_timeout(impl_->db, static_cast<int>(options.busy_timeout.count()));
    {
        Stmt wal(impl_->db, "PRAGMA journal_mode=WAL");
        if (!wal.step() || wal.text(0) != "wal") {
            throw Error(errc::storage, "outbox: " + path.string() + " cannot use WAL");
        }
    }
    exec(impl_->db, "PRAGMA synchronous=FULL");
    exec(impl_->db, "PRAGMA foreign_keys=ON");
    Transaction t(impl_->db, *impl_->turn);
    exec(impl_->db, schema);
    t.commit();
}

SqliteStore::~SqliteStore() = default;

Enqueued SqliteStore::enqueue(const NewJob& job, std::istream& text, TimePoint now) {
    const JobState first = initial_state(job);
    const std::lock_guard lock(impl_->mutex);
    sqlite3* db = impl_->db;
    Transaction t(db, *impl_->turn);
    if (!job.idempotency_key.empty()) {
        Stmt s(db, "SELECT id FROM jobs WHERE idempotency_key = ?");
        s.bind(1, job.idempotency_key);
        if (s.step()) {
            return Enqueued{s.integer(0), false};
        }
    }
    const auto& p = job.envelope.params;
    JobId id = 0;
    {
        Stmt s(db,
               "INSERT INTO jobs(idempotency_key, state, created_ms, due_ms, env_from, body, "
               "smtputf8, ret, envid, requiretls, mt_priority, by_seconds, by_return, by_trace) "
               "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        if (job.idempotency_key.empty()) {
            s.bind_null(1);
        } else {
            s.bind(1, job.idempotency_key);
        }
        s.bind(2, to_string(first));
        s.bind(3, to_ms(now)).bind(4, to_ms(std::max(now, job.not_before)));
        s.bind(5, job.envelope.from).bind(6, static_cast<std::int64_t>(p.body));
        s.bind(7, p.smtputf8 ? 1 : 0).bind(8, static_cast<std::int64_t>(p.ret)).bind(9, p.envid);
        s.bind(10, p.requiretls ? 1 : 0);
        if (p.mt_priority) {
            s.bind(11, *p.mt_priority);
        } else {
            s.bind_null(11);
        }
        if (p.by) {
            s.bind(12, p.by->seconds).bind(13, p.by->return_if_late ? 1 : 0);
            s.bind(14, p.by->trace ? 1 : 0);
        } else {
            s.bind_null(12).bind_null(13).bind_null(14);
        }
        s.run();
        id = sqlite3_last_insert_rowid(db);
    }
    {
        Stmt s(db,
               "INSERT INTO recipients(job_id, idx, address, notify, orcpt, state, note) "
               "VALUES(?, ?, ?, ?, ?, ?, ?)");
        for (std::size_t i = 0; i < job.envelope.to.size(); ++i) {
            const smtp::Recipient& r = job.envelope.to[i];
            const RecipientState state =
                job.states.empty() ? RecipientState::pending : job.states[i];
            s.bind(1, id).bind(2, static_cast<std::int64_t>(i)).bind(3, r.address);
            s.bind(4, static_cast<std::int64_t>(r.params.notify)).bind(5, r.params.orcpt);
            s.bind(6, to_string(state));
            s.bind(7, state == RecipientState::pending ? std::string_view() : job.note);
            s.run();
            s.reset();
        }
    }
    std::uint64_t size = 0;
    bool eight_bit = false;
    {
        Stmt s(db, "INSERT INTO chunks(job_id, seq, data) VALUES(?, ?, ?)");
        std::string piece(chunk_size, '\0');
        for (std::int64_t seq = 0;; ++seq) {
            text.read(piece.data(), static_cast<std::streamsize>(piece.size()));
            const auto got = static_cast<std::size_t>(text.gcount());
            if (text.bad()) {
                throw Error(errc::invalid_input, "outbox: reading the message failed after " +
                                                     std::to_string(size + got) + " octets");
            }
            if (got == 0) {
                break;
            }
            const std::string_view bytes(piece.data(), got);
            eight_bit = eight_bit || std::any_of(bytes.begin(), bytes.end(), [](char c) {
                            return static_cast<unsigned char>(c) > 127;
                        });
            s.bind(1, id).bind(2, seq).bind_blob(3, bytes);
            s.run();
            s.reset();
            size += got;
        }
    }
    {
        // RFC 6152: 8-bit text goes as BODY=8BITMIME; 7-bit as 7BIT, so a sender never needs a
        // first pass over the stored text to find out.
        Stmt s(db,
               "UPDATE jobs SET size = ?, body = CASE WHEN body = 0 THEN ? ELSE body END "
               "WHERE id = ?");
        s.bind(1, static_cast<std::int64_t>(size));
        s.bind(2, static_cast<std::int64_t>(eight_bit ? smtp::BodyType::eight_bit_mime
                                                      : smtp::BodyType::seven_bit));
        s.bind(3, id).run();
    }
    t.commit();
    return Enqueued{id, true};
}

std::vector<Job> SqliteStore::claim(std::string_view worker, std::chrono::milliseconds lease,
                                    std::size_t max, TimePoint now, bool allow_duplicates) {
    const std::lock_guard lock(impl_->mutex);
    sqlite3* db = impl_->db;
    Transaction t(db, *impl_->turn);
    const std::int64_t now_ms = to_ms(now);
    // Recovery first: jobs of workers whose lease expired after their end of data.
    if (!allow_duplicates) {
        std::vector<std::pair<JobId, std::int64_t>> unknown;
        {
            Stmt s(db,
                   "SELECT j.id, j.attempt_id FROM jobs j JOIN attempts a ON a.id = "
                   "j.attempt_id WHERE j.state = 'in_flight' AND j.lease_ms <= ? AND "
                   "a.data_end_ms IS NOT NULL");
            s.bind(1, now_ms);
            while (s.step()) {
                unknown.emplace_back(s.integer(0), s.integer(1));
            }
        }
        for (const auto& [id, attempt] : unknown) {
            const std::string why =
                "outcome unknown: the worker's lease expired after the end of the data";
            Stmt r(db,
                   "UPDATE recipients SET state = 'unknown', note = ? WHERE job_id = ? AND "
                   "state = 'pending'");
            r.bind(1, why).bind(2, id).run();
            Stmt a(db, "UPDATE attempts SET finished_ms = ?, error = ? WHERE id = ?");
            a.bind(1, now_ms).bind(2, why).bind(3, attempt).run();
            Stmt j(db,
                   "UPDATE jobs SET state = 'held', worker = NULL, lease_ms = NULL, "
                   "last_error = ? WHERE id = ?");
            j.bind(1, why).bind(2, id).run();
        }
    }

    // The oldest due first: up to `max` queued jobs and up to `max` expired leases, merged by
    // (due, id). Two searches, not one with OR: jobs_due (state, due_ms, then the rowid) gives
    // the queued ones in that order, so the first reads `max` rows whatever the queue's length;
    // an OR made SQLite read and sort every due job under the write lock, a cost that grew
    // with the queue (callgrind, a claim of 32 and its 32 finishes: 55 M instructions with
    // 20,000 queued, 161 M with 80,000; now 20 M for both). In-flight jobs are few.
    struct Pick {
        std::int64_t due;
        JobId id;
        std::int64_t previous;  // the expired lease's attempt, 0 for a queued job
    };

    std::vector<Pick> picked;
    {
        Stmt s(db,
               "SELECT due_ms, id FROM jobs WHERE state = 'queued' AND due_ms <= ?1 "
               "ORDER BY due_ms, id LIMIT ?2");
        s.bind(1, now_ms).bind(2, static_cast<std::int64_t>(max));
        while (s.step()) {
            picked.push_back({s.integer(0), s.integer(1), 0});
        }
        Stmt e(db,
               "SELECT due_ms, id, COALESCE(attempt_id, 0) FROM jobs WHERE state = 'in_flight' "
               "AND lease_ms <= ?1 ORDER BY due_ms, id LIMIT ?2");
        e.bind(1, now_ms).bind(2, static_cast<std::int64_t>(max));
        while (e.step()) {
            picked.push_back({e.integer(0), e.integer(1), e.integer(2)});
        }
        std::sort(picked.begin(), picked.end(), [](const Pick& a, const Pick& b) {
            return std::tie(a.due, a.id) < std::tie(b.due, b.id);
        });
        picked.resize(std::min(picked.size(), max));
    }
    std::vector<Job> jobs;
    for (const Pick& p : picked) {
        const JobId id = p.id;
        if (p.previous != 0) {
            Stmt a(db, "UPDATE attempts SET finished_ms = ?, error = ? WHERE id = ?");
            a.bind(1, now_ms).bind(2, "abandoned: the worker's lease expired").bind(3, p.previous);
            a.run();
        }
        Stmt a(db, "INSERT INTO attempts(job_id, worker, started_ms) VALUES(?, ?, ?)");
        a.bind(1, id).bind(2, worker).bind(3, now_ms).run();
        const std::int64_t attempt = sqlite3_last_insert_rowid(db);
        Stmt j(db,
               "UPDATE jobs SET state = 'in_flight', worker = ?, lease_ms = ?, attempt_id = ?, "
               "attempts = attempts + 1 WHERE id = ?");
        j.bind(1, worker).bind(2, now_ms + lease.count()).bind(3, attempt).bind(4, id).run();
        Stmt s(db, std::string("SELECT ") + job_columns + " FROM jobs WHERE id = ?");
        s.bind(1, id);
        if (s.step()) {
            jobs.push_back(impl_->job_from(s));
        }
    }
    t.commit();
    return jobs;
}

bool SqliteStore::renew(const Lease& lease, std::chrono::milliseconds duration, TimePoint now) {
    const std::lock_guard lock(impl_->mutex);
    Transaction t(impl_->db, *impl_->turn);
    if (!impl_->lease_is(lease)) {
        return false;
    }
    Stmt s(impl_->db, "UPDATE jobs SET lease_ms = ? WHERE id = ?");
    s.bind(1, to_ms(now) + duration.count()).bind(2, lease.job).run();
    t.commit();
    return true;
}

bool SqliteStore::mark_data_end(const Lease& lease, TimePoint now) {
    const std::lock_guard lock(impl_->mutex);
    Transaction t(impl_->db, *impl_->turn);
    if (!impl_->lease_is(lease)) {
        return false;
    }
    Stmt s(impl_->db, "UPDATE attempts SET data_end_ms = ? WHERE id = ?");
    s.bind(1, to_ms(now)).bind(2, lease.attempt).run();
    t.commit();
    return true;
}

std::vector<bool> SqliteStore::finish(std::span<const Finish> ends, TimePoint now) {
    const std::lock_guard lock(impl_->mutex);
    sqlite3* db = impl_->db;
    Transaction t(db, *impl_->turn);
    Stmt r(db,
           "UPDATE recipients SET state = ?, code = ?, enhanced = ?, reply = ?, note = ? "
           "WHERE job_id = ? AND idx = ?");
    Stmt a(db, "UPDATE attempts SET finished_ms = ?, error = ? WHERE id = ?");
    Stmt j(db,
           "UPDATE jobs SET state = ?, due_ms = ?, worker = NULL, lease_ms = NULL, "
           "last_error = ? WHERE id = ?");
    std::vector<bool> recorded;
    for (const auto& [lease, end] : ends) {
        recorded.push_back(impl_->lease_is(lease));
        if (!recorded.back()) {
            continue;
        }
        for (const auto& u : end.updates) {
            r.bind(1, to_string(u.state));
            if (u.reply) {
                r.bind(2, u.reply->code);
                if (u.reply->enhanced) {
                    r.bind(3, u.reply->enhanced->to_string());
                } else {
                    r.bind_null(3);
                }
                r.bind(4, join_lines(u.reply->lines));
            } else {
                r.bind_null(2).bind_null(3).bind_null(4);
            }
            r.bind(5, u.note).bind(6, lease.job).bind(7, static_cast<std::int64_t>(u.index));
            r.run();
            r.reset();
        }
        a.bind(1, to_ms(now)).bind(2, end.error).bind(3, lease.attempt).run();
        a.reset();
        j.bind(1, to_string(end.next)).bind(2, to_ms(end.next == JobState::queued ? end.due : now));
        j.bind(3, end.error).bind(4, lease.job).run();
        j.reset();
    }
    t.commit();
    return recorded;
}

std::unique_ptr<std::istream> SqliteStore::open_text(JobId id) {
    {
        const std::lock_guard lock(impl_->mutex);
        Stmt s(impl_->db, "SELECT 1 FROM jobs WHERE id = ?");
        s.bind(1, id);
        if (!s.step()) {
            throw Error(errc::invalid_input, "outbox: no job " + std::to_string(id));
        }
    }
    std::shared_ptr<Impl> impl = impl_;
    return detail::chunk_stream([impl, id](std::int64_t seq, std::string& into) {
        const std::lock_guard lock(impl->mutex);
        Stmt s(impl->db, "SELECT data FROM chunks WHERE job_id = ? AND seq = ?");
        s.bind(1, id).bind(2, seq);
        if (!s.step()) {
            return false;
        }
        into.assign(s.blob(0));
        return true;
    });
}

std::optional<Job> SqliteStore::find(JobId id) {
    const std::lock_guard lock(impl_->mutex);
    Stmt s(impl_->db, std::string("SELECT ") + job_columns + " FROM jobs WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) {
        return std::nullopt;
    }
    return impl_->job_from(s);
}

std::vector<Job> SqliteStore::list(const ListFilter& filter) {
    const std::lock_guard lock(impl_->mutex);
    Stmt s(impl_->db,
           std::string("SELECT ") + job_columns +
               " FROM jobs WHERE (?1 IS NULL OR state = ?1) "
               "AND (?2 = 0 OR (state = 'queued' AND attempts > 0)) "
               "AND (?3 = '' OR instr(lower(env_from), lower(?3)) > 0) "
               "AND (?4 = '' OR EXISTS(SELECT 1 FROM recipients r WHERE r.job_id = jobs.id "
               "AND instr(lower(r.address), lower(?4)) > 0)) "
               "AND (?5 IS NULL OR created_ms < ?5) AND id > ?6 ORDER BY id LIMIT ?7");
    if (filter.state) {
        s.bind(1, to_string(*filter.state));
    } else {
        s.bind_null(1);
    }
    s.bind(2, filter.deferred ? 1 : 0).bind(3, filter.sender).bind(4, filter.recipient);
    if (filter.created_before) {
        s.bind(5, to_ms(*filter.created_before));
    } else {
        s.bind_null(5);
    }
    s.bind(6, filter.after).bind(7, static_cast<std::int64_t>(filter.limit));
    std::vector<Job> out;
    while (s.step()) {
        out.push_back(impl_->job_from(s));
    }
    return out;
}

std::vector<Attempt> SqliteStore::attempts(JobId id) {
    const std::lock_guard lock(impl_->mutex);
    Stmt s(impl_->db,
           "SELECT id, worker, started_ms, data_end_ms, finished_ms, COALESCE(error, '') "
           "FROM attempts WHERE job_id = ? ORDER BY id");
    s.bind(1, id);
    std::vector<Attempt> out;
    while (s.step()) {
        Attempt a{s.integer(0), s.text(1), from_ms(s.integer(2))};
        if (!s.is_null(3)) {
            a.data_end = from_ms(s.integer(3));
        }
        if (!s.is_null(4)) {
            a.finished = from_ms(s.integer(4));
        }
        a.error = s.text(5);
        out.push_back(std::move(a));
    }
    return out;
}

namespace {

// @return the job's state, or nothing for an unknown id (inside the caller's transaction)
std::optional<JobState> state_of(sqlite3* db, JobId id) {
    Stmt s(db, "SELECT state FROM jobs WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) {
        return std::nullopt;
    }
    return job_state_of(s.text(0));
}

// Turns the recipients of job `id` in either state of `from` into `to` with `note`, then moves the
// job: to queued (due `now`) when some recipient is pending, else final. In the caller's
// transaction.
void settle(sqlite3* db, JobId id, std::pair<std::string_view, std::string_view> from,
            std::string_view to, std::string_view note, TimePoint now) {
    Stmt r(db, "UPDATE recipients SET state = ?, note = ? WHERE job_id = ? AND state IN (?, ?)");
    r.bind(1, to).bind(2, note).bind(3, id).bind(4, from.first).bind(5, from.second).run();
    Stmt j(db,
           "UPDATE jobs SET due_ms = ?1, state = CASE "
           "WHEN EXISTS(SELECT 1 FROM recipients WHERE job_id = ?2 AND state = 'pending') "
           "THEN 'queued' "
           "WHEN EXISTS(SELECT 1 FROM recipients WHERE job_id = ?2 AND state = 'accepted') "
           "THEN 'done' ELSE 'failed' END WHERE id = ?2");
    j.bind(1, to_ms(now)).bind(2, id).run();
}

}  // namespace

bool SqliteStore::release(JobId id, bool retry, TimePoint now) {
    const std::lock_guard lock(impl_->mutex);
    sqlite3* db = impl_->db;
    Transaction t(db, *impl_->turn);
    if (state_of(db, id) != JobState::held) {
        return false;
    }
    if (retry) {
        settle(db, id, {"unknown", "unknown"}, "pending", "released for a retry: may arrive twice",
               now);
    } else {
        settle(db, id, {"unknown", "unknown"}, "refused", "outcome unknown; not retried", now);
    }
    t.commit();
    return true;
}

bool SqliteStore::hold(JobId id, TimePoint /*now*/) {
    const std::lock_guard lock(impl_->mutex);
    const std::lock_guard turn(*impl_->turn);
    Stmt s(impl_->db, "UPDATE jobs SET state = 'held' WHERE id = ? AND state = 'queued'");
    s.bind(1, id).run();
    return sqlite3_changes(impl_->db) > 0;
}

bool SqliteStore::retry(JobId id, TimePoint now) {
    const std::lock_guard lock(impl_->mutex);
    sqlite3* db = impl_->db;
    Transaction t(db, *impl_->turn);
    const std::optional<JobState> state = state_of(db, id);
    if (state == JobState::queued) {
        Stmt s(db, "UPDATE jobs SET due_ms = ? WHERE id = ?");
        s.bind(1, to_ms(now)).bind(2, id).run();
    } else if (state == JobState::held) {
        settle(db, id, {"unknown", "unknown"}, "pending", "released for a retry: may arrive twice",
               now);
    } else {
        return false;
    }
    t.commit();
    return true;
}

bool SqliteStore::cancel(JobId id, TimePoint now) {
    const std::lock_guard lock(impl_->mutex);
    sqlite3* db = impl_->db;
    Transaction t(db, *impl_->turn);
    const std::optional<JobState> state = state_of(db, id);
    if (state != JobState::queued && state != JobState::held) {
        return false;
    }
    settle(db, id, {"pending", "unknown"}, "refused", "cancelled", now);
    Stmt s(db, "UPDATE jobs SET last_error = 'cancelled' WHERE id = ?");
    s.bind(1, id).run();
    t.commit();
    return true;
}

std::size_t SqliteStore::purge(TimePoint before) {
    const std::lock_guard lock(impl_->mutex);
    const std::lock_guard turn(*impl_->turn);
    Stmt s(impl_->db, "DELETE FROM jobs WHERE state IN ('done', 'failed') AND created_ms < ?");
    s.bind(1, to_ms(before)).run();
    return static_cast<std::size_t>(sqlite3_changes(impl_->db));
}

Stats SqliteStore::stats(TimePoint now) {
    const std::lock_guard lock(impl_->mutex);
    Stats st;
    Stmt s(impl_->db,
           // An in-flight job whose lease expired waits for another worker: deferred.
           "SELECT CASE WHEN state = 'in_flight' AND lease_ms <= ? THEN 'queued' ELSE state END, "
           "attempts > 0, COUNT(*), MIN(created_ms) FROM jobs GROUP BY 1, 2");
    s.bind(1, to_ms(now));
    std::optional<std::int64_t> oldest;
    while (s.step()) {
        const JobState state = job_state_of(s.text(0));
        const auto n = static_cast<std::uint64_t>(s.integer(2));
        switch (state) {
            case JobState::queued:
                (s.integer(1) != 0 ? st.deferred : st.queued) += n;
                break;
            case JobState::in_flight:
                st.in_flight += n;
                break;
            case JobState::held:
                st.held += n;
                break;
            case JobState::done:
                st.delivered += n;
                break;
            case JobState::failed:
                st.failed += n;
                break;
        }
        if (state != JobState::done && state != JobState::failed) {
            oldest = std::min(oldest.value_or(s.integer(3)), s.integer(3));
        }
    }
    if (oldest) {
        st.oldest_age = std::chrono::duration_cast<std::chrono::seconds>(now - from_ms(*oldest));
    }
    return st;
}

}  // namespace missive::outbox
