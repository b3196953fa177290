// PostgreSQL store of the outbox. Theory of operation:
//
// Tables (the SQLite store's schema, prefixed outbox_): `outbox_jobs` (one row per message:
// state, due time, lease, the data_end mark of the attempt in progress, envelope parameters),
// `outbox_recipients` (one row per envelope recipient with its state and last reply),
// `outbox_chunks` (the text in bytea rows of at most 64 KiB, written and read one at a time,
// so its size need not be known first and no message is held whole), `outbox_attempts` (one
// row per attempt: worker, start, the moment the end of the data was about to be written, end
// and error). Times are milliseconds since the epoch, given by the caller (never the server's
// clock: tests move time by hand, and the workers' clocks decide their leases).
//
// Concurrency: every change is one transaction at READ COMMITTED. A claim selects its jobs
// with `FOR UPDATE SKIP LOCKED`: two claimers never wait on each other and never take the same
// row; a row another transaction changed after this one's snapshot is re-checked on its new
// version before it is locked (PostgreSQL's EvalPlanQual), so a job claimed and committed a
// moment ago is not claimed again. Everything the claim's conditions need lives in the jobs
// row itself (the data_end mark too, copied from the attempt), since a re-check sees only that
// row's new version. renew, mark_data_end and finish lock the job's row (`FOR UPDATE`) and
// check the lease: a claim that took the job over makes them return false, and while they hold
// the row a claim skips it.
//
// Crash recovery is part of claim, as in the SQLite store: an in-flight job whose lease expired
// belonged to a worker that died or stalled. Without a data_end mark nothing of that attempt
// can have been delivered: it is claimed again. With one, its pending recipients become
// `unknown` and the job `held`, unless the claimer allows duplicates.
//
// One connection under a mutex. A lost connection is re-established at the start of the next
// call; reads run once more after reconnecting, changes report the failure (their commit may or
// may not have happened). Text goes in and out as binary parameters and results; values are
// never spliced into SQL (only the schema name, quoted by PQescapeIdentifier).

#include <missive/error.hpp>
#include <missive/outbox/postgres_store.hpp>

#include "store_rows.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <deque>
#include <functional>
#include <initializer_list>
#include <limits>
#include <mutex>
#include <optional>
#include <streambuf>
#include <string>
#include <system_error>
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

// Taken while the schema is created, so that processes starting together do not race
// (CREATE TABLE IF NOT EXISTS is not safe against a concurrent creation). "missive\0".
constexpr std::int64_t schema_lock_key = 0x6d69737369766500;

constexpr const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS outbox_jobs(
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  idempotency_key text UNIQUE,
  state text NOT NULL,
  created_ms bigint NOT NULL,
  due_ms bigint NOT NULL,
  size bigint NOT NULL DEFAULT 0,
  attempts integer NOT NULL DEFAULT 0,
  worker text,
  lease_ms bigint,
  attempt_id bigint,
  data_end boolean NOT NULL DEFAULT false,
  last_error text NOT NULL DEFAULT '',
  env_from text NOT NULL,
  body integer NOT NULL, smtputf8 boolean NOT NULL, ret integer NOT NULL, envid text NOT NULL,
  requiretls boolean NOT NULL, mt_priority integer, by_seconds bigint, by_return boolean,
  by_trace boolean);
CREATE INDEX IF NOT EXISTS outbox_jobs_due ON outbox_jobs(state, due_ms);
CREATE TABLE IF NOT EXISTS outbox_recipients(
  job_id bigint NOT NULL REFERENCES outbox_jobs(id) ON DELETE CASCADE,
  idx integer NOT NULL,
  address text NOT NULL, notify integer NOT NULL, orcpt text NOT NULL,
  state text NOT NULL,
  code integer, enhanced text, reply text, note text NOT NULL DEFAULT '',
  PRIMARY KEY(job_id, idx));
CREATE TABLE IF NOT EXISTS outbox_chunks(
  job_id bigint NOT NULL REFERENCES outbox_jobs(id) ON DELETE CASCADE,
  seq integer NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY(job_id, seq));
CREATE TABLE IF NOT EXISTS outbox_attempts(
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id bigint NOT NULL REFERENCES outbox_jobs(id) ON DELETE CASCADE,
  worker text NOT NULL,
  started_ms bigint NOT NULL,
  data_end_ms bigint,
  finished_ms bigint,
  error text);
CREATE INDEX IF NOT EXISTS outbox_attempts_job ON outbox_attempts(job_id);
)sql";

constexpr const char* job_columns =
    "id, state, idempotency_key, created_ms, due_ms, size, attempts, worker, lease_ms, "
    "attempt_id, last_error, env_from, body, smtputf8, ret, envid, requiretls, mt_priority, "
    "by_seconds, by_return, by_trace";

constexpr const char* why_unknown =
    "outcome unknown: the worker's lease expired after the end of the data";

// A message of libpq or the server on one line, without its trailing newline.
std::string one_line(std::string_view s) {
    std::string out;
    bool space = false;
    for (const char c : s) {
        if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
            space = !out.empty();
            continue;
        }
        if (space) {
            out += ' ';
            space = false;
        }
        out += c;
    }
    return out;
}

struct ResultDeleter {
    void operator()(PGresult* r) const noexcept { PQclear(r); }
};

using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// A successful result, read by row and column (text format, or binary where asked).
class Result {
public:
    explicit Result(ResultPtr r)
        : r_(std::move(r)) {}

    [[nodiscard]] int rows() const { return PQntuples(r_.get()); }

    [[nodiscard]] bool is_null(int row, int col) const {
        return PQgetisnull(r_.get(), row, col) != 0;
    }

    [[nodiscard]] std::string_view bytes(int row, int col) const {
        return {PQgetvalue(r_.get(), row, col),
                static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
    }

    [[nodiscard]] std::string text(int row, int col) const { return std::string(bytes(row, col)); }

    [[nodiscard]] std::int64_t integer(int row, int col) const {
        const std::string_view v = bytes(row, col);
        std::int64_t n = 0;
        (void)std::from_chars(v.data(), v.data() + v.size(), n);
        return n;
    }

    [[nodiscard]] bool boolean(int row, int col) const { return bytes(row, col) == "t"; }

    // Rows an INSERT, UPDATE or DELETE touched.
    [[nodiscard]] std::size_t affected() const {
        const std::string_view v = PQcmdTuples(r_.get());
        std::size_t n = 0;
        (void)std::from_chars(v.data(), v.data() + v.size(), n);
        return n;
    }

private:
    ResultPtr r_;
};

// The parameters of one statement: text, except those given as binary (bytea).
class Params {
public:
    Params() = default;

    Params(std::initializer_list<std::string_view> text) {
        for (const auto v : text) {
            add(v);
        }
    }

    Params& add(std::string_view v) {
        storage_.emplace_back(v);
        push(storage_.back().c_str(), 0, 0);
        return *this;
    }

    Params& add(std::int64_t v) { return add(std::string_view(std::to_string(v))); }

    Params& add(bool v) { return add(std::string_view(v ? "true" : "false")); }

    Params& null() {
        push(nullptr, 0, 0);
        return *this;
    }

    // Not copied: `v` must outlive the statement.
    Params& binary(std::string_view v) {
        push(v.data(), static_cast<int>(v.size()), 1);
        return *this;
    }

    [[nodiscard]] int size() const { return static_cast<int>(values_.size()); }

    [[nodiscard]] const char* const* values() const { return values_.data(); }

    [[nodiscard]] const int* lengths() const { return lengths_.data(); }

    [[nodiscard]] const int* formats() const { return formats_.data(); }

private:
    void push(const char* v, int length, int format) {
        values_.push_back(v);
        lengths_.push_back(length);
        formats_.push_back(format);
    }

    std::deque<std::string> storage_;  // a deque: its strings stay where they are
    std::vector<const char*> values_;
    std::vector<int> lengths_;
    std::vector<int> formats_;
};

// The parts of a connection string that are safe to show, and its password (to scrub).
struct ConnInfo {
    std::string where;
    std::string password;
};

ConnInfo parse_conninfo(const std::string& conninfo) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
    if (options == nullptr) {
        // libpq's message may quote the string, password included: not shown.
        PQfreemem(error);
        throw Error(errc::config,
                    "outbox: the PostgreSQL connection string cannot be parsed (not shown: it "
                    "may hold a password)");
    }
    std::string user;
    std::string host;
    std::string port;
    std::string dbname;
    std::string service;
    ConnInfo info;
    for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {  // NOLINT
        const std::string_view key = o->keyword;
        const std::string value = o->val ? o->val : "";
        if (key == "user") {
            user = value;
        } else if (key == "host" || (key == "hostaddr" && host.empty())) {
            host = value;
        } else if (key == "port") {
            port = value;
        } else if (key == "dbname") {
            dbname = value;
        } else if (key == "password") {
            info.password = value;
        } else if (key == "service") {
            service = value;
        }
    }
    PQconninfoFree(options);
    info.where = "postgresql://" + (user.empty() ? "" : user + "@") + host +
                 (port.empty() ? "" : ":" + port) + "/" + dbname;
    if (!service.empty()) {
        info.where += " (service " + service + ")";
    }
    return info;
}

}  // namespace

struct PostgresStore::Impl {
    std::mutex mutex;
    PGconn* conn = nullptr;
    std::string conninfo;
    PostgresOptions options;
    ConnInfo info;
    std::string search_path;  // the schema as a quoted identifier, or ""

    Impl() = default;

    ~Impl() { PQfinish(conn); }

    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    Impl(Impl&&) = delete;
    Impl& operator=(Impl&&) = delete;

    // The server's or libpq's message, never with the password.
    [[nodiscard]] std::string scrub(std::string message) const {
        if (info.password.size() >= 3) {
            for (std::size_t at = 0; (at = message.find(info.password, at)) != std::string::npos;) {
                message.replace(at, info.password.size(), "********");
            }
        }
        return message;
    }

    [[noreturn]] void fail(std::string_view what, const PGresult* r) const {
        const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
        const char* sqlstate = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
        std::string message = primary ? primary : PQerrorMessage(conn);
        if (message.empty() && r) {
            message = PQresultErrorMessage(r);
        }
        Error::Details details;
        if (sqlstate && std::string_view(sqlstate) == "53100") {  // disk_full
            details.cause = std::make_error_code(std::errc::no_space_on_device);
        } else if (PQstatus(conn) != CONNECTION_OK) {
            details.cause = std::make_error_code(std::errc::not_connected);
        }
        throw Error(errc::storage, "outbox: " + std::string(what) + ": " + scrub(one_line(message)),
                    std::move(details));
    }

    // Connects anew (the first time, or after the connection was lost) and sets it up.
    void connect() {
        if (conn != nullptr) {
            PQreset(conn);
        } else {
            const std::string timeout = std::to_string(options.connect_timeout.count());
            // Ours first: what the connection string says wins.
            const std::array<const char*, 5> keywords{"connect_timeout", "application_name",
                                                      "client_encoding", "dbname", nullptr};
            const std::array<const char*, 5> values{timeout.c_str(),
                                                    options.application_name.c_str(), "UTF8",
                                                    conninfo.c_str(), nullptr};
            conn = PQconnectdbParams(keywords.data(), values.data(), 1);
            if (conn == nullptr) {
                throw Error(
                    errc::storage, "outbox: connecting to " + info.where + ": out of memory",
                    Error::Details{.cause = std::make_error_code(std::errc::not_enough_memory)});
            }
            // CREATE … IF NOT EXISTS says NOTICE: already exists; libpq would print it.
            PQsetNoticeProcessor(
                conn, [](void*, const char*) {}, nullptr);
        }
        if (PQstatus(conn) != CONNECTION_OK) {
            fail("connecting to " + info.where, nullptr);
        }
        if (!search_path.empty()) {
            (void)exec("setting the schema", "SELECT set_config('search_path', $1, false)",
                       Params{search_path});
        }
    }

    // Reconnects when the connection was lost.
    void ensure_connected() {
        if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
            connect();
        }
    }

    Result exec(std::string_view what, const char* sql, const Params& params = {},
                int result_format = 0) const {
        ResultPtr r(PQexecParams(conn, sql, params.size(), nullptr, params.values(),
                                 params.lengths(), params.formats(), result_format));
        const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
            fail(what, r.get());
        }
        return Result(std::move(r));
    }

    // A statement without parameters (several may be given, separated by ';').
    void exec_script(std::string_view what, const char* sql) const {
        const ResultPtr r(PQexec(conn, sql));
        const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
            fail(what, r.get());
        }
    }

    // Runs a read; when it failed because the connection was lost, reconnects and runs it once
    // more (a read may run twice).
    template <class Read>
    auto reading(Read read) -> decltype(read()) {
        ensure_connected();
        try {
            return read();
        } catch (const Error&) {
            if (PQstatus(conn) == CONNECTION_OK) {
                throw;
            }
        }
        connect();
        return read();
    }

    [[nodiscard]] std::vector<RecipientRecord> recipients_of(JobId id) const;
    [[nodiscard]] Job job_from(const Result& r, int row) const;
    [[nodiscard]] std::vector<Job> jobs_from(const Result& r) const;
    [[nodiscard]] bool lease_is(const Lease& lease) const;
    void settle(JobId id, std::int64_t now_ms) const;
};

namespace {

// BEGIN … COMMIT, rolled back when left by an exception. (A template: the store's Impl is
// private.)
template <class Db>
class Transaction {
public:
    explicit Transaction(const Db& impl)
        : impl_(impl) {
        impl_.exec_script("beginning a transaction", "BEGIN");
    }

    ~Transaction() {
        if (!done_) {
            const ResultPtr r(PQexec(impl_.conn, "ROLLBACK"));
        }
    }

    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    Transaction(Transaction&&) = delete;
    Transaction& operator=(Transaction&&) = delete;

    void commit() {
        done_ = true;  // a failed COMMIT has ended the transaction too
        impl_.exec_script("committing", "COMMIT");
    }

private:
    const Db& impl_;
    bool done_ = false;
};

}  // namespace

Job PostgresStore::Impl::job_from(const Result& r, int row) const {
    Job j;
    j.id = r.integer(row, 0);
    j.state = job_state_of(r.bytes(row, 1));
    j.idempotency_key = r.text(row, 2);
    j.created = from_ms(r.integer(row, 3));
    j.due = from_ms(r.integer(row, 4));
    j.size = static_cast<std::uint64_t>(r.integer(row, 5));
    j.attempts = static_cast<unsigned>(r.integer(row, 6));
    j.worker = r.text(row, 7);
    j.lease_until = from_ms(r.integer(row, 8));
    j.attempt = r.integer(row, 9);
    j.last_error = r.text(row, 10);
    j.envelope.from = r.text(row, 11);
    auto& p = j.envelope.params;
    p.body = static_cast<smtp::BodyType>(r.integer(row, 12));
    p.smtputf8 = r.boolean(row, 13);
    p.ret = static_cast<smtp::DsnReturn>(r.integer(row, 14));
    p.envid = r.text(row, 15);
    p.requiretls = r.boolean(row, 16);
    if (!r.is_null(row, 17)) {
        p.mt_priority = static_cast<int>(r.integer(row, 17));
    }
    if (!r.is_null(row, 18)) {
        p.by = smtp::DeliverBy{r.integer(row, 18), r.boolean(row, 19), r.boolean(row, 20)};
    }
    p.size = j.size;
    j.recipients = recipients_of(j.id);
    for (const auto& rec : j.recipients) {
        j.envelope.to.push_back(rec.recipient);
    }
    return j;
}

std::vector<Job> PostgresStore::Impl::jobs_from(const Result& r) const {
    std::vector<Job> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int row = 0; row < r.rows(); ++row) {
        out.push_back(job_from(r, row));
    }
    return out;
}

std::vector<RecipientRecord> PostgresStore::Impl::recipients_of(JobId id) const {
    const Result r = exec("reading recipients",
                          "SELECT address, notify, orcpt, state, code, enhanced, reply, note "
                          "FROM outbox_recipients WHERE job_id = $1 ORDER BY idx",
                          Params().add(id));
    std::vector<RecipientRecord> out;
    for (int row = 0; row < r.rows(); ++row) {
        RecipientRecord rec{smtp::Recipient(
            r.text(row, 0),
            smtp::RcptParams{static_cast<smtp::Notify>(r.integer(row, 1)), r.text(row, 2)})};
        rec.state = recipient_state_of(r.bytes(row, 3));
        if (!r.is_null(row, 4)) {
            smtp::Reply reply;
            reply.code = static_cast<int>(r.integer(row, 4));
            reply.enhanced = parse_enhanced(r.text(row, 5));
            reply.lines = split_lines(r.text(row, 6));
            rec.reply = std::move(reply);
        }
        rec.note = r.text(row, 7);
        out.push_back(std::move(rec));
    }
    return out;
}

// Inside a transaction: locks the job's row, so that no claim takes it over meanwhile. A lease
// that expired still holds until another worker claims the job (claim is the only place that
// takes a job from its worker).
bool PostgresStore::Impl::lease_is(const Lease& lease) const {
    return exec("checking a lease",
                "SELECT 1 FROM outbox_jobs WHERE id = $1 AND state = 'in_flight' AND worker = $2 "
                "AND attempt_id = $3 FOR UPDATE",
                Params().add(lease.job).add(lease.worker).add(lease.attempt))
               .rows() == 1;
}

// What is left of a job whose unknown recipients were decided: pending ones → queued now;
// otherwise final.
void PostgresStore::Impl::settle(JobId id, std::int64_t now_ms) const {
    (void)exec("updating a job",
               "UPDATE outbox_jobs SET due_ms = $1, state = CASE "
               "WHEN EXISTS(SELECT 1 FROM outbox_recipients WHERE job_id = $2 AND "
               "state = 'pending') THEN 'queued' "
               "WHEN EXISTS(SELECT 1 FROM outbox_recipients WHERE job_id = $2 AND "
               "state = 'accepted') THEN 'done' ELSE 'failed' END WHERE id = $2",
               Params().add(now_ms).add(id));
}

PostgresStore::PostgresStore(std::string conninfo, PostgresOptions options)
    : impl_(std::make_shared<Impl>()) {
    impl_->info = parse_conninfo(conninfo);
    impl_->conninfo = std::move(conninfo);
    impl_->options = std::move(options);
    const std::lock_guard lock(impl_->mutex);
    impl_->connect();
    const std::string& name = impl_->options.schema;
    if (!name.empty()) {
        char* quoted = PQescapeIdentifier(impl_->conn, name.c_str(), name.size());
        if (quoted == nullptr) {
            impl_->fail("quoting the schema name", nullptr);
        }
        impl_->search_path = quoted;
        PQfreemem(quoted);
        (void)impl_->exec("setting the schema", "SELECT set_config('search_path', $1, false)",
                          Params{impl_->search_path});
    }
    // Most starts find everything there, and create nothing: CREATE INDEX IF NOT EXISTS would
    // take a lock on the table that conflicts with the workers' changes (a deadlock with a claim).
    if (impl_
            ->exec("checking the schema",
                   "SELECT to_regclass('outbox_jobs') IS NOT NULL AND "
                   "to_regclass('outbox_jobs_due') IS NOT NULL AND "
                   "to_regclass('outbox_recipients') IS NOT NULL AND "
                   "to_regclass('outbox_chunks') IS NOT NULL AND "
                   "to_regclass('outbox_attempts') IS NOT NULL AND "
                   "to_regclass('outbox_attempts_job') IS NOT NULL")
            .boolean(0, 0)) {
        return;
    }
    Transaction t(*impl_);
    (void)impl_->exec("locking the schema", "SELECT pg_advisory_xact_lock($1)",
                      Params().add(schema_lock_key));
    if (!impl_->search_path.empty()) {
        const std::string create = "CREATE SCHEMA IF NOT EXISTS " + impl_->search_path;
        impl_->exec_script("creating the schema", create.c_str());
    }
    impl_->exec_script("creating the tables", schema);
    t.commit();
}

PostgresStore::~PostgresStore() = default;

const std::string& PostgresStore::where() const noexcept {
    return impl_->info.where;
}

Enqueued PostgresStore::enqueue(const NewJob& job, std::istream& text, TimePoint now) {
    const JobState first = initial_state(job);  // checks the recipients and their states
    const auto state_of = [&](std::size_t i) {
        return job.states.empty() ? RecipientState::pending : job.states[i];
    };
    const std::lock_guard lock(impl_->mutex);
    impl_->ensure_connected();
    Impl& db = *impl_;
    Transaction t(db);
    const auto known = [&]() -> std::optional<JobId> {
        const Result r = db.exec("looking up an idempotency key",
                                 "SELECT id FROM outbox_jobs WHERE idempotency_key = $1",
                                 Params{job.idempotency_key});
        return r.rows() == 1 ? std::optional(r.integer(0, 0)) : std::nullopt;
    };
    if (!job.idempotency_key.empty()) {
        if (const auto id = known()) {
            return Enqueued{*id, false};
        }
    }
    const auto& p = job.envelope.params;
    Params insert;
    if (job.idempotency_key.empty()) {
        insert.null();
    } else {
        insert.add(job.idempotency_key);
    }
    insert.add(to_string(first))
        .add(to_ms(now))
        .add(to_ms(std::max(now, job.not_before)))
        .add(job.envelope.from)
        .add(static_cast<std::int64_t>(p.body))
        .add(p.smtputf8)
        .add(static_cast<std::int64_t>(p.ret))
        .add(p.envid)
        .add(p.requiretls);
    if (p.mt_priority) {
        insert.add(static_cast<std::int64_t>(*p.mt_priority));
    } else {
        insert.null();
    }
    if (p.by) {
        insert.add(p.by->seconds).add(p.by->return_if_late).add(p.by->trace);
    } else {
        insert.null().null().null();
    }
    // A concurrent enqueue with the same key waits here for the first one's commit, then
    // inserts nothing (ON CONFLICT: no unique_violation) and finds its id.
    const Result inserted = db.exec(
        "storing a job",
        "INSERT INTO outbox_jobs(idempotency_key, state, created_ms, due_ms, env_from, body, "
        "smtputf8, ret, envid, requiretls, mt_priority, by_seconds, by_return, by_trace) "
        "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
        "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
        insert);
    if (inserted.rows() != 1) {
        if (const auto id = known()) {
            return Enqueued{*id, false};
        }
        db.fail("storing a job", nullptr);
    }
    const JobId id = inserted.integer(0, 0);
    for (std::size_t i = 0; i < job.envelope.to.size(); ++i) {
        const auto& r = job.envelope.to[i];
        const RecipientState s = state_of(i);
        (void)db.exec("storing a recipient",
                      "INSERT INTO outbox_recipients(job_id, idx, address, notify, orcpt, state, "
                      "note) VALUES($1, $2, $3, $4, $5, $6, $7)",
                      Params()
                          .add(id)
                          .add(static_cast<std::int64_t>(i))
                          .add(r.address)
                          .add(static_cast<std::int64_t>(r.params.notify))
                          .add(r.params.orcpt)
                          .add(to_string(s))
                          .add(std::string_view(s == RecipientState::pending ? "" : job.note)));
    }
    std::uint64_t size = 0;
    bool eight_bit = false;
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
        (void)db.exec("storing the text",
                      "INSERT INTO outbox_chunks(job_id, seq, data) VALUES($1, $2, $3)",
                      Params().add(id).add(seq).binary(bytes));
        size += got;
    }
    // RFC 6152: 8-bit text goes as BODY=8BITMIME; 7-bit as 7BIT, so a sender never needs a
    // first pass over the stored text to find out.
    (void)db.exec("storing a job",
                  "UPDATE outbox_jobs SET size = $1, body = CASE WHEN body = 0 THEN $2 ELSE body "
                  "END WHERE id = $3",
                  Params()
                      .add(static_cast<std::int64_t>(size))
                      .add(static_cast<std::int64_t>(eight_bit ? smtp::BodyType::eight_bit_mime
                                                               : smtp::BodyType::seven_bit))
                      .add(id));
    t.commit();
    return Enqueued{id, true};
}

std::vector<Job> PostgresStore::claim(std::string_view worker, std::chrono::milliseconds lease,
                                      std::size_t max, TimePoint now, bool allow_duplicates) {
    const std::lock_guard lock(impl_->mutex);
    impl_->ensure_connected();
    const Impl& db = *impl_;
    Transaction t(db);
    const std::int64_t now_ms = to_ms(now);
    // Recovery first: jobs of workers whose lease expired after their end of data. Rows another
    // transaction holds are skipped: their worker is still acting on them.
    if (!allow_duplicates) {
        const Result expired = db.exec(
            "recovering expired leases",
            "SELECT id, attempt_id FROM outbox_jobs WHERE state = 'in_flight' AND lease_ms <= $1 "
            "AND data_end FOR UPDATE SKIP LOCKED",
            Params().add(now_ms));
        for (int row = 0; row < expired.rows(); ++row) {
            const JobId id = expired.integer(row, 0);
            (void)db.exec("recovering expired leases",
                          "UPDATE outbox_recipients SET state = 'unknown', note = $1 "
                          "WHERE job_id = $2 AND state = 'pending'",
                          Params().add(std::string_view(why_unknown)).add(id));
            (void)db.exec("recovering expired leases",
                          "UPDATE outbox_attempts SET finished_ms = $1, error = $2 WHERE id = $3",
                          Params()
                              .add(now_ms)
                              .add(std::string_view(why_unknown))
                              .add(expired.integer(row, 1)));
            (void)db.exec("recovering expired leases",
                          "UPDATE outbox_jobs SET state = 'held', worker = NULL, lease_ms = NULL, "
                          "last_error = $1 WHERE id = $2",
                          Params().add(std::string_view(why_unknown)).add(id));
        }
    }
    // The data_end condition is on the row itself: a row changed since this statement's
    // snapshot is re-checked on its new version before it is locked.
    const Result picked =
        db.exec("claiming jobs",
                "SELECT id, COALESCE(attempt_id, 0), state FROM outbox_jobs WHERE "
                "(state = 'queued' AND due_ms <= $1) OR "
                "(state = 'in_flight' AND lease_ms <= $1 AND ($3 OR NOT data_end)) "
                "ORDER BY due_ms, id LIMIT $2 FOR UPDATE SKIP LOCKED",
                Params().add(now_ms).add(static_cast<std::int64_t>(max)).add(allow_duplicates));
    std::vector<Job> jobs;
    for (int row = 0; row < picked.rows(); ++row) {
        const JobId id = picked.integer(row, 0);
        if (picked.bytes(row, 2) == "in_flight") {
            (void)db.exec("claiming jobs",
                          "UPDATE outbox_attempts SET finished_ms = $1, error = $2 WHERE id = $3",
                          Params()
                              .add(now_ms)
                              .add(std::string_view("abandoned: the worker's lease expired"))
                              .add(picked.integer(row, 1)));
        }
        const Result attempt =
            db.exec("claiming jobs",
                    "INSERT INTO outbox_attempts(job_id, worker, started_ms) VALUES($1, $2, $3) "
                    "RETURNING id",
                    Params().add(id).add(worker).add(now_ms));
        const Result claimed = db.exec(
            "claiming jobs",
            (std::string("UPDATE outbox_jobs SET state = 'in_flight', worker = $1, lease_ms = $2, "
                         "attempt_id = $3, attempts = attempts + 1, data_end = false "
                         "WHERE id = $4 RETURNING ") +
             job_columns)
                .c_str(),
            Params().add(worker).add(now_ms + lease.count()).add(attempt.integer(0, 0)).add(id));
        jobs.push_back(db.job_from(claimed, 0));
    }
    t.commit();
    return jobs;
}

bool PostgresStore::renew(const Lease& lease, std::chrono::milliseconds duration, TimePoint now) {
    const std::lock_guard lock(impl_->mutex);
    impl_->ensure_connected();
    Transaction t(*impl_);
    if (!impl_->lease_is(lease)) {
        return false;
    }
    (void)impl_->exec("renewing a lease", "UPDATE outbox_jobs SET lease_ms = $1 WHERE id = $2",
                      Params().add(to_ms(now) + duration.count()).add(lease.job));
    t.commit();
    return true;
}

bool PostgresStore::mark_data_end(const Lease& lease, TimePoint now) {
    const std::lock_guard lock(impl_->mutex);
    impl_->ensure_connected();
    Transaction t(*impl_);
    if (!impl_->lease_is(lease)) {
        return false;
    }
    (void)impl_->exec("marking the end of the data",
                      "UPDATE outbox_attempts SET data_end_ms = $1 WHERE id = $2",
                      Params().add(to_ms(now)).add(lease.attempt));
    (void)impl_->exec("marking the end of the data",
                      "UPDATE outbox_jobs SET data_end = true WHERE id = $1",
                      Params().add(lease.job));
    t.commit();
    return true;
}

std::vector<bool> PostgresStore::finish(std::span<const Finish> ends, TimePoint now) {
    const std::lock_guard lock(impl_->mutex);
    impl_->ensure_connected();
    const Impl& db = *impl_;
    Transaction t(db);
    std::vector<bool> recorded;
    for (const auto& [lease, end] : ends) {
        recorded.push_back(db.lease_is(lease));
        if (!recorded.back()) {
            continue;
        }
        for (const auto& u : end.updates) {
            Params params;
            params.add(to_string(u.state));
            if (u.reply) {
                params.add(static_cast<std::int64_t>(u.reply->code));
                if (u.reply->enhanced) {
                    params.add(u.reply->enhanced->to_string());
                } else {
                    params.null();
                }
                params.add(join_lines(u.reply->lines));
            } else {
                params.null().null().null();
            }
            params.add(u.note).add(lease.job).add(static_cast<std::int64_t>(u.index));
            (void)db.exec("recording an attempt",
                          "UPDATE outbox_recipients SET state = $1, code = $2, enhanced = $3, "
                          "reply = $4, note = $5 WHERE job_id = $6 AND idx = $7",
                          params);
        }
        (void)db.exec("recording an attempt",
                      "UPDATE outbox_attempts SET finished_ms = $1, error = $2 WHERE id = $3",
                      Params().add(to_ms(now)).add(end.error).add(lease.attempt));
        (void)db.exec("recording an attempt",
                      "UPDATE outbox_jobs SET state = $1, due_ms = $2, worker = NULL, "
                      "lease_ms = NULL, last_error = $3 WHERE id = $4",
                      Params()
                          .add(to_string(end.next))
                          .add(to_ms(end.next == JobState::queued ? end.due : now))
                          .add(end.error)
                          .add(lease.job));
    }
    t.commit();
    return recorded;
}

std::unique_ptr<std::istream> PostgresStore::open_text(JobId id) {
    {
        const std::lock_guard lock(impl_->mutex);
        const bool exists = impl_->reading([&] {
            return impl_
                       ->exec("reading a job", "SELECT 1 FROM outbox_jobs WHERE id = $1",
                              Params().add(id))
                       .rows() == 1;
        });
        if (!exists) {
            throw Error(errc::invalid_input, "outbox: no job " + std::to_string(id));
        }
    }
    std::shared_ptr<Impl> impl = impl_;
    return detail::chunk_stream([impl, id](std::int64_t seq, std::string& into) {
        const std::lock_guard lock(impl->mutex);
        return impl->reading([&] {
            const Result r = impl->exec(
                "reading the text", "SELECT data FROM outbox_chunks WHERE job_id = $1 AND seq = $2",
                Params().add(id).add(seq), 1);
            if (r.rows() != 1) {
                return false;
            }
            into.assign(r.bytes(0, 0));
            return true;
        });
    });
}

std::optional<Job> PostgresStore::find(JobId id) {
    const std::lock_guard lock(impl_->mutex);
    return impl_->reading([&]() -> std::optional<Job> {
        const Result r = impl_->exec(
            "reading a job",
            (std::string("SELECT ") + job_columns + " FROM outbox_jobs WHERE id = $1").c_str(),
            Params().add(id));
        if (r.rows() != 1) {
            return std::nullopt;
        }
        return impl_->job_from(r, 0);
    });
}

std::vector<Job> PostgresStore::list(const ListFilter& filter) {
    // ASCII case-insensitive: lower() would follow the database's collation.
    static const std::string fold = "'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'";
    static const std::string sql =
        std::string("SELECT ") + job_columns +
        " FROM outbox_jobs j WHERE ($1::text IS NULL OR j.state = $1) "
        "AND (NOT $2::boolean OR (j.state = 'queued' AND j.attempts > 0)) "
        "AND ($3::text = '' OR strpos(translate(j.env_from, " +
        fold + "), translate($3, " + fold +
        ")) > 0) "
        "AND ($4::text = '' OR EXISTS(SELECT 1 FROM outbox_recipients r WHERE r.job_id = j.id "
        "AND strpos(translate(r.address, " +
        fold + "), translate($4, " + fold +
        ")) > 0)) "
        "AND ($5::bigint IS NULL OR j.created_ms < $5) AND j.id > $6 ORDER BY j.id LIMIT $7";
    Params params;
    if (filter.state) {
        params.add(to_string(*filter.state));
    } else {
        params.null();
    }
    params.add(filter.deferred).add(filter.sender).add(filter.recipient);
    if (filter.created_before) {
        params.add(to_ms(*filter.created_before));
    } else {
        params.null();
    }
    params.add(filter.after)
        .add(static_cast<std::int64_t>(std::min<std::size_t>(
            filter.limit, static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max()))));
    const std::lock_guard lock(impl_->mutex);
    return impl_->reading(
        [&] { return impl_->jobs_from(impl_->exec("listing jobs", sql.c_str(), params)); });
}

std::vector<Attempt> PostgresStore::attempts(JobId id) {
    const std::lock_guard lock(impl_->mutex);
    return impl_->reading([&] {
        const Result r = impl_->exec(
            "reading attempts",
            "SELECT id, worker, started_ms, data_end_ms, finished_ms, COALESCE(error, '') "
            "FROM outbox_attempts WHERE job_id = $1 ORDER BY id",
            Params().add(id));
        std::vector<Attempt> out;
        for (int row = 0; row < r.rows(); ++row) {
            Attempt a;
            a.id = r.integer(row, 0);
            a.worker = r.text(row, 1);
            a.started = from_ms(r.integer(row, 2));
            if (!r.is_null(row, 3)) {
                a.data_end = from_ms(r.integer(row, 3));
            }
            if (!r.is_null(row, 4)) {
                a.finished = from_ms(r.integer(row, 4));
            }
            a.error = r.text(row, 5);
            out.push_back(std::move(a));
        }
        return out;
    });
}

bool PostgresStore::release(JobId id, bool retry, TimePoint now) {
    const std::lock_guard lock(impl_->mutex);
    impl_->ensure_connected();
    const Impl& db = *impl_;
    Transaction t(db);
    if (db.exec("releasing a job",
                "SELECT 1 FROM outbox_jobs WHERE id = $1 AND state = 'held' FOR UPDATE",
                Params().add(id))
            .rows() != 1) {
        return false;
    }
    (void)db.exec("releasing a job",
                  retry ? "UPDATE outbox_recipients SET state = 'pending', note = 'released for a "
                          "retry: may arrive twice' WHERE job_id = $1 AND state = 'unknown'"
                        : "UPDATE outbox_recipients SET state = 'refused', note = 'outcome "
                          "unknown; not retried' WHERE job_id = $1 AND state = 'unknown'",
                  Params().add(id));
    db.settle(id, to_ms(now));
    t.commit();
    return true;
}

bool PostgresStore::hold(JobId id, TimePoint /*now*/) {
    const std::lock_guard lock(impl_->mutex);
    impl_->ensure_connected();
    // One statement: atomic on its own. A job a claim holds (locked, about to be in flight)
    // waits for it, and is then no longer queued.
    return impl_
               ->exec("holding a job",
                      "UPDATE outbox_jobs SET state = 'held' WHERE id = $1 AND state = 'queued'",
                      Params().add(id))
               .affected() == 1;
}

bool PostgresStore::retry(JobId id, TimePoint now) {
    const std::lock_guard lock(impl_->mutex);
    impl_->ensure_connected();
    const Impl& db = *impl_;
    Transaction t(db);
    const Result r = db.exec("retrying a job",
                             "SELECT state FROM outbox_jobs WHERE id = $1 AND state IN ('queued', "
                             "'held') FOR UPDATE",
                             Params().add(id));
    if (r.rows() != 1) {
        return false;
    }
    if (r.bytes(0, 0) == "queued") {
        (void)db.exec("retrying a job", "UPDATE outbox_jobs SET due_ms = $1 WHERE id = $2",
                      Params().add(to_ms(now)).add(id));
    } else {
        (void)db.exec("retrying a job",
                      "UPDATE outbox_recipients SET state = 'pending', note = 'released for a "
                      "retry: may arrive twice' WHERE job_id = $1 AND state = 'unknown'",
                      Params().add(id));
        db.settle(id, to_ms(now));
    }
    t.commit();
    return true;
}

bool PostgresStore::cancel(JobId id, TimePoint now) {
    const std::lock_guard lock(impl_->mutex);
    impl_->ensure_connected();
    const Impl& db = *impl_;
    Transaction t(db);
    if (db.exec("cancelling a job",
                "SELECT 1 FROM outbox_jobs WHERE id = $1 AND state IN ('queued', 'held') "
                "FOR UPDATE",
                Params().add(id))
            .rows() != 1) {
        return false;
    }
    (void)db.exec("cancelling a job",
                  "UPDATE outbox_recipients SET state = 'refused', note = 'cancelled' "
                  "WHERE job_id = $1 AND state IN ('pending', 'unknown')",
                  Params().add(id));
    (void)db.exec("cancelling a job",
                  "UPDATE outbox_jobs SET last_error = 'cancelled' WHERE id = $1",
                  Params().add(id));
    db.settle(id, to_ms(now));
    t.commit();
    return true;
}

std::size_t PostgresStore::purge(TimePoint before) {
    const std::lock_guard lock(impl_->mutex);
    impl_->ensure_connected();
    // The recipients, chunks and attempts go with their job (ON DELETE CASCADE).
    return impl_
        ->exec("purging jobs",
               "DELETE FROM outbox_jobs WHERE state IN ('done', 'failed') AND created_ms < $1",
               Params().add(to_ms(before)))
        .affected();
}

Stats PostgresStore::stats(TimePoint now) {
    const std::lock_guard lock(impl_->mutex);
    return impl_->reading([&] {
        const Result r =
            impl_->exec("counting jobs",
                        "SELECT state, attempts > 0, COALESCE(lease_ms > $1, false), COUNT(*), "
                        "MIN(created_ms) FROM outbox_jobs GROUP BY 1, 2, 3",
                        Params().add(to_ms(now)));
        Stats st;
        std::optional<std::int64_t> oldest;
        for (int row = 0; row < r.rows(); ++row) {
            const JobState state = job_state_of(r.bytes(row, 0));
            const bool attempted = r.boolean(row, 1);
            const auto n = static_cast<std::uint64_t>(r.integer(row, 3));
            switch (state) {
                case JobState::queued:
                    (attempted ? st.deferred : st.queued) += n;
                    break;
                case JobState::in_flight:
                    // A lease that expired: its worker is gone, the job waits for a claim.
                    (r.boolean(row, 2) ? st.in_flight : st.deferred) += n;
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
                oldest = std::min(oldest.value_or(r.integer(row, 4)), r.integer(row, 4));
            }
        }
        if (oldest) {
            st.oldest_age =
                std::chrono::duration_cast<std::chrono::seconds>(now - from_ms(*oldest));
        }
        return st;
    });
}

}  // namespace missive::outbox
