// The outbox from the command line, run as a user would: queueing (send, send --batch,
// sendmail and what a temporary failure leaves), missive queue, missive deliver.
#include <missive/testing/server.hpp>

#include "binary.hpp"
#include "support/answering.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <optional>
#include <string>

using missive::cli::test::Outcome;
using missive::cli::test::run;
using missive::cli::test::scratch;
using missive::cli::test::shell;
using missive::test::answering;
using missive::test::answering_with;
using missive::testing::Server;

namespace fs = std::filesystem;

namespace {

const std::string message = " --from ada@example.org --to bob@example.com --text x";

std::string outbox(const fs::path& dir) {
    return (dir / "state" / "missive" / "outbox.db").string();
}

unsigned mode_of(const fs::path& p) {
    struct stat st {};

    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 0777U;
}

std::string server_flag(const Server& s) {
    return " --server smtp://127.0.0.1:" + std::to_string(s.port()) + " --tls none";
}

// sendmail against `server` (MISSIVE_SERVER), recipients as arguments.
Outcome sendmail(const fs::path& dir, const Server& server, const std::string& recipients) {
    return shell(dir,
                 "MISSIVE_SERVER=smtp://127.0.0.1:" + std::to_string(server.port()) +
                     " missive sendmail -i " + recipients,
                 "From: ada@example.org\nSubject: cron\n\nthe nightly report\n");
}

}  // namespace

TEST(CliOutbox, QueuesIntoTheStateDirectoryPrivately) {
    const auto dir = scratch();
    const Outcome r = run(dir, "send" + message);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(mode_of(outbox(dir)), 0600U);
    EXPECT_EQ(mode_of(dir / "state" / "missive"), 0700U);
    // Without XDG_STATE_HOME: under HOME; with neither, a configuration error, never cwd.
    const Outcome home = shell(dir, "unset XDG_STATE_HOME; HOME=$PWD/home missive send" + message);
    EXPECT_EQ(home.status, 0) << home.err;
    EXPECT_TRUE(fs::exists(dir / "home/.local/state/missive/outbox.db"));
    const Outcome none = shell(dir, "unset XDG_STATE_HOME HOME; missive send" + message);
    EXPECT_EQ(none.status, 78);
    EXPECT_EQ(none.err,
              "missive: no outbox: set --outbox, MISSIVE_OUTBOX, XDG_STATE_HOME or HOME "
              "(messages are never stored in the working directory)\n");
    const Outcome env = shell(dir, "MISSIVE_OUTBOX=$PWD/elsewhere.db missive send" + message);
    EXPECT_EQ(env.status, 0) << env.err;
    EXPECT_TRUE(fs::exists(dir / "elsewhere.db"));
}

TEST(CliOutbox, SendmailKeepsItsArgumentRecipients) {
    const auto dir = scratch();
    const Outcome r =
        run(dir, "sendmail -i carol@example.org dave@example.org", "Subject: s\n\nb\n");
    ASSERT_EQ(r.status, 0) << r.err;
    const Outcome q = run(dir, "queue --json");
    EXPECT_NE(q.out.find("\"address\":\"carol@example.org\""), std::string::npos) << q.out;
    EXPECT_NE(q.out.find("\"address\":\"dave@example.org\""), std::string::npos) << q.out;
}

TEST(CliOutbox, IdempotencyKeyAndBatchIdsQueueOnce) {
    const auto dir = scratch();
    EXPECT_EQ(run(dir, "send --idempotency-key order-1" + message).status, 0);
    const Outcome again = run(dir, "send --idempotency-key order-1 --json" + message);
    EXPECT_EQ(again.out, "{\"status\":\"queued\",\"id\":1,\"created\":false,\"outbox\":\"" +
                             outbox(dir) + "\"}\n");
    std::ofstream(dir / "b.jsonl") << R"({"id":"a","from":"s@x.test","to":"r@y.test","text":"1"})"
                                   << "\n\n"
                                   << R"({"id":"b","from":"s@x.test","to":"r@y.test","text":"2"})"
                                   << "\n{not json}\n";
    const Outcome first = run(dir, "send --batch b.jsonl --queue");
    EXPECT_EQ(first.status, 65) << first.err;  // the bad line
    EXPECT_NE(first.out.find("queued 2 messages (0 already queued"), std::string::npos)
        << first.out;
    EXPECT_NE(first.err.find("missive: batch line 4: "), std::string::npos) << first.err;
    const Outcome second = run(dir, "send --batch b.jsonl --queue");
    EXPECT_NE(second.out.find("queued 0 messages (2 already queued"), std::string::npos)
        << second.out;
    EXPECT_EQ(run(dir, "queue stats --json").out,
              "{\"queued\":3,\"deferred\":0,\"in_flight\":0,\"held\":0,\"delivered\":0,"
              "\"failed\":0,\"oldest_age_seconds\":0}\n");
}

TEST(CliOutbox, AFullDiskStoresNothingAndExits73) {
    const auto dir = scratch();
    ASSERT_EQ(run(dir, "send" + message).status, 0);  // the outbox exists, with one job
    std::ofstream(dir / "big.bin") << std::string(std::size_t{3} << 20, 'x');
    // A file size limit of 1 MiB: the 3 MiB attachment cannot be written.
    const Outcome r = shell(dir, "ulimit -f 1024; missive send --attach big.bin" + message);
    EXPECT_EQ(r.status, 73) << r.err;
    EXPECT_NE(r.err.find("outbox: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("File too large"), std::string::npos) << r.err;
    const Outcome q = run(dir, "queue stats --json");
    EXPECT_NE(q.out.find("\"queued\":1,"), std::string::npos) << q.out << q.err;
}

TEST(CliOutbox, SendmailQueuesWhatATemporaryFailureLeaves) {
    const auto dir = scratch();
    Server busy(answering({{"MAIL", "421 4.3.2 busy, come back later"}}));
    const Outcome r = sendmail(dir, busy, "bob@example.com");
    EXPECT_EQ(r.status, 0) << r.err;  // kept: cron's mail is not lost
    EXPECT_NE(r.err.find("421 4.3.2 busy"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("missive: queued for a retry as 1 in " + outbox(dir) +
                         " (`missive deliver` sends it)\n"),
              std::string::npos)
        << r.err;
    const Outcome q = run(dir, "queue --json");
    EXPECT_NE(q.out.find("\"address\":\"bob@example.com\",\"state\":\"pending\""),
              std::string::npos)
        << q.out;
    // The stored message is the whole one.
    EXPECT_NE(run(dir, "queue export 1").out.find("the nightly report"), std::string::npos);
}

TEST(CliOutbox, SendmailQueuesOnlyTheDeferredRecipients) {
    const auto dir = scratch();
    Server server(
        answering_with([rcpt = 0](const std::string& line) mutable -> std::optional<std::string> {
            if (line.rfind("RCPT", 0) == 0) {
                return rcpt++ == 0 ? "250 ok" : "452 4.2.2 mailbox full";
            }
            return std::nullopt;
        }));
    const Outcome r = sendmail(dir, server, "bob@example.com carol@example.com");
    EXPECT_EQ(r.status, 0) << r.err;
    const Outcome q = run(dir, "queue --json");
    EXPECT_NE(q.out.find("\"address\":\"bob@example.com\",\"state\":\"accepted\""),
              std::string::npos)
        << q.out;
    EXPECT_NE(q.out.find("\"address\":\"carol@example.com\",\"state\":\"pending\""),
              std::string::npos)
        << q.out;
}

TEST(CliOutbox, SendmailHoldsWhatMayHaveArrived) {
    const auto dir = scratch();
    Server server(answering({{".", "drop"}}));  // the connection dies after the data
    const Outcome r = sendmail(dir, server, "bob@example.com");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("missive: held as 1 in " + outbox(dir) +
                         ": the server may have it already; `missive queue retry 1` sends it "
                         "again, `missive queue cancel 1` drops it\n"),
              std::string::npos)
        << r.err;
    EXPECT_NE(run(dir, "queue --json").out.find("\"state\":\"held\""), std::string::npos);
    // A deliver run leaves it alone; the user decides.
    Server fine(answering({}));
    const Outcome d = run(dir, "deliver --once" + server_flag(fine));
    EXPECT_EQ(d.status, 0) << d.err;
    EXPECT_EQ(d.out, "");
    EXPECT_EQ(run(dir, "queue retry 1").out, "retried 1\n");
    const Outcome again = run(dir, "deliver --once" + server_flag(fine));
    EXPECT_EQ(again.out, "1 <bob@example.com> accepted: 250 2.0.0 queued as ABC123\n") << again.err;
}

TEST(CliOutbox, SendmailWithAPermanentRefusalQueuesNothing) {
    const auto dir = scratch();
    Server server(answering({{"RCPT", "550 5.1.1 no such user"}}));
    const Outcome r = sendmail(dir, server, "nobody@example.com");
    EXPECT_EQ(r.status, 69) << r.err;
    EXPECT_FALSE(fs::exists(outbox(dir)));
}

TEST(CliOutbox, DeliverReportsEachRecipientAndRetriesOnlyTheDeferred) {
    const auto dir = scratch();
    ASSERT_EQ(run(dir,
                  "send --from ada@example.org --to ok@example.com --to gone@example.com "
                  "--to later@example.com --text x")
                  .status,
              0);
    Server server(answering_with([](const std::string& line) -> std::optional<std::string> {
        if (line.find("gone@") != std::string::npos) {
            return "550 5.1.1 no such user";
        }
        if (line.find("later@") != std::string::npos) {
            return "451 4.7.1 greylisted";
        }
        return line == "." ? std::optional<std::string>("250 2.0.0 queued as Q7") : std::nullopt;
    }));
    const Outcome d = run(dir, "deliver --once --backoff 1h" + server_flag(server));
    EXPECT_EQ(d.status, 0) << d.err;
    EXPECT_NE(d.out.find("1 <ok@example.com> accepted: 250 2.0.0 queued as Q7\n"),
              std::string::npos)
        << d.out;
    EXPECT_NE(d.out.find("1 <gone@example.com> refused: 550 5.1.1 no such user\n"),
              std::string::npos)
        << d.out;
    EXPECT_NE(d.out.find("1 <later@example.com> deferred (next try in "), std::string::npos)
        << d.out;
    EXPECT_NE(d.err.find("deliver: 0 delivered, 1 deferred, 0 held, 0 failed"), std::string::npos)
        << d.err;
    // Not due for an hour; retry makes it due, and only later@ is tried again.
    const Outcome idle = run(dir, "deliver --once" + server_flag(server));
    EXPECT_EQ(idle.out, "");
    EXPECT_EQ(run(dir, "queue retry 1").status, 0);
    Server fine(answering({{".", "250 2.0.0 queued as Q8"}}));
    const Outcome d2 = run(dir, "deliver --once --json" + server_flag(fine));
    EXPECT_EQ(d2.out,
              "{\"id\":1,\"recipient\":\"later@example.com\",\"state\":\"accepted\",\"code\":250,"
              "\"enhanced\":null,\"text\":\"2.0.0 queued as Q8\",\"note\":\"\",\"job\":\"done\"}\n")
        << d2.err;
    const Outcome show = run(dir, "queue show 1");
    EXPECT_NE(show.out.find("1  done  "), std::string::npos) << show.out;
    EXPECT_NE(show.out.find("      refused  gone@example.com  550 5.1.1 no such user\n"),
              std::string::npos)
        << show.out;
    EXPECT_EQ(show.out.find("not finished"), std::string::npos) << show.out;
}

TEST(CliOutbox, QueueCommandsActOnTheRightStatesOnly) {
    const auto dir = scratch();
    ASSERT_EQ(run(dir, "send" + message).status, 0);
    ASSERT_EQ(run(dir, "send" + message).status, 0);
    EXPECT_EQ(run(dir, "queue hold 1").out, "held 1\n");
    const Outcome twice = run(dir, "queue hold 1");
    EXPECT_EQ(twice.status, 65);
    EXPECT_EQ(twice.err, "missive: job 1 is held; only a queued job can be held\n");
    EXPECT_EQ(run(dir, "queue show 9").err, "missive: no job 9 in the outbox\n");
    EXPECT_NE(run(dir, "queue --state held").out.find("1  held  "), std::string::npos);
    EXPECT_EQ(run(dir, "queue cancel 1").out, "cancelled 1\n");
    EXPECT_NE(run(dir, "queue show 1").out.find("refused  bob@example.com  (cancelled)"),
              std::string::npos);
    EXPECT_EQ(run(dir, "queue purge").out, "purged 1 job\n");
    EXPECT_EQ(run(dir, "queue --json").out.find("\"id\":1,"), std::string::npos);
    // Export to a file: 0600, never over another.
    EXPECT_EQ(run(dir, "queue export 2 -o two.eml").status, 0);
    EXPECT_EQ(mode_of(dir / "two.eml"), 0600U);
    EXPECT_EQ(run(dir, "queue export 2 -o two.eml").status, 73);
    EXPECT_EQ(run(dir, "queue retry").status, 64);  // ids or --all
    const Outcome prom = run(dir, "queue stats --prometheus");
    EXPECT_NE(prom.out.find("missive_outbox_jobs{state=\"queued\"} 1\n"), std::string::npos)
        << prom.out;
}

TEST(CliOutbox, DeliverNeedsAServer) {
    const auto dir = scratch();
    const Outcome r = run(dir, "deliver --once");
    EXPECT_EQ(r.status, 78);
    EXPECT_EQ(r.err,
              "missive: no server to deliver to: use --server, --account or MISSIVE_SERVER\n");
}

TEST(CliOutbox, DeliverRunsUntilSigtermThenExitsCleanly) {
    const auto dir = scratch();
    Server server(answering({}));
    // The binary itself in the background (`missive` is a shell function: its pid a subshell's).
    const Outcome r =
        shell(dir, missive::cli::test::quoted(MISSIVE_CLI) + " deliver --poll 0.1s" +
                       server_flag(server) + " & pid=$!; sleep 1; missive send" + message +
                       " >/dev/null; sleep 1.5; kill -TERM $pid; wait $pid; "
                       "echo \"exit $?\"");
    // The message queued while it ran was delivered; SIGTERM ended it with status 0.
    EXPECT_NE(r.out.find("1 <bob@example.com> accepted: 250 2.0.0 queued as ABC123\n"),
              std::string::npos)
        << r.out << r.err;
    EXPECT_NE(r.out.find("exit 0\n"), std::string::npos) << r.out << r.err;
    EXPECT_NE(r.err.find("deliver: 1 delivered, 0 deferred, 0 held, 0 failed"), std::string::npos)
        << r.err;
}
