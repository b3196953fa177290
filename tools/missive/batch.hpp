#pragma once

// `missive send --batch FILE.jsonl`: one message per JSON line, sent through a sink (a
// client::Pool) with a bounded number of letters in flight, a progress display and a results
// file (JSON Lines) that lets an interrupted batch resume without sending anything twice.
//
// Theory of operation. The input is read one line at a time; each line becomes a Letter (or an
// "invalid" result at once) and is submitted to the sink, waiting while `window` letters are
// submitted but unfinished. Each outcome is written to the results file in the sink's callback,
// the moment it is known (one write(2) of one line, O_APPEND), so that after a kill -9 only the
// outcomes in flight are lost. On start the results file is read: every key recorded there (an
// "id", else the line number) is skipped. A message the server accepted whose result line was
// not yet written is sent again by a resumed run: that window is the time between the server's
// reply and one write(2), and is documented in missive(1).

#include <missive/client/letter.hpp>
#include <missive/client/options.hpp>
#include <missive/error.hpp>

#include "compose.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <istream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace missive::cli {

/** Where letters go: a client::Pool, or a fake in tests. */
class LetterSink {
public:
    LetterSink() = default;
    LetterSink(const LetterSink&) = delete;
    LetterSink& operator=(const LetterSink&) = delete;
    LetterSink(LetterSink&&) = delete;
    LetterSink& operator=(LetterSink&&) = delete;
    virtual ~LetterSink() = default;

    /** Queues `letter`; `done` is called exactly once with its outcome, on any thread (maybe
     * before submit returns). */
    virtual void submit(client::Letter letter, std::function<void(client::Outcome)> done) = 0;

    /** Waits until every letter submitted has had its outcome. */
    virtual void drain() = 0;
};

/** How the SMTP sink spreads and paces the letters. */
struct SinkSettings {
    std::size_t connections = 4;              ///< --connections
    std::optional<double> rate_per_second{};  ///< --rate
    std::optional<double> rate_per_minute{};  ///< --rate-per-minute
    std::size_t pipeline_depth = 32;          ///< letters on one connection at once
    unsigned max_attempts = 3;                ///< for a transient failure
};

/**
 * @return a sink that sends through a `client::Pool` to `server` with `options` (the Target of
 * `missive send`): N connections, retries of transient failures, one shared rate
 * @throws Error errc::config when the server and options contradict
 */
std::unique_ptr<LetterSink> make_smtp_sink(const std::string& server,
                                           const client::Options& options,
                                           const SinkSettings& settings);

/** A ready message named by a batch line ("message": path). */
struct ReadyFile {
    std::filesystem::path path{};
    std::string from{};                      ///< envelope sender; "" for the file's own
    std::vector<std::string> to, cc, bcc{};  ///< recipients; none: the file's To, Cc and Bcc
};

/** One line of a batch, parsed. */
struct BatchEntry {
    std::size_t line = 0;           ///< 1-based
    std::optional<std::string> id;  ///< the line's "id" (a number is kept as its digits)
    std::variant<MessageSpec, ReadyFile> content{};
};

/** A batch line that cannot become a message: recorded as "invalid", never sent. */
class BatchLineError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/**
 * Parses one JSON line. Fields: id, from, to, cc, bcc (a string or an array of strings),
 * subject, text, text_file, html, html_file, attach, inline (a path or an array of paths),
 * headers (an object: a string value replaces a field of that name, an array adds each), or
 * message (a ready message file) with from/to/cc/bcc for its envelope. Relative paths are taken
 * from `base` (the batch file's folder).
 * @throws BatchLineError naming what is wrong (bad JSON, an unknown field, a wrong type)
 */
BatchEntry parse_batch_line(std::string_view text, std::size_t line,
                            const std::filesystem::path& base);

/**
 * @return the letter for `entry`, composed by the rules of `missive send` (compose()), or a
 * ready file's letter (envelope as `send --message` makes it; Bcc taken out of its header)
 * @throws UsageError, InputError, Error errc::invalid_input (see compose, read_ready_message)
 */
client::Letter make_letter(const BatchEntry& entry, const std::string& default_from);

/** What became of a message, as the results file names it. */
enum class BatchStatus {
    accepted,  ///< by every recipient
    partial,   ///< by some recipients; refused by, or failed for, the others (see error)
    refused,   ///< permanently (5xx, every recipient refused, too large)
    deferred,  ///< a transient failure through every attempt (4xx, connection): may be retried
    unknown,   ///< the connection failed after the end of the data: may have been delivered
    invalid,   ///< the line could not become a message; nothing was sent
};

std::string_view status_name(BatchStatus s);

/** @return the status of a sink's outcome */
BatchStatus status_of(const client::Outcome& outcome);

/**
 * @return one results line (JSON, no newline): id (null when the line has none), line, status,
 * attempts, queue_id, reply (the final one), recipients (address, accepted, code, enhanced,
 * text), error (null, or kind and message), time (UTC, RFC 3339)
 */
std::string result_record(const std::optional<std::string>& id, std::size_t line,
                          BatchStatus status, const client::Outcome* outcome,
                          const std::string& error_kind, const std::string& error_message,
                          std::chrono::system_clock::time_point when);

/** The key that identifies a message across runs: its id, else its line number. */
std::string batch_key(const std::optional<std::string>& id, std::size_t line);

/** What an earlier run's results file says. */
struct PriorResults {
    std::map<std::string, BatchStatus> latest{};  ///< key → the last status recorded
    std::size_t unreadable_lines = 0;             ///< e.g. a line cut by a crash
};

/** Reads a results file; one that does not exist is empty. @throws InputError */
PriorResults read_results(const std::filesystem::path& path);

/**
 * The results file, opened O_APPEND (created 0644 when missing): each record is one write(2)
 * of one line, so records of concurrent callbacks never mix and a crash cuts at most one line.
 * fsync every `sync_every` and at the end.
 */
class ResultsFile {
public:
    /** @throws InputError when it cannot be opened */
    explicit ResultsFile(const std::filesystem::path& path,
                         std::chrono::milliseconds sync_every = std::chrono::seconds(1));
    ResultsFile(const ResultsFile&) = delete;
    ResultsFile& operator=(const ResultsFile&) = delete;
    ResultsFile(ResultsFile&&) = delete;
    ResultsFile& operator=(ResultsFile&&) = delete;
    ~ResultsFile();

    /** Appends `record` and a newline. Thread-safe. @throws InputError on a write error */
    void append(const std::string& record);

    /** fsync(2). */
    void sync();

private:
    int fd_ = -1;
    std::string name_;
    std::mutex mutex_;
    std::chrono::milliseconds sync_every_;
    std::chrono::steady_clock::time_point last_sync_;
};

/** Counters of a batch run; read by the progress display while the run goes on. */
struct BatchCounts {
    std::atomic<std::uint64_t> accepted{0};
    std::atomic<std::uint64_t> partial{0};
    std::atomic<std::uint64_t> refused{0};
    std::atomic<std::uint64_t> deferred{0};
    std::atomic<std::uint64_t> unknown{0};
    std::atomic<std::uint64_t> invalid{0};
    std::atomic<std::uint64_t> skipped{0};   ///< already in the results file
    std::atomic<std::uint64_t> not_sent{0};  ///< stopped before they could be sent

    [[nodiscard]] std::uint64_t sent() const { return accepted + partial; }

    [[nodiscard]] std::uint64_t failed() const { return refused + deferred + unknown + invalid; }
};

/** How a batch runs. */
struct BatchSettings {
    std::filesystem::path base{};  ///< relative paths of the lines start here
    std::string default_from{};    ///< sender of lines without "from" (--from, the account's)
    std::size_t window = 512;      ///< letters submitted but unfinished, at most
    bool retry_failed = false;     ///< send again what the results file says was deferred
    std::uint64_t total = 0;       ///< messages in the input, when known (progress); 0: unknown
    std::function<void(const std::string&)> warn{};  ///< a bad line, named with its number
    const std::atomic<bool>* interrupted = nullptr;  ///< set (by a signal): stop submitting
};

/** How a batch ended. */
struct BatchSummary {
    bool interrupted = false;
    std::optional<Error> stopped_by{};  ///< an error that stopped the batch (login refused …)
    int exit_status = 0;                ///< sysexits.h: 0, or the code of the worst outcome
};

/**
 * Runs the batch read from `input` through `sink`, recording every outcome in `results`
 * (which `prior` already holds; its keys are skipped). An outcome with an error that would hit
 * every message alike (configuration, TLS, certificate, login, the server unreachable) is not
 * recorded (nothing was sent), and the batch stops: what was not sent is left for a resumed run.
 */
BatchSummary run_batch(std::istream& input, const BatchSettings& settings,
                       const PriorResults& prior, LetterSink& sink, ResultsFile& results,
                       BatchCounts& counts);

/** @return the worse of two exit statuses (sysexits.h): a stop for every message (78, 77, 68,
 * 76, 70) before an unknown outcome (74), before a transient failure (75), before a permanent
 * one (69), before bad input (65, 66), before success (0) */
int worse_exit(int a, int b);

/**
 * Prints the progress of a batch on `out` from a thread of its own: every `interval`, one line
 * redrawn in place (`tty`) or one plain line; a last one when stopped.
 */
class ProgressDisplay {
public:
    ProgressDisplay(const BatchCounts& counts, std::uint64_t total, bool tty,
                    std::chrono::milliseconds interval, std::ostream& out);
    ProgressDisplay(const ProgressDisplay&) = delete;
    ProgressDisplay& operator=(const ProgressDisplay&) = delete;
    ProgressDisplay(ProgressDisplay&&) = delete;
    ProgressDisplay& operator=(ProgressDisplay&&) = delete;
    /** As stop(). */
    ~ProgressDisplay();

    /** Stops the thread; on a terminal, clears the line. */
    void stop();

private:
    struct State;
    std::unique_ptr<State> state_;
};

/** @return "2h05m", "3m07s" or "42s" */
std::string format_duration(double seconds);

/**
 * @return the progress line: on a terminal (`bar`) "[####......]  42%  4200/10000 sent 4100
 * failed 100 … 850 msg/s ETA 6s", else "missive: batch: 4200/10000 done (4100 sent, 100
 * failed, 0 skipped), 850 msg/s, ETA 6s"
 * @param elapsed seconds since the start
 * @param total the messages of the batch, 0 when unknown (no percentage, bar or ETA)
 */
std::string progress_text(const BatchCounts& counts, std::uint64_t total, double elapsed, bool bar,
                          std::size_t width = 80);

}  // namespace missive::cli
