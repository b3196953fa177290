// The durable outbox over SQLite: enqueue (durable, idempotent, streamed, disk full), leases and
// their expiry, delivery recipient by recipient through the Pool against a small SMTP server
// that counts what it accepted (by X-Id), and worker processes killed with SIGKILL at chosen
// steps, after which a new worker finishes: each message counted once, or held and reported.

#include <missive/mime/builder.hpp>
#include <missive/outbox/deliverer.hpp>
#include <missive/outbox/outbox.hpp>
#include <missive/outbox/sqlite_store.hpp>
#include <missive/testing/server.hpp>

#include "support/outbox_stores.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using missive::errc;
using missive::Error;
using missive::net::Url;
using missive::smtp::Envelope;
using missive::test::envelope;
using missive::test::read_all;
using missive::test::text;
using missive::testing::Conversation;
using missive::testing::Server;
using namespace missive::outbox;
using namespace std::chrono_literals;

namespace {

// A fresh directory per test, removed after.
class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "missive-outbox-XXXXXX");
        path_ = ::mkdtemp(tmpl.data());
    }

    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }

    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    TempDir(TempDir&&) = delete;
    TempDir& operator=(TempDir&&) = delete;

    [[nodiscard]] std::filesystem::path db() const { return path_ / "sub" / "outbox.db"; }

private:
    std::filesystem::path path_;
};

// What the server does when it meets a step.
struct Hooks {
    std::function<std::string(const std::string& rcpt)> rcpt_reply{};  // default 250
    std::function<void()> at_mail{};
    std::function<void()> mid_data{};     // after the first body line
    std::function<bool()> after_dot{};    // true: drop without a reply (outcome unknown)
    std::function<void()> after_reply{};  // after the 250 to the data
};

// A small SMTP server that counts the messages it accepted, by X-Id.
class Mta {
public:
    explicit Mta(Hooks hooks = {})
        : hooks_(std::move(hooks))
        , server_([this](Conversation& c) { converse(c); }, options()) {}

    [[nodiscard]] Url url() const {
        return Url::parse("smtp://127.0.0.1:" + std::to_string(server_.port()));
    }

    std::map<std::string, int> accepted() const {
        const std::lock_guard lock(mutex_);
        return ids_;
    }

    std::vector<std::string> messages() const {
        const std::lock_guard lock(mutex_);
        return messages_;
    }

    std::vector<std::string> rcpts() const {
        const std::lock_guard lock(mutex_);
        return rcpts_;
    }

private:
    static Server::Options options() {
        Server::Options o;
        o.concurrent = true;
        o.io_timeout = 5s;
        return o;
    }

    void converse(Conversation& c) {
        c.send_line("220 mta.test ESMTP");
        for (;;) {
            const std::string line = c.read_line();
            const std::string verb = line.substr(0, 4);
            if (verb == "EHLO") {
                c.send_line("250-mta.test");
                c.send_line("250 PIPELINING");
            } else if (verb == "MAIL") {
                if (hooks_.at_mail) {
                    hooks_.at_mail();
                }
                c.send_line("250 2.1.0 ok");
            } else if (verb == "RCPT") {
                {
                    const std::lock_guard lock(mutex_);
                    rcpts_.push_back(line);
                }
                c.send_line(hooks_.rcpt_reply ? hooks_.rcpt_reply(line) : "250 2.1.5 ok");
            } else if (verb == "DATA") {
                c.send_line("354 go ahead");
                std::string data;
                bool in_body = false;
                for (;;) {
                    const std::string l = c.read_line();
                    if (l == ".") {
                        break;
                    }
                    data += l + "\r\n";
                    if (!in_body && l.empty()) {
                        in_body = true;
                        if (hooks_.mid_data) {
                            hooks_.mid_data();  // the header is in, the body on its way
                        }
                    }
                }
                record(data);
                if (hooks_.after_dot && hooks_.after_dot()) {
                    c.close();
                    return;
                }
                c.send_line("250 2.0.0 queued");
                if (hooks_.after_reply) {
                    hooks_.after_reply();
                }
            } else if (verb == "RSET" || verb == "NOOP") {
                c.send_line("250 2.0.0 ok");
            } else if (verb == "QUIT") {
                c.send_line("221 2.0.0 bye");
                c.close();
                return;
            } else {
                c.send_line("500 5.5.2 what?");
            }
        }
    }

    void record(const std::string& data) {
        const std::size_t at = data.find("X-Id: ");
        const std::string id = at == std::string::npos
                                   ? std::string("?")
                                   : data.substr(at + 6, data.find('\r', at) - at - 6);
        const std::lock_guard lock(mutex_);
        ++ids_[id];
        messages_.push_back(data);
    }

    Hooks hooks_;
    mutable std::mutex mutex_;
    std::map<std::string, int> ids_;
    std::vector<std::string> messages_;
    std::vector<std::string> rcpts_;
    Server server_;  // last: it stops before what its handler uses
};

missive::client::Options client_options() {
    missive::client::Options o;
    o.local_name = "client.test";
    o.connect_timeout = o.command_timeout = o.data_block_timeout = o.final_reply_timeout = 3s;
    return o;
}

DelivererOptions fast(std::string worker = "w1") {
    DelivererOptions d;
    d.worker = std::move(worker);
    d.lease = 2s;
    d.backoff = 1ms;
    d.max_backoff = 5ms;
    d.jitter = 0;
    return d;
}

missive::client::PoolOptions pool_options() {
    missive::client::PoolOptions p;
    p.connections = 2;
    p.idle_timeout = 1s;
    return p;
}

// Whether another process finds a lock on the bytes SQLite's readers lock (SHARED_FIRST and
// SHARED_SIZE of sqlite3.c: 510 bytes from PENDING_BYTE + 2). Asked from a child process: POSIX
// locks belong to a process, and F_GETLK does not report one's own. The child only opens and
// asks (it never closes a descriptor its parent's SQLite uses: that is what is tested).
bool locked_for_other_processes(const std::filesystem::path& db) {
    const pid_t child = ::fork();
    if (child == 0) {
        const int fd = ::open(db.c_str(), O_RDWR | O_CLOEXEC);

        struct flock probe {};

        probe.l_type = F_WRLCK;
        probe.l_whence = SEEK_SET;
        probe.l_start = 0x40000000 + 2;
        probe.l_len = 510;
        const bool locked = fd >= 0 && ::fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK;
        ::_exit(locked ? 0 : 1);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

// A second store on the same file in the same process (missive deliver opens one per worker and
// one for its progress line) must not close a descriptor of the database file: that drops every
// POSIX lock of the process, the first connection's too. Another process then deleted the WAL
// under it when it closed its own connection (it believed itself the last), and commits were
// lost: `missive deliver` and `missive queue stats` side by side lost delivered jobs' records
// and corrupted the outbox ("database disk image is malformed"; tests/integration/check/
// outbox_chaos.py).
TEST(SqliteStore, OpeningTheFileAgainKeepsTheLocksOfTheFirstStore) {
    TempDir dir;
    SqliteStore first(dir.db());
    (void)first.stats(Clock::now());
    // In WAL mode a connection keeps its reader's lock on the file while it is open.
    ASSERT_TRUE(locked_for_other_processes(dir.db()));
    SqliteStore second(dir.db());
    (void)second.stats(Clock::now());
    EXPECT_TRUE(locked_for_other_processes(dir.db()));
    Outbox outbox(first);
    const JobId id = outbox.enqueue(envelope(), text("1")).id;
    EXPECT_TRUE(second.find(id));
    EXPECT_TRUE(locked_for_other_processes(dir.db()));
}

TEST(SqliteStore, EnqueueIsDurableIdempotentAndPrivate) {
    TempDir dir;
    JobId id = 0;
    {
        SqliteStore store(dir.db());
        Outbox outbox(store);
        const Enqueued first = outbox.enqueue(envelope(), text("1"), {.idempotency_key = "k1"});
        EXPECT_TRUE(first.created);
        const Enqueued again = outbox.enqueue(envelope(), text("other"), {.idempotency_key = "k1"});
        EXPECT_FALSE(again.created);
        EXPECT_EQ(again.id, first.id);
        id = first.id;
    }
    SqliteStore reopened(dir.db());
    const auto job = reopened.find(id);
    ASSERT_TRUE(job);
    EXPECT_EQ(job->state, JobState::queued);
    EXPECT_EQ(job->idempotency_key, "k1");
    ASSERT_EQ(job->recipients.size(), 1U);
    EXPECT_EQ(job->recipients[0].recipient.address, "bob@example.org");
    EXPECT_EQ(job->envelope.params.body, missive::smtp::BodyType::seven_bit);
    EXPECT_EQ(read_all(*reopened.open_text(id)), text("1"));
    EXPECT_EQ(reopened.list({}).size(), 1U);

    struct stat st {};

    ASSERT_EQ(::stat(dir.db().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
    ASSERT_EQ(::stat(dir.db().parent_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700U);
}

TEST(SqliteStore, StoresOfOneFileInOneProcessTakeTurnsToWrite) {
    // With no busy timeout, a write that finds SQLite's lock taken fails at once
    // (errc::storage): four stores of one file (one per worker, as `missive deliver` opens
    // them), each writing from its thread, never meet that lock; they wait for their turn.
    TempDir dir;
    std::vector<std::unique_ptr<SqliteStore>> stores;
    for (int i = 0; i < 4; ++i) {
        stores.push_back(
            std::make_unique<SqliteStore>(dir.db(), SqliteOptions{.busy_timeout = 0ms}));
    }
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (auto& store : stores) {
        threads.emplace_back([&failures, s = store.get()] {
            Outbox outbox(*s);
            for (int k = 0; k < 50; ++k) {
                try {
                    (void)outbox.enqueue(envelope(), text(std::to_string(k)));
                    const auto jobs = s->claim("w", 60s, 1, Clock::now(), false);
                    for (const Job& j : jobs) {
                        (void)s->finish({j.id, j.attempt, "w"}, {.next = JobState::done},
                                        Clock::now());
                    }
                } catch (const Error&) {
                    ++failures;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(stores[0]->stats(Clock::now()).delivered + stores[0]->stats(Clock::now()).queued,
              200U);
}

TEST(SqliteStore, LargeTextStreamsThroughChunks) {
    TempDir dir;
    SqliteStore store(dir.db());
    const std::string big = text("big", 20000) + "\xc3\xa9\r\n";  // ~1.3 MB, 8-bit
    std::istringstream in(big);
    const Enqueued e = store.enqueue({.envelope = envelope()}, in, Clock::now());
    EXPECT_EQ(read_all(*store.open_text(e.id)), big);
    EXPECT_EQ(store.find(e.id)->size, big.size());
    EXPECT_EQ(store.find(e.id)->envelope.params.body, missive::smtp::BodyType::eight_bit_mime);
}

TEST(SqliteStore, ExpiredLeaseReturnsAJobThatNeverReachedItsEndOfData) {
    TempDir dir;
    SqliteStore store(dir.db());
    Outbox(store).enqueue(envelope(), text("1"));
    const TimePoint t0 = Clock::now();
    auto claimed = store.claim("a", 1s, 10, t0, false);
    ASSERT_EQ(claimed.size(), 1U);
    EXPECT_EQ(claimed[0].attempts, 1U);
    EXPECT_TRUE(store.claim("b", 1s, 10, t0 + 500ms, false).empty());
    EXPECT_EQ(store.stats(t0).in_flight, 1U);
    auto again = store.claim("b", 1s, 10, t0 + 2s, false);
    ASSERT_EQ(again.size(), 1U);
    EXPECT_EQ(again[0].worker, "b");
    EXPECT_EQ(again[0].attempts, 2U);
    // The first worker lost its lease: nothing it says is recorded.
    const Lease old{claimed[0].id, claimed[0].attempt, "a"};
    EXPECT_FALSE(store.finish(old, {.next = JobState::done}, t0 + 2s));
    EXPECT_FALSE(store.mark_data_end(old, t0 + 2s));
    EXPECT_TRUE(store.renew({again[0].id, again[0].attempt, "b"}, 1s, t0 + 2s));
}

TEST(SqliteStore, ExpiredLeaseAfterEndOfDataIsHeldAsOutcomeUnknown) {
    TempDir dir;
    SqliteStore store(dir.db());
    const JobId id = Outbox(store).enqueue(envelope(), text("1")).id;
    const TimePoint t0 = Clock::now();
    auto claimed = store.claim("a", 1s, 10, t0, false);
    ASSERT_EQ(claimed.size(), 1U);
    ASSERT_TRUE(store.mark_data_end({id, claimed[0].attempt, "a"}, t0));
    EXPECT_TRUE(store.claim("b", 1s, 10, t0 + 2s, false).empty());
    auto job = store.find(id);
    EXPECT_EQ(job->state, JobState::held);
    EXPECT_EQ(job->recipients[0].state, RecipientState::unknown);
    EXPECT_EQ(job->last_error,
              "outcome unknown: the worker's lease expired after the end of the data");
    EXPECT_EQ(store.stats(t0 + 2s).held, 1U);
    // The decision: retry (it may arrive twice).
    EXPECT_TRUE(store.release(id, true, t0 + 2s));
    EXPECT_EQ(store.claim("b", 1s, 10, t0 + 2s, false).size(), 1U);
}

TEST(SqliteStore, DiskFullDuringEnqueueIsAClearErrorAndStoresNothing) {
    TempDir dir;
    { SqliteStore store(dir.db()); }
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        (void)std::signal(SIGXFSZ, SIG_IGN);
        const rlimit limit{256 * 1024, 256 * 1024};
        (void)::setrlimit(RLIMIT_FSIZE, &limit);
        int code = 1;
        try {
            SqliteStore store(dir.db());
            std::istringstream big(text("big", 40000));  // ~2.6 MB
            (void)store.enqueue({.envelope = envelope()}, big, Clock::now());
        } catch (const Error& e) {
            // The OS's reason is in the text and in cause(): EFBIG here, ENOSPC on a full disk.
            const bool clear = e.code() == errc::storage &&
                               std::string(e.what()) ==
                                   "outbox: writing to the store: disk I/O error: File too large" &&
                               e.cause() == std::errc::file_too_large;
            if (!clear) {
                std::fprintf(stderr, "unexpected: %s\n", e.what());  // NOLINT
            }
            code = clear ? 0 : 3;
        }
        ::_exit(code);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    SqliteStore store(dir.db());
    EXPECT_TRUE(store.list({}).empty());
    // And the store still works.
    EXPECT_TRUE(Outbox(store).enqueue(envelope(), text("after")).created);
}

namespace {

// An endless message text that writes a byte to `fd` once `after` octets were read, then goes
// on slowly: the enqueue is in the middle of its transaction.
class SlowText final : public std::streambuf {
public:
    SlowText(int fd, std::size_t after)
        : fd_(fd)
        , after_(after) {}

protected:
    int_type underflow() override {
        if (given_ >= after_ && !std::exchange(told_, true)) {
            (void)::write(fd_, "x", 1);
        }
        if (told_) {
            std::this_thread::sleep_for(1ms);
        }
        given_ += line_.size();
        setg(line_.data(), line_.data(), line_.data() + line_.size());  // NOLINT
        return traits_type::to_int_type(line_[0]);
    }

private:
    int fd_;
    std::size_t after_;
    std::size_t given_ = 0;
    bool told_ = false;
    std::string line_ = "A line of a message that never ends, for a worker to die in.\r\n";
};

}  // namespace

TEST(SqliteStore, KilledInTheMiddleOfAnEnqueueLeavesNothing) {
    TempDir dir;
    JobId before = 0;
    {
        SqliteStore store(dir.db());
        before = Outbox(store).enqueue(envelope(), text("before")).id;
    }
    std::array<int, 2> fds{};
    ASSERT_EQ(::pipe(fds.data()), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(fds[0]);
        try {
            SqliteStore store(dir.db());
            SlowText slow(fds[1], 3 * 1024 * 1024);
            std::istream in(&slow);
            (void)Outbox(store).enqueue(envelope(), in);
        } catch (...) {
        }
        ::_exit(0);
    }
    ::close(fds[1]);
    char c = 0;
    ASSERT_EQ(::read(fds[0], &c, 1), 1);  // 3 MiB of it is in the transaction
    ::close(fds[0]);
    ::kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status));
    SqliteStore store(dir.db());
    const auto jobs = store.list({});
    ASSERT_EQ(jobs.size(), 1U);
    EXPECT_EQ(jobs[0].id, before);
    EXPECT_EQ(read_all(*store.open_text(before)), text("before"));
    // Not even the id was taken: the killed transaction left no trace.
    EXPECT_EQ(Outbox(store).enqueue(envelope(), text("after")).id, before + 1);
}

TEST(Deliverer, DeliversAndCountsEachMessageOnce) {
    TempDir dir;
    SqliteStore store(dir.db());
    Outbox outbox(store);
    for (int i = 0; i < 5; ++i) {
        outbox.enqueue(envelope(), text(std::to_string(i)));
    }
    Mta mta;
    Deliverer deliverer(store, mta.url(), client_options(), pool_options(), fast());
    const RunReport r = deliverer.run_until_idle();
    EXPECT_EQ(r.claimed, 5U);
    EXPECT_EQ(r.delivered, 5U);
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(mta.accepted()[std::to_string(i)], 1);
    }
    const Stats s = store.stats(Clock::now());
    EXPECT_EQ(s.delivered, 5U);
    EXPECT_EQ(s.queued + s.deferred + s.in_flight + s.held + s.failed, 0U);
    EXPECT_FALSE(s.oldest_age);
}

TEST(Deliverer, RetriesOnlyDeferredRecipientsWithTheSameBytes) {
    TempDir dir;
    SqliteStore store(dir.db());
    std::atomic<int> carol{0};
    Mta mta({.rcpt_reply = [&](const std::string& rcpt) -> std::string {
        if (rcpt.find("dave@") != std::string::npos) {
            return "550 5.1.1 no such user";
        }
        if (rcpt.find("carol@") != std::string::npos && carol++ == 0) {
            return "451 4.3.0 try later";
        }
        return "250 2.1.5 ok";
    }});
    // A built message: Date and Message-ID fixed at enqueue.
    auto message = missive::mime::Builder()
                       .from("alice@example.org")
                       .to("bob@example.org")
                       .to("carol@example.org")
                       .bcc("dave@example.org")
                       .subject("retry")
                       .text("Hello.\n")
                       .build();
    const JobId id = Outbox(store).enqueue(message).id;
    Deliverer deliverer(store, mta.url(), client_options(), pool_options(), fast());
    RunReport r = deliverer.run_once();
    EXPECT_EQ(r.deferred, 1U);
    auto job = store.find(id);
    EXPECT_EQ(job->state, JobState::queued);
    EXPECT_EQ(job->recipients[0].state, RecipientState::accepted);
    EXPECT_EQ(job->recipients[1].state, RecipientState::pending);
    EXPECT_EQ(job->recipients[1].reply->code, 451);
    EXPECT_EQ(job->recipients[2].state, RecipientState::refused);
    std::this_thread::sleep_for(20ms);
    r = deliverer.run_once();
    EXPECT_EQ(r.delivered, 1U);
    job = store.find(id);
    EXPECT_EQ(job->state, JobState::done);
    EXPECT_EQ(job->recipients[1].state, RecipientState::accepted);
    // The second attempt went to carol only, with the very same octets.
    const auto rcpts = mta.rcpts();
    ASSERT_EQ(rcpts.size(), 4U);
    EXPECT_EQ(rcpts[3], "RCPT TO:<carol@example.org>");
    const auto messages = mta.messages();
    ASSERT_EQ(messages.size(), 2U);
    EXPECT_EQ(messages[0], messages[1]);
    EXPECT_NE(messages[0].find("Message-ID: "), std::string::npos);
    EXPECT_NE(messages[0].find("Date: "), std::string::npos);
    EXPECT_EQ(messages[0].find("dave"), std::string::npos);  // Bcc: in the envelope only
}

TEST(Deliverer, GivesUpDeferredRecipientsAfterTheMaximumAge) {
    TempDir dir;
    SqliteStore store(dir.db());
    Mta mta({.rcpt_reply = [](const std::string&) { return std::string("452 4.2.2 full"); }});
    const JobId id = Outbox(store).enqueue(envelope(), text("1")).id;
    DelivererOptions d = fast();
    d.max_age = 50ms;
    Deliverer deliverer(store, mta.url(), client_options(), pool_options(), d);
    EXPECT_EQ(deliverer.run_once().deferred, 1U);
    std::this_thread::sleep_for(60ms);
    EXPECT_EQ(deliverer.run_once().failed, 1U);
    const auto job = store.find(id);
    EXPECT_EQ(job->state, JobState::failed);
    EXPECT_EQ(job->recipients[0].state, RecipientState::refused);
    EXPECT_EQ(job->recipients[0].reply->code, 452);
    EXPECT_EQ(job->recipients[0].note.rfind("expired: still deferred after the maximum age", 0),
              0U);
    EXPECT_EQ(store.stats(Clock::now()).failed, 1U);
}

TEST(Deliverer, OutcomeUnknownIsHeldAndSaysSo) {
    TempDir dir;
    SqliteStore store(dir.db());
    Mta mta({.after_dot = [] { return true; }});
    const JobId id = Outbox(store).enqueue(envelope(), text("1")).id;
    Deliverer deliverer(store, mta.url(), client_options(), pool_options(), fast());
    EXPECT_EQ(deliverer.run_once().held, 1U);
    const auto job = store.find(id);
    EXPECT_EQ(job->state, JobState::held);
    EXPECT_EQ(job->recipients[0].state, RecipientState::unknown);
    EXPECT_EQ(job->last_error,
              "outcome unknown, held for a decision: connection closed by the server after the "
              "message data was sent, before the server's reply: the message may or may not have "
              "been accepted");
    EXPECT_EQ(job->recipients[0].note, job->last_error);
    EXPECT_EQ(deliverer.run_once().claimed, 0U);  // held: nobody sends it again
    EXPECT_EQ(mta.accepted()["1"], 1);
}

// kill -9 of a worker process at a step the server chooses; then a new worker finishes.
namespace {

enum class KillAt { mail, mid_data, after_dot, after_reply };

constexpr int kill_messages = 3;

struct KillResult {
    std::map<std::string, int> accepted;
    std::vector<Job> jobs;  // m0, m1, m2
};

// Three messages; the worker is killed at the second one's `step` (the first may be anywhere
// then, pipelined: its verdict read or not).
// gcc's AddressSanitizer cannot fork a process with other threads running (the test server's)
// safely: the child may block for ever on a lock a vanished thread held. The kill tests run in
// the plain build.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool fork_with_threads_works = false;
#else
constexpr bool fork_with_threads_works = true;
#endif

KillResult kill_worker_at(KillAt step, const missive::test::StoreSite& site) {
    {
        const auto store = site.open();
        Outbox outbox(*store);
        for (int i = 0; i < kill_messages; ++i) {
            // Mid-data, ~16 MB: more than loopback's socket buffers can take (up to 4 MB sent
            // and 6 MB received), so the client cannot have written its end when the server
            // stalls.
            outbox.enqueue(envelope(),
                           text("m" + std::to_string(i), step == KillAt::mid_data ? 250000 : 3));
        }
    }
    std::atomic<pid_t> child{0};
    std::atomic<int> seen{0};
    std::atomic<bool> killed{false};
    // @return true when this occurrence killed the worker
    auto kill_at_second = [&] {
        if (seen++ != 1 || killed.exchange(true)) {
            return false;
        }
        ::kill(child.load(), SIGKILL);
        std::this_thread::sleep_for(50ms);
        return true;
    };
    Hooks hooks;
    switch (step) {
        case KillAt::mail:
            hooks.at_mail = [&] { (void)kill_at_second(); };
            break;
        case KillAt::mid_data:
            hooks.mid_data = [&] { (void)kill_at_second(); };
            break;
        case KillAt::after_dot:
            hooks.after_dot = kill_at_second;
            break;
        case KillAt::after_reply:
            hooks.after_reply = [&] { (void)kill_at_second(); };
            break;
    }
    Mta mta(hooks);
    const pid_t pid = ::fork();
    if (pid == 0) {
        try {
            const auto store = site.open();  // the child's own connection
            DelivererOptions d = fast("doomed");
            d.lease = 300ms;
            missive::client::PoolOptions p = pool_options();
            p.connections = 1;  // one stream of pipelined messages: the order is known
            Deliverer deliverer(*store, mta.url(), client_options(), p, d);
            (void)deliverer.run_once();
        } catch (...) {
        }
        ::_exit(0);
    }
    child = pid;
    int status = 0;
    // A worker that never reaches the step is a failure, not a hang.
    for (int waited = 0; ::waitpid(pid, &status, WNOHANG) == 0; ++waited) {
        if (waited == 600) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            ADD_FAILURE() << "the worker never reached the step it was to be killed at";
            return {};
        }
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    std::this_thread::sleep_for(400ms);  // the dead worker's lease expires
    const auto store = site.open();
    Deliverer deliverer(*store, mta.url(), client_options(), pool_options(), fast("rescuer"));
    (void)deliverer.run_until_idle();
    KillResult r{mta.accepted(), store->list({})};
    // Every message: delivered exactly once, or held as outcome unknown (and at most once).
    EXPECT_EQ(r.jobs.size(), static_cast<std::size_t>(kill_messages));
    for (const Job& job : r.jobs) {
        const std::string id = "m" + std::to_string(job.id - 1);
        const int count = r.accepted.contains(id) ? r.accepted.at(id) : 0;
        if (job.state == JobState::done) {
            EXPECT_EQ(count, 1) << id;
        } else {
            EXPECT_EQ(job.state, JobState::held) << id;
            EXPECT_LE(count, 1) << id;
            EXPECT_EQ(job.recipients[0].state, RecipientState::unknown) << id;
        }
    }
    return r;
}

}  // namespace

// Each kill test runs on every store: SQLite, and PostgreSQL when MISSIVE_TEST_POSTGRES is set.
class WorkerKilled : public ::testing::TestWithParam<missive::test::StoreKind> {
protected:
    void SetUp() override {
        if (!fork_with_threads_works) {
            GTEST_SKIP() << "AddressSanitizer cannot fork a process with threads running";
        }
        site_ = missive::test::make_site(GetParam());
        if (!site_) {
            GTEST_SKIP() << missive::test::no_postgres;
        }
    }

    KillResult kill_at(KillAt step) { return kill_worker_at(step, *site_); }

private:
    std::unique_ptr<missive::test::StoreSite> site_;
};

INSTANTIATE_TEST_SUITE_P(Stores, WorkerKilled,
                         ::testing::Values(missive::test::StoreKind::sqlite,
                                           missive::test::StoreKind::postgres),
                         [](const auto& p) { return missive::test::to_string(p.param); });

TEST_P(WorkerKilled, AtMailLeavesAJobTheNextWorkerDeliversOnce) {
    const KillResult r = kill_at(KillAt::mail);
    ASSERT_EQ(r.jobs.size(), 3U);
    EXPECT_EQ(r.jobs[1].state, JobState::done);  // killed before its data: sent again, once
    EXPECT_EQ(r.jobs[1].attempts, 2U);
    EXPECT_EQ(r.jobs[2].state, JobState::done);
}

TEST_P(WorkerKilled, MidDataLeavesAJobTheNextWorkerDeliversOnce) {
    const KillResult r = kill_at(KillAt::mid_data);
    ASSERT_EQ(r.jobs.size(), 3U);
    EXPECT_EQ(r.jobs[1].state, JobState::done);  // its end was never written: sent again, once
    EXPECT_EQ(r.accepted.at("m1"), 1);
}

TEST_P(WorkerKilled, AfterTheFinalDotIsHeldAsOutcomeUnknown) {
    const KillResult r = kill_at(KillAt::after_dot);
    ASSERT_EQ(r.jobs.size(), 3U);
    EXPECT_EQ(r.accepted.at("m1"), 1);  // the server has it; it is never sent again
    EXPECT_EQ(r.jobs[1].state, JobState::held);
    EXPECT_EQ(r.jobs[1].last_error,
              "outcome unknown: the worker's lease expired after the end of the data");
}

TEST_P(WorkerKilled, AfterTheServersReplyIsNeverSentAgain) {
    const KillResult r = kill_at(KillAt::after_reply);
    ASSERT_EQ(r.jobs.size(), 3U);
    EXPECT_EQ(r.accepted.at("m1"), 1);
    // Killed before it recorded the 250: held (reported); after: done. Never twice.
    EXPECT_TRUE(r.jobs[1].state == JobState::held || r.jobs[1].state == JobState::done);
}

TEST(Stats, PrintsAsPrometheusText) {
    Stats s;
    s.queued = 3;
    s.deferred = 1;
    s.held = 2;
    s.delivered = 7;
    s.oldest_age = std::chrono::seconds(42);
    EXPECT_EQ(to_prometheus(s),
              "# HELP missive_outbox_jobs Jobs of the outbox by state.\n"
              "# TYPE missive_outbox_jobs gauge\n"
              "missive_outbox_jobs{state=\"queued\"} 3\n"
              "missive_outbox_jobs{state=\"deferred\"} 1\n"
              "missive_outbox_jobs{state=\"in_flight\"} 0\n"
              "missive_outbox_jobs{state=\"held\"} 2\n"
              "missive_outbox_jobs{state=\"delivered\"} 7\n"
              "missive_outbox_jobs{state=\"failed\"} 0\n"
              "# HELP missive_outbox_oldest_age_seconds Age of the oldest job not yet final.\n"
              "# TYPE missive_outbox_oldest_age_seconds gauge\n"
              "missive_outbox_oldest_age_seconds 42\n");
}

TEST(SqliteStore, ReleasingAHeldJobWithoutRetryEndsIt) {
    TempDir dir;
    SqliteStore store(dir.db());
    const JobId id = Outbox(store).enqueue(envelope(), text("1")).id;
    const TimePoint t0 = Clock::now();
    auto claimed = store.claim("a", 1s, 1, t0, false);
    ASSERT_TRUE(store.mark_data_end({id, claimed.at(0).attempt, "a"}, t0));
    EXPECT_TRUE(store.claim("b", 1s, 1, t0 + 2s, false).empty());
    EXPECT_FALSE(store.release(id + 1, false, t0 + 2s));
    EXPECT_TRUE(store.release(id, false, t0 + 2s));
    const auto job = store.find(id);
    EXPECT_EQ(job->state, JobState::failed);
    EXPECT_EQ(job->recipients[0].state, RecipientState::refused);
    EXPECT_EQ(job->recipients[0].note, "outcome unknown; not retried");
    EXPECT_FALSE(store.release(id, true, t0 + 2s));  // no longer held
}

TEST(Deliverer, AllowDuplicatesRetriesAnUnknownOutcome) {
    TempDir dir;
    SqliteStore store(dir.db());
    std::atomic<int> ends{0};
    Mta mta({.after_dot = [&] { return ends++ == 0; }});
    const JobId id = Outbox(store).enqueue(envelope(), text("1")).id;
    DelivererOptions d = fast();
    d.allow_duplicates = true;
    Deliverer deliverer(store, mta.url(), client_options(), pool_options(), d);
    // run_until_idle stops when nothing is due: the retry may not be due yet when it looks.
    RunReport r;
    for (int i = 0; i < 200 && store.find(id)->state != JobState::done; ++i) {
        const RunReport step = deliverer.run_until_idle();
        r.deferred += step.deferred;
        r.delivered += step.delivered;
        std::this_thread::sleep_for(5ms);
    }
    EXPECT_EQ(r.deferred, 1U);
    EXPECT_EQ(r.delivered, 1U);
    EXPECT_EQ(store.find(id)->state, JobState::done);
    EXPECT_EQ(mta.accepted()["1"], 2);  // the documented price of allow_duplicates
}

// Worker processes sharing one queue, on every store (PostgreSQL with MISSIVE_TEST_POSTGRES).
class Workers : public ::testing::TestWithParam<missive::test::StoreKind> {
protected:
    void SetUp() override {
        site_ = missive::test::make_site(GetParam());
        if (!site_) {
            GTEST_SKIP() << missive::test::no_postgres;
        }
    }

    std::unique_ptr<missive::test::StoreSite> site_;
};

INSTANTIATE_TEST_SUITE_P(Stores, Workers,
                         ::testing::Values(missive::test::StoreKind::sqlite,
                                           missive::test::StoreKind::postgres),
                         [](const auto& p) { return missive::test::to_string(p.param); });

TEST_P(Workers, ManyProcessesDeliverEachMessageOnce) {
    if (!fork_with_threads_works) {
        GTEST_SKIP() << "fork with the test server's thread running hangs under gcc's ASan";
    }
    constexpr int messages = 40;
    {
        const auto store = site_->open();
        Outbox outbox(*store);
        for (int i = 0; i < messages; ++i) {
            outbox.enqueue(envelope(), text(std::to_string(i)));
        }
    }
    Mta mta;
    std::vector<pid_t> workers;
    for (int w = 0; w < 3; ++w) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            int code = 0;
            try {
                const auto store = site_->open();  // each process its own connection
                DelivererOptions d = fast("w" + std::to_string(w));
                d.batch = 4;
                Deliverer deliverer(*store, mta.url(), client_options(), pool_options(), d);
                (void)deliverer.run_until_idle();
            } catch (const std::exception& e) {
                std::fprintf(stderr, "worker: %s\n", e.what());  // NOLINT
                code = 1;
            }
            ::_exit(code);
        }
        workers.push_back(pid);
    }
    for (const pid_t pid : workers) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    const auto accepted = mta.accepted();
    ASSERT_EQ(accepted.size(), static_cast<std::size_t>(messages));
    for (const auto& [id, n] : accepted) {
        EXPECT_EQ(n, 1) << id;
    }
    EXPECT_EQ(site_->open()->stats(Clock::now()).delivered, static_cast<std::uint64_t>(messages));
}

TEST(Deliverer, RenewsItsLeaseWhileASendTakesLonger) {
    TempDir dir;
    SqliteStore store(dir.db());
    const JobId id = Outbox(store).enqueue(envelope(), text("slow")).id;
    Mta mta({.at_mail = [] { std::this_thread::sleep_for(900ms); }});
    DelivererOptions d = fast();
    d.lease = 300ms;  // renewed every 100 ms while the server is slow
    Deliverer deliverer(store, mta.url(), client_options(), pool_options(), d);
    RunReport report;
    std::thread worker([&] { report = deliverer.run_once(); });
    std::this_thread::sleep_for(600ms);  // two leases' time
    EXPECT_TRUE(store.claim("other", 1s, 10, Clock::now(), false).empty());
    worker.join();
    EXPECT_EQ(report.delivered, 1U);
    EXPECT_EQ(store.find(id)->state, JobState::done);
    EXPECT_EQ(mta.accepted()["slow"], 1);
}

// Outcomes that keep arriving, each sooner than a third of the lease, must not keep the worker
// from renewing the leases of the jobs it still holds: the batch takes longer than a lease.
// (The worker renewed only after a third of a lease without any outcome; in
// tests/integration/check/outbox_chaos.py live workers lost leases, and jobs they delivered
// ended held.)
TEST(Deliverer, RenewsItsLeasesWhileOutcomesKeepArriving) {
    TempDir dir;
    SqliteStore store(dir.db());
    constexpr int count = 16;
    for (int i = 0; i < count; ++i) {
        (void)Outbox(store).enqueue(envelope(), text("m" + std::to_string(i)));
    }
    Mta mta({.at_mail = [] { std::this_thread::sleep_for(50ms); }});
    DelivererOptions d = fast();
    d.lease = 300ms;  // outcomes every 50 ms, one after another: 800 ms for the batch
    d.batch = count;
    missive::client::PoolOptions p = pool_options();
    p.connections = 1;
    Deliverer deliverer(store, mta.url(), client_options(), p, d);
    RunReport report;
    std::thread worker([&] { report = deliverer.run_once(); });
    std::this_thread::sleep_for(500ms);  // more than a lease
    EXPECT_TRUE(store.claim("other", 1s, count, Clock::now(), false).empty());
    worker.join();
    EXPECT_EQ(report.delivered, static_cast<std::size_t>(count));
    EXPECT_EQ(report.lost, 0U);
    EXPECT_EQ(store.stats(Clock::now()).delivered, static_cast<std::uint64_t>(count));
    for (int i = 0; i < count; ++i) {
        EXPECT_EQ(mta.accepted()["m" + std::to_string(i)], 1) << i;
    }
}
