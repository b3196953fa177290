// missive send --batch run as the README shows it, against `missive capture`: every message
// once, bad lines reported, plain progress lines when stderr is not a terminal, and a batch
// killed with SIGKILL half way then resumed sends nothing twice.
#include "binary.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

extern char** environ;  // NOLINT: posix_spawn's environment

using missive::cli::test::Capture;
using missive::cli::test::Outcome;
using missive::cli::test::read_text;
using missive::cli::test::run;
using missive::cli::test::scratch;
namespace fs = std::filesystem;

namespace {

std::string batch_line(int i) {
    return R"({"id":"m)" + std::to_string(i) +
           R"(","from":"Shop <shop@example.org>","to":"a@example.org","subject":"Order )" +
           std::to_string(i) + R"(","text":"Thanks","headers":{"X-Batch-Id":"m)" +
           std::to_string(i) + R"("}})" + "\n";
}

void write_batch(const fs::path& file, int n) {
    std::ofstream out(file, std::ios::binary);
    for (int i = 0; i < n; ++i) {
        out << batch_line(i);
    }
}

// X-Batch-Id → how many messages the capture server stored with it.
std::map<std::string, int> received(const fs::path& maildir) {
    std::map<std::string, int> count;
    std::error_code ec;
    for (const auto& f : fs::directory_iterator(maildir / "new", ec)) {
        const std::string text = read_text(f.path());
        const auto at = text.find("X-Batch-Id: ");
        if (at != std::string::npos) {
            ++count[text.substr(at + 12, text.find_first_of("\r\n", at) - at - 12)];
        }
    }
    return count;
}

std::size_t lines_in(const fs::path& file) {
    const std::string text = read_text(file);
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// Its certificate is its own: trusted with --ca-file.
std::string server(const Capture& c) {
    return " --server smtp://127.0.0.1:" + std::to_string(c.port()) + " --ca-file " +
           (c.maildir() / "capture-cert.pem").string();
}

}  // namespace

TEST(CliBatch, SendsEveryMessageOnceAndRecordsIt) {
    const fs::path dir = scratch();
    const Capture capture(dir);
    write_batch(dir / "orders.jsonl", 40);
    const Outcome r = run(dir, "send --batch orders.jsonl --connections 3" + server(capture));
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("missive: batch: 40 accepted, 0 partial, 0 refused, 0 deferred, 0 "
                         "unknown, 0 invalid; 0 skipped (already in orders.results.jsonl); "),
              std::string::npos)
        << r.err;
    EXPECT_EQ(lines_in(dir / "orders.results.jsonl"), 40U);
    const auto got = received(capture.maildir());
    EXPECT_EQ(got.size(), 40U);
    EXPECT_EQ(got.begin()->first, "m0");
    for (const auto& [id, n] : got) {
        EXPECT_EQ(n, 1) << id;
    }
    // Run again: everything is recorded, nothing is sent.
    const Outcome again = run(dir, "send --batch orders.jsonl --quiet" + server(capture));
    EXPECT_EQ(again.status, 0) << again.err;
    EXPECT_EQ(again.err, "");
    EXPECT_EQ(received(capture.maildir()).size(), 40U);
    EXPECT_EQ(lines_in(dir / "orders.results.jsonl"), 40U);
}

TEST(CliBatch, BadLinesAreReportedAndRecorded) {
    const fs::path dir = scratch();
    const Capture capture(dir);
    std::ofstream(dir / "b.jsonl") << batch_line(0) << "{\"id\":\"x\",\"subjet\":\"typo\"}\n"
                                   << "not json\n"
                                   << batch_line(1);
    const Outcome r = run(dir, "send --batch b.jsonl --results out.jsonl" + server(capture));
    EXPECT_EQ(r.status, 65) << r.err;
    EXPECT_NE(r.err.find("missive: batch: line 2: unknown field \"subjet\" (known: id, from, to, "
                         "cc, bcc, subject, text, text_file, html, html_file, attach, inline, "
                         "headers, message)\n"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("missive: batch: line 3: not JSON: column 2: syntax error"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("2 accepted, 0 partial, 0 refused, 0 deferred, 0 unknown, 2 invalid"),
              std::string::npos)
        << r.err;
    const std::string results = read_text(dir / "out.jsonl");
    EXPECT_NE(results.find(R"({"id":null,"line":3,"status":"invalid")"), std::string::npos);
    EXPECT_EQ(received(capture.maildir()).size(), 2U);
}

TEST(CliBatch, PlainProgressLinesWhenNotATerminal) {
    const fs::path dir = scratch();
    const Capture capture(dir);
    write_batch(dir / "b.jsonl", 30);
    const Outcome r =
        run(dir, "send --batch b.jsonl --rate 30 --progress-interval 0.2 --json" + server(capture));
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.err.find('\r'), std::string::npos);
    EXPECT_EQ(r.err.find("\x1b["), std::string::npos);
    EXPECT_NE(r.err.find("/30 done: "), std::string::npos) << r.err;
    const auto lines = std::count(r.err.begin(), r.err.end(), '\n');
    EXPECT_GE(lines, 3) << r.err;  // about 1 s at 0.2 s a line, then the summary
    EXPECT_EQ(r.out,
              R"({"status":"done","accepted":30,"partial":0,"refused":0,"deferred":0,)"
              R"("unknown":0,"invalid":0,"skipped":0,"not_sent":0,"results":"b.results.jsonl",)"
              R"("exit":0})"
              "\n");
}

TEST(CliBatch, ReadyMessagesAndAttachments) {
    const fs::path dir = scratch();
    const Capture capture(dir);
    fs::create_directories(dir / "in");
    std::ofstream(dir / "in" / "ready.eml")
        << "From: s@example.org\nTo: r@example.org\nBcc: hidden@example.org\nX-Batch-Id: "
           "ready\nSubject: ready\n\nbody\n";
    std::ofstream(dir / "in" / "report.csv") << "a,b\n1,2\n";
    std::ofstream(dir / "in" / "b.jsonl")
        << R"({"id":"r","message":"ready.eml"})"
        << "\n"
        << R"({"id":"a","to":"r@example.org","bcc":"b@example.org","text":"see","attach":"report.csv","headers":{"X-Batch-Id":"attached"}})"
        << "\n";
    const Outcome r =
        run(dir, "send --batch in/b.jsonl --from 'Shop <shop@example.org>'" + server(capture));
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(fs::exists(dir / "in" / "b.results.jsonl"));
    std::string all;
    for (const auto& f : fs::directory_iterator(capture.maildir() / "new")) {
        // Without the envelope capture writes on top (X-Missive-Rcpt): Bcc is there, rightly.
        const std::string text = read_text(f.path());
        EXPECT_TRUE(text.find(", <hidden@example.org>\n") != std::string::npos ||
                    text.find(", <b@example.org>\n") != std::string::npos)
            << text;
        all += text.substr(text.find("\nReceived: "));
    }
    EXPECT_EQ(all.find("hidden@"), std::string::npos) << all;
    EXPECT_EQ(all.find("b@example.org"), std::string::npos) << all;
    EXPECT_EQ(all.find("Bcc:"), std::string::npos) << all;
    EXPECT_NE(all.find("filename=report.csv"), std::string::npos) << all;
    EXPECT_NE(all.find("From: Shop <shop@example.org>"), std::string::npos) << all;
    const auto got = received(capture.maildir());
    EXPECT_EQ(got.size(), 2U);
}

TEST(CliBatch, StandardInputNeedsAResultsFile) {
    const fs::path dir = scratch();
    const Capture capture(dir);
    const std::string input = batch_line(0) + batch_line(1);
    const Outcome bare = run(dir, "send --batch -" + server(capture), input);
    EXPECT_EQ(bare.status, 64);
    EXPECT_EQ(bare.err, "missive: --batch - (standard input) needs --results FILE\n");
    const Outcome r = run(dir, "send --batch - --results r.jsonl -q" + server(capture), input);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(lines_in(dir / "r.jsonl"), 2U);
    EXPECT_EQ(received(capture.maildir()).size(), 2U);
}

TEST(CliBatch, OneMessageFlagsAreRefused) {
    const Outcome r = run(scratch(),
                          "send --batch b.jsonl --to x@example.org --server "
                          "smtp://127.0.0.1:1");
    EXPECT_EQ(r.status, 64);
    EXPECT_EQ(r.err, "missive: --to cannot go with --batch: each line of the batch says it\n");
}

// The batch is killed with SIGKILL half way, right after result lines were written (the rate
// keeps the next messages 100 ms away, so none is between the server's reply and its record:
// that window, documented in missive(1), is not what this test is about), then run again.
TEST(CliBatch, KilledHalfWayThenResumedSendsNothingTwice) {
    const fs::path dir = scratch();
    const Capture capture(dir);
    constexpr int total = 60;
    write_batch(dir / "b.jsonl", total);
    const std::string port = std::to_string(capture.port());
    const std::string out = (dir / "first.err").string();
    const std::string cli = MISSIVE_CLI;
    const std::string results = (dir / "b.results.jsonl").string();
    const std::string batch = (dir / "b.jsonl").string();
    const std::string url = "smtp://127.0.0.1:" + port;
    const std::string ca = (capture.maildir() / "capture-cert.pem").string();
    std::vector<std::string> args = {cli, "send",      "--batch", batch,     "--server",
                                     url, "--rate",    "10",      "--quiet", "--connections",
                                     "2", "--ca-file", ca};
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = 0;
    ASSERT_EQ(posix_spawn(&pid, cli.c_str(), &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (lines_in(results) < total / 2 && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    // Letters paced together go together: wait until their records are all there (30 ms
    // without a new one; the next letters are 100 ms or more away).
    for (std::size_t seen = lines_in(results);;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        const std::size_t now = lines_in(results);
        if (now == seen) {
            break;
        }
        seen = now;
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << read_text(out);
    const std::size_t recorded = lines_in(results);
    EXPECT_GE(recorded, static_cast<std::size_t>(total / 2));
    EXPECT_LT(recorded, static_cast<std::size_t>(total)) << "not killed half way";

    const Outcome r = run(dir, "send --batch b.jsonl --connections 2" + server(capture));
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("missive: batch: resuming: " + std::to_string(recorded) +
                         " messages are recorded in b.results.jsonl; they are not sent again\n"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find(std::to_string(total - recorded) + " accepted"), std::string::npos)
        << r.err;
    const auto got = received(capture.maildir());
    EXPECT_EQ(got.size(), static_cast<std::size_t>(total));
    for (const auto& [id, n] : got) {
        EXPECT_EQ(n, 1) << id << " received " << n << " times";
    }
    EXPECT_EQ(lines_in(results), static_cast<std::size_t>(total));
}
