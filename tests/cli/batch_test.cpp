// send --batch without a server: the lines made into letters, the results file and resuming,
// the window of letters in flight, the progress line; the sink is a fake.
#include "batch.hpp"

#include <missive/error.hpp>
#include <missive/mime/serializer.hpp>

#include "binary.hpp"
#include "failure.hpp"
#include "message_input.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace cli = missive::cli;
namespace client = missive::client;
namespace smtp = missive::smtp;
using missive::errc;
using missive::Error;
using missive::cli::test::read_text;
using missive::cli::test::scratch;

namespace {

smtp::SendResult accepted_result(const smtp::Envelope& e) {
    smtp::SendResult r;
    for (const auto& to : e.to) {
        r.recipients.push_back(
            {to.address, true, smtp::Reply{250, smtp::EnhancedCode{2, 1, 5}, {"ok"}}});
    }
    r.data_reply = smtp::Reply{250, smtp::EnhancedCode{2, 0, 0}, {"queued as Q1"}};
    r.queue_id = "Q1";
    r.message_sent = true;
    return r;
}

// Records every letter; answers at once, or (`async`) from a thread of its own every 2 ms, all
// those waiting then, as a pool's thread does.
class FakeSink : public cli::LetterSink {
public:
    std::vector<client::Letter> letters;
    // Outcome for the n-th letter (0-based); default: accepted by every recipient.
    std::function<client::Outcome(std::size_t, const client::Letter&)> answer;
    bool async = false;
    std::size_t max_pending = 0;

    FakeSink() = default;
    FakeSink(const FakeSink&) = delete;
    FakeSink& operator=(const FakeSink&) = delete;
    FakeSink(FakeSink&&) = delete;
    FakeSink& operator=(FakeSink&&) = delete;

    ~FakeSink() override {
        FakeSink::drain();
        {
            const std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        if (thread_.joinable()) {
            thread_.join();
        }
    }

    void submit(client::Letter letter, std::function<void(client::Outcome)> done) override {
        const std::size_t n = letters.size();
        client::Outcome o;
        if (answer) {
            o = answer(n, letter);
        } else {
            o.result = accepted_result(letter.envelope);
        }
        o.index = n;
        o.attempts = 1;
        letters.push_back(std::move(letter));
        if (!async) {
            done(std::move(o));
            return;
        }
        const std::lock_guard lock(mutex_);
        pending_.emplace_back(std::move(done), std::move(o));
        max_pending = std::max(max_pending, pending_.size());
        if (!thread_.joinable()) {
            thread_ = std::thread([this] { answer_loop(); });
        }
    }

    void drain() override {
        for (;;) {
            {
                const std::lock_guard lock(mutex_);
                if (pending_.empty() && answering_ == 0) {
                    return;
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }

private:
    void answer_loop() {
        for (;;) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            decltype(pending_) batch;
            {
                const std::lock_guard lock(mutex_);
                if (stopping_) {
                    return;
                }
                batch.swap(pending_);
                answering_ = batch.size();
            }
            for (auto& [done, o] : batch) {
                done(std::move(o));
            }
            const std::lock_guard lock(mutex_);
            answering_ = 0;
        }
    }

    std::mutex mutex_;
    std::vector<std::pair<std::function<void(client::Outcome)>, client::Outcome>> pending_;
    std::size_t answering_ = 0;
    bool stopping_ = false;
    std::thread thread_;
};

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) {
        if (!l.empty()) {
            out.push_back(l);
        }
    }
    return out;
}

struct Runner {
    std::filesystem::path dir = scratch();
    std::filesystem::path results = dir / "b.results.jsonl";
    std::vector<std::string> warnings;
    cli::BatchCounts counts;
    cli::BatchSummary summary;

    cli::BatchSummary go(const std::string& input, FakeSink& sink, cli::BatchSettings s = {}) {
        std::istringstream in(input);
        s.base = dir;
        s.warn = [this](const std::string& w) { warnings.push_back(w); };
        const cli::PriorResults prior = cli::read_results(results);
        cli::ResultsFile file(results);
        summary = cli::run_batch(in, s, prior, sink, file, counts);
        return summary;
    }

    [[nodiscard]] std::vector<std::string> records() const { return lines_of(read_text(results)); }
};

std::string line(const std::string& id, const std::string& extra = "") {
    return R"({"id":")" + id + R"(","from":"Shop <shop@example.org>","to":["a@example.org"],)" +
           R"("subject":"Order )" + id + R"(","text":"Thanks")" + extra + "}\n";
}

}  // namespace

TEST(BatchLine, ParsesEveryField) {
    const auto e = cli::parse_batch_line(
        R"({"id":"order-1042","from":"Shop <shop@example.org>","to":["a@example.org","b@example.org"],"cc":"c@example.org","bcc":[],"subject":"Hi","text":"t","html":"<p>h</p>","headers":{"X-Campaign":"7","X-Tag":["a","b"]},"attach":"files/x.pdf"})",
        3, "/base");
    EXPECT_EQ(e.line, 3U);
    EXPECT_EQ(e.id, "order-1042");
    const auto& spec = std::get<cli::MessageSpec>(e.content);
    EXPECT_EQ(spec.from, "Shop <shop@example.org>");
    EXPECT_EQ(spec.to, (std::vector<std::string>{"a@example.org", "b@example.org"}));
    EXPECT_EQ(spec.cc, (std::vector<std::string>{"c@example.org"}));
    EXPECT_EQ(spec.html, "<p>h</p>");
    EXPECT_EQ(spec.attach, (std::vector<std::string>{"/base/files/x.pdf"}));
    EXPECT_EQ(spec.headers,
              (std::vector<std::pair<std::string, std::string>>{{"X-Campaign", "7"}}));
    EXPECT_EQ(spec.add_headers,
              (std::vector<std::pair<std::string, std::string>>{{"X-Tag", "a"}, {"X-Tag", "b"}}));
}

TEST(BatchLine, NumericIdAndReadyMessage) {
    const auto e = cli::parse_batch_line(
        R"({"id":42,"message":"/abs/m.eml","from":"s@example.org","to":"r@example.org"})", 1,
        "/base");
    EXPECT_EQ(e.id, "42");
    const auto& ready = std::get<cli::ReadyFile>(e.content);
    EXPECT_EQ(ready.path, "/abs/m.eml");
    EXPECT_EQ(ready.to, std::vector<std::string>{"r@example.org"});
}

TEST(BatchLine, MistakesAreNamed) {
    const auto error_of = [](const std::string& text) -> std::string {
        try {
            (void)cli::parse_batch_line(text, 1, "");
        } catch (const cli::BatchLineError& e) {
            return e.what();
        }
        return "no error";
    };
    EXPECT_EQ(error_of(R"({"to":"a@example.org",)"),
              "not JSON: column 23: syntax error while parsing object key - unexpected end of "
              "input; expected string literal");
    EXPECT_EQ(error_of("[1]"), "a line must be a JSON object, not array");
    EXPECT_EQ(error_of(R"({"subjet":"x"})"),
              "unknown field \"subjet\" (known: id, from, to, cc, bcc, subject, text, text_file, "
              "html, html_file, attach, inline, headers, message)");
    EXPECT_EQ(error_of(R"({"to":5})"),
              "\"to\" must be a string or an array of strings, not number");
    EXPECT_EQ(error_of(R"({"id":true})"), "\"id\" must be a string or an integer, not boolean");
    EXPECT_EQ(error_of(R"({"message":"m.eml","subject":"x"})"),
              "\"message\" (a ready message) cannot go with \"subject\"");
    EXPECT_EQ(error_of(R"({"headers":{"Bcc":"x@example.org"}})"),
              "\"headers\" 'Bcc: …': a Bcc field is never written; use \"bcc\"");
    EXPECT_EQ(error_of(R"({"headers":{"Content-Type":"text/html"}})"),
              "\"headers\" 'Content-Type: …': missive writes this field itself; for an HTML body "
              "use \"html\" (with \"text\" for a plain-text alternative), for a file \"attach\"");
}

TEST(BatchLetter, ComposedAsSendComposes) {
    const auto dir = scratch();
    std::ofstream(dir / "a.txt") << "attached";
    const auto e = cli::parse_batch_line(
        R"({"from":"Shop <shop@example.org>","to":"a@example.org","bcc":"hidden@example.org","subject":"S","text":"body","headers":{"Subject":"Replaced","X-Campaign":"7"},"attach":"a.txt"})",
        1, dir);
    const client::Letter l = cli::make_letter(e, "");
    EXPECT_EQ(l.envelope.from, "shop@example.org");
    ASSERT_EQ(l.envelope.to.size(), 2U);
    EXPECT_EQ(l.envelope.to[1].address, "hidden@example.org");
    const std::string text = missive::mime::to_string(std::get<missive::mime::Message>(l.content));
    EXPECT_EQ(text.find("hidden@"), std::string::npos) << text;
    EXPECT_NE(text.find("Subject: Replaced\r\n"), std::string::npos) << text;
    EXPECT_NE(text.find("X-Campaign: 7\r\n"), std::string::npos) << text;
    EXPECT_NE(text.find("filename=a.txt"), std::string::npos) << text;
}

TEST(BatchLetter, DefaultSenderAndMissingFiles) {
    const auto dir = scratch();
    const auto e = cli::parse_batch_line(R"({"to":"a@example.org","text":"x"})", 1, dir);
    EXPECT_EQ(cli::make_letter(e, "Ada <ada@example.org>").envelope.from, "ada@example.org");
    try {
        (void)cli::make_letter(e, "");
        ADD_FAILURE();
    } catch (const cli::UsageError& err) {
        EXPECT_STREQ(err.what(), "\"from\" is required (or `from` in the account)");
    }
    const auto missing = cli::parse_batch_line(
        R"({"from":"s@example.org","to":"a@example.org","attach":"gone.pdf"})", 1, dir);
    try {
        (void)cli::make_letter(missing, "");
        ADD_FAILURE();
    } catch (const cli::InputError& err) {
        EXPECT_EQ(std::string(err.what()), "\"attach\" '" + (dir / "gone.pdf").string() +
                                               "' cannot be read: No such file or directory");
    }
}

TEST(BatchLetter, ReadyFileStreamedOrWithoutBcc) {
    const auto dir = scratch();
    std::ofstream(dir / "plain.eml") << "From: s@example.org\nTo: r@example.org\n\nbody\n";
    std::ofstream(dir / "bcc.eml")
        << "From: s@example.org\nTo: r@example.org\nBcc: secret@example.org\n\nbody\n";
    const client::Letter plain =
        cli::make_letter(cli::parse_batch_line(R"({"message":"plain.eml"})", 1, dir), "");
    EXPECT_EQ(plain.envelope.from, "s@example.org");
    EXPECT_EQ(std::get<std::filesystem::path>(plain.content), dir / "plain.eml");
    const client::Letter bcc =
        cli::make_letter(cli::parse_batch_line(R"({"message":"bcc.eml"})", 1, dir), "");
    ASSERT_EQ(bcc.envelope.to.size(), 2U);
    EXPECT_EQ(bcc.envelope.to[1].address, "secret@example.org");
    // Streamed too, opened afresh for each attempt: the header without Bcc, then the body.
    const auto& source = std::get<client::Letter::MessageSource>(bcc.content);
    for (int attempt = 0; attempt < 2; ++attempt) {
        const std::unique_ptr<std::istream> in = source();
        std::ostringstream text;
        text << in->rdbuf();
        EXPECT_EQ(text.str(), "From: s@example.org\r\nTo: r@example.org\r\n\r\nbody\n");
    }
}

TEST(BatchResults, RecordIsExact) {
    client::Outcome o;
    o.attempts = 2;
    o.result.recipients.push_back(
        {"a@example.org", true, smtp::Reply{250, smtp::EnhancedCode{2, 1, 5}, {"ok"}}});
    o.result.recipients.push_back(
        {"b@example.org", false, smtp::Reply{550, smtp::EnhancedCode{5, 1, 1}, {"no \xff"}}});
    o.result.data_reply = smtp::Reply{250, std::nullopt, {"queued as X"}};
    o.result.queue_id = "X";
    EXPECT_EQ(cli::status_of(o), cli::BatchStatus::partial);
    EXPECT_EQ(
        cli::result_record("o-1", 7, cli::status_of(o), &o, "", "",
                           std::chrono::system_clock::from_time_t(0)),
        R"({"id":"o-1","line":7,"status":"partial","attempts":2,"queue_id":"X",)"
        R"("reply":{"code":250,"enhanced":null,"text":"queued as X"},"recipients":[)"
        R"({"accepted":true,"address":"a@example.org","code":250,"enhanced":"2.1.5","text":"ok"},)"
        R"({"accepted":false,"address":"b@example.org","code":550,"enhanced":"5.1.1","text":"no )"
        "\xef\xbf\xbd"
        R"("}],"error":null,"time":"1970-01-01T00:00:00Z"})");
    EXPECT_EQ(cli::result_record(std::nullopt, 3, cli::BatchStatus::invalid, nullptr,
                                 "invalid_input", "bad", std::chrono::system_clock::from_time_t(0)),
              R"({"id":null,"line":3,"status":"invalid","attempts":0,"queue_id":"","reply":null,)"
              R"("recipients":[],"error":{"kind":"invalid_input","message":"bad"},)"
              R"("time":"1970-01-01T00:00:00Z"})");
}

TEST(BatchResults, StatusOfErrors) {
    client::Outcome o;
    o.error = Error(errc::outcome_unknown, "lost after the data");
    EXPECT_EQ(cli::status_of(o), cli::BatchStatus::unknown);
    o.error =
        Error(errc::reply_transient, "451", {.reply = smtp::Reply{451, std::nullopt, {"later"}}});
    EXPECT_EQ(cli::status_of(o), cli::BatchStatus::deferred);
    o.error =
        Error(errc::reply_permanent, "554", {.reply = smtp::Reply{554, std::nullopt, {"no"}}});
    EXPECT_EQ(cli::status_of(o), cli::BatchStatus::refused);
    // Delivered to one recipient before a transient failure for the others: never deferred,
    // which --retry-failed would send again to all of them.
    o.error =
        Error(errc::reply_transient, "451", {.reply = smtp::Reply{451, std::nullopt, {"later"}}});
    o.result.recipients.push_back(
        {"a@example.org", true, smtp::Reply{250, smtp::EnhancedCode{2, 1, 5}, {"ok"}}});
    o.result.recipients.push_back(
        {"b@example.org", false, smtp::Reply{451, smtp::EnhancedCode{4, 5, 3}, {"later"}}});
    EXPECT_EQ(cli::status_of(o), cli::BatchStatus::partial);
}

TEST(BatchRun, EveryMessageRecordedOnce) {
    Runner r;
    FakeSink sink;
    std::string input;
    for (int i = 0; i < 10; ++i) {
        input += line("m" + std::to_string(i));
    }
    EXPECT_EQ(r.go(input, sink).exit_status, 0);
    EXPECT_EQ(sink.letters.size(), 10U);
    EXPECT_EQ(r.counts.accepted, 10U);
    const auto records = r.records();
    ASSERT_EQ(records.size(), 10U);
    EXPECT_EQ(records[0].find(R"({"id":"m0","line":1,"status":"accepted","attempts":1,)"), 0U);
}

TEST(BatchRun, BadLinesAreRecordedAndTheRestGoesOn) {
    Runner r;
    FakeSink sink;
    const std::string input = line("a") + "{oops\n\n" + R"({"id":"b","to":"x@example.org"})" +
                              "\n" + line("c") + line("a");
    EXPECT_EQ(r.go(input, sink).exit_status, 65);
    EXPECT_EQ(sink.letters.size(), 2U);
    ASSERT_EQ(r.warnings.size(), 3U);
    EXPECT_EQ(r.warnings[0].rfind("line 2: not JSON: column 2: syntax error", 0), 0U)
        << r.warnings[0];
    EXPECT_EQ(r.warnings[1], "line 4: \"from\" is required (or `from` in the account)");
    EXPECT_EQ(r.warnings[2], "line 6: duplicate id 'a' (first on line 1); not sent");
    const auto records = r.records();
    ASSERT_EQ(records.size(), 5U);
    EXPECT_EQ(records[1].find(R"({"id":null,"line":2,"status":"invalid")"), 0U) << records[1];
    EXPECT_EQ(records[2].find(R"({"id":"b","line":4,"status":"invalid")"), 0U) << records[2];
    EXPECT_EQ(r.counts.invalid, 3U);
}

TEST(BatchRun, ResumeSkipsWhatIsRecorded) {
    Runner r;
    std::string input;
    for (int i = 0; i < 6; ++i) {
        input += line("m" + std::to_string(i));
    }
    input += R"({"from":"s@example.org","to":"a@example.org","text":"no id"})"
             "\n";
    {
        // A first run that "dies" after three outcomes: the fake answers only the first three.
        const auto prefix_end = [&] {
            std::size_t at = 0;
            for (int i = 0; i < 3; ++i) {
                at = input.find('\n', at) + 1;
            }
            return at;
        }();
        FakeSink first;
        (void)r.go(input.substr(0, prefix_end), first);
        EXPECT_EQ(first.letters.size(), 3U);
    }
    // A cut line, as a crash in the middle of a write would leave it.
    std::ofstream(r.results, std::ios::app) << R"({"id":"m3","line":4,"sta)";
    FakeSink second;
    cli::BatchCounts counts;
    r.counts.skipped = 0;
    (void)r.go(input, second);
    EXPECT_EQ(r.counts.skipped, 3U);
    ASSERT_EQ(second.letters.size(), 4U);  // m3, m4, m5 and the line without an id
    // Each id exactly once over both runs.
    const auto records = r.records();
    for (int i = 0; i < 6; ++i) {
        const std::string id = "\"id\":\"m" + std::to_string(i) + "\"";
        EXPECT_EQ(std::count_if(records.begin(), records.end(),
                                [&](const std::string& rec) {
                                    return rec.find(id) == 1 && rec.back() == '}';
                                }),
                  1)
            << id;
    }
    // A third run sends nothing.
    FakeSink third;
    (void)r.go(input, third);
    EXPECT_TRUE(third.letters.empty());
    EXPECT_EQ(cli::read_results(r.results).unreadable_lines, 1U);
}

TEST(BatchRun, RetryFailedSendsDeferredOnlyAgain) {
    Runner r;
    const std::string input = line("ok") + line("later") + line("lost");
    FakeSink first;
    first.answer = [](std::size_t n, const client::Letter&) {
        client::Outcome o;
        if (n == 1) {
            o.error = Error(errc::reply_transient, "451 later",
                            {.reply = smtp::Reply{451, std::nullopt, {"later"}}});
        } else if (n == 2) {
            o.error = Error(errc::outcome_unknown, "lost");
        }
        return o;
    };
    EXPECT_EQ(r.go(input, first).exit_status, 74);  // unknown is worse than deferred
    FakeSink plain;
    (void)r.go(input, plain);
    EXPECT_TRUE(plain.letters.empty());
    FakeSink retry;
    cli::BatchSettings s;
    s.retry_failed = true;
    EXPECT_EQ(r.go(input, retry, s).exit_status, 0);
    ASSERT_EQ(retry.letters.size(), 1U);
    EXPECT_EQ(*std::get<missive::mime::Message>(retry.letters[0].content).headers.find("Subject"),
              std::string("Order later"));
}

TEST(BatchRun, AnErrorForEveryMessageStopsAndIsNotRecorded) {
    Runner r;
    std::string input;
    for (int i = 0; i < 20; ++i) {
        input += line("m" + std::to_string(i));
    }
    FakeSink sink;
    sink.answer = [](std::size_t n, const client::Letter&) {
        client::Outcome o;
        if (n >= 2) {
            o.error = Error(errc::auth_failed, "AUTH PLAIN refused: 535 5.7.8 bad credentials");
        }
        return o;
    };
    const cli::BatchSummary s = r.go(input, sink);
    EXPECT_EQ(s.exit_status, 77);
    ASSERT_TRUE(s.stopped_by);
    EXPECT_EQ(sink.letters.size(), 3U);
    EXPECT_EQ(r.records().size(), 2U);  // the third was not sent: a resumed run sends it
}

TEST(BatchRun, LettersInFlightAreBounded) {
    Runner r;
    std::string input;
    for (int i = 0; i < 50; ++i) {
        input += line("m" + std::to_string(i));
    }
    FakeSink sink;
    sink.async = true;
    cli::BatchSettings s;
    s.window = 2;
    (void)r.go(input, sink, s);
    EXPECT_EQ(sink.letters.size(), 50U);
    EXPECT_LE(sink.max_pending, 2U);
    EXPECT_EQ(r.records().size(), 50U);
}

TEST(BatchRun, InterruptStopsReading) {
    Runner r;
    std::atomic<bool> stop{false};
    FakeSink sink;
    sink.answer = [&stop](std::size_t n, const client::Letter&) {
        stop = n >= 4;
        return client::Outcome{};
    };
    std::string input;
    for (int i = 0; i < 20; ++i) {
        input += line("m" + std::to_string(i));
    }
    cli::BatchSettings s;
    s.interrupted = &stop;
    const auto summary = r.go(input, sink, s);
    EXPECT_TRUE(summary.interrupted);
    EXPECT_EQ(summary.exit_status, 75);
    EXPECT_EQ(sink.letters.size(), 5U);
}

TEST(BatchProgress, Lines) {
    cli::BatchCounts c;
    c.accepted = 4000;
    c.partial = 100;
    c.refused = 100;
    c.skipped = 800;
    EXPECT_EQ(cli::progress_text(c, 10000, 4.2, false),
              "missive: batch: 5000/10000 done: 4100 sent, 100 failed, 800 skipped; 1000 msg/s, "
              "ETA 5s");
    EXPECT_EQ(cli::progress_text(c, 10000, 4.2, true, 100),
              "[#############.............]  50% 5000/10000  sent 4100  failed 100  skipped 800  "
              "1000 msg/s  ETA 5s");
    EXPECT_EQ(cli::progress_text(c, 10000, 4.2, true, 80),
              " 50% 5000/10000  sent 4100  failed 100  skipped 800  1000 msg/s  ETA 5s");
    EXPECT_EQ(cli::progress_text(c, 0, 4.2, false),
              "missive: batch: 5000 done: 4100 sent, 100 failed, 800 skipped; 1000 msg/s");
    EXPECT_EQ(cli::format_duration(42), "42s");
    EXPECT_EQ(cli::format_duration(187), "3m07s");
    EXPECT_EQ(cli::format_duration(7500), "2h05m");
    EXPECT_EQ(cli::worse_exit(75, 74), 74);
    EXPECT_EQ(cli::worse_exit(69, 65), 69);
    EXPECT_EQ(cli::worse_exit(74, 77), 77);
}
