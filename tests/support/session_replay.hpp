#pragma once

// Replays a scripted Session dialogue in every way the network could deliver it (Beast's
// parsegrind and failMatrix, MailKit's byte-at-a-time replay):
//
//  - check_splits: the server's bytes of each step split at every position, then everything
//    byte by byte (the client's output consumed byte by byte too); the session must record the
//    same thing after every step as in the unsplit run: what it wrote, want, phase, stage, the
//    error taken, the last reply, the transaction's result, the trace of each direction.
//  - check_drops: receive_eof() before every step, inside every server step after each byte,
//    and inside every write after each byte. The session must not throw, must want `closed`
//    at once, and must end as the script says: failed with errc::outcome_unknown between the
//    end of the message data being written and its final reply, with errc::connection_lost
//    while any other operation is outstanding, and without an error when it was idle or had
//    sent QUIT.
//  - check_aborts: abort(errc::timeout) at the same points (a deadline passing): errc::timeout,
//    or errc::outcome_unknown between the end of the data and its final reply.

#include <missive/error.hpp>
#include <missive/smtp/session.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace missive::test {

/** One step of a dialogue: a local call on the session, or bytes from the server. */
struct ReplayStep {
    std::string name;                          ///< shown when a check fails
    std::function<void(smtp::Session&)> call;  ///< empty for a server step
    std::string server;                        ///< what the server sends (server step)
    std::optional<std::string> wire;           ///< exactly what the step makes the client write
    bool check_error = false;                  ///< `error` is what take_error() says afterwards
    std::optional<errc> error;
    bool ends_data = false;    ///< call: writes the end of the message data
    bool final_reply = false;  ///< server: completes the replies to the end of the data
    bool quits = false;        ///< call: QUIT; a close after it is no failure
};

/** A scripted dialogue with the session's options, built step by step. */
class Dialogue {
public:
    explicit Dialogue(std::string name, smtp::SessionOptions options = {})
        : name_(std::move(name))
        , options_(std::move(options)) {}

    /** The greeting and EHLO (LHLO); `extensions` are the EHLO lines after the first. */
    Dialogue& greet(std::string_view extensions = "") {
        const bool lmtp = options_.protocol == smtp::Protocol::lmtp;
        call(
            "expect_greeting", [](smtp::Session& s) { s.expect_greeting(); }, "");
        server("220-mx.example.org ESMTP\r\n220 ready\r\n");
        expect_ok();
        call(
            "hello", [](smtp::Session& s) { s.hello("client.example.org"); },
            lmtp ? "LHLO client.example.org\r\n" : "EHLO client.example.org\r\n");
        std::string reply = "250";
        reply += extensions.empty() ? " " : "-";
        reply += "mx.example.org\r\n";
        std::string_view rest = extensions;
        while (!rest.empty()) {
            const std::size_t nl = rest.find('\n');
            const std::string_view line = rest.substr(0, nl);
            rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
            reply += rest.empty() ? "250 " : "250-";
            reply += line;
            reply += "\r\n";
        }
        server(reply);
        return expect_ok();
    }

    /** A local call that makes the client write exactly `wire`. */
    Dialogue& call(std::string name, std::function<void(smtp::Session&)> f, std::string wire) {
        ReplayStep step;
        step.name = std::move(name);
        step.call = std::move(f);
        step.wire = std::move(wire);
        steps_.push_back(std::move(step));
        return *this;
    }

    /** A call that ends the message data (end_body), writing exactly `wire`. */
    Dialogue& end_data(std::string name, std::function<void(smtp::Session&)> f, std::string wire) {
        call(std::move(name), std::move(f), std::move(wire));
        steps_.back().ends_data = true;
        return *this;
    }

    /** QUIT and the server's answer ("": the server just closes). */
    Dialogue& quit(std::string reply = "221 2.0.0 Bye\r\n") {
        call(
            "quit", [](smtp::Session& s) { s.quit(); }, "QUIT\r\n");
        steps_.back().quits = true;
        return reply.empty() ? *this : server(std::move(reply));
    }

    /** Bytes from the server; `wire` is what the client writes in answer (often nothing). */
    Dialogue& server(std::string bytes, std::string wire = "") {
        ReplayStep step;
        step.name = "server";
        step.server = std::move(bytes);
        step.wire = std::move(wire);
        steps_.push_back(std::move(step));
        return *this;
    }

    /** The server's reply (the last of the replies) to the end of the message data. */
    Dialogue& final_reply(std::string bytes, std::string wire = "") {
        server(std::move(bytes), std::move(wire));
        steps_.back().final_reply = true;
        return *this;
    }

    /** The last step leaves no error to take. */
    Dialogue& expect_ok() {
        steps_.back().check_error = true;
        steps_.back().error.reset();
        return *this;
    }

    /** The last step leaves an error of this kind to take. */
    Dialogue& expect_error(errc kind) {
        steps_.back().check_error = true;
        steps_.back().error = kind;
        return *this;
    }

    [[nodiscard]] const std::string& name() const { return name_; }

    [[nodiscard]] const smtp::SessionOptions& options() const { return options_; }

    [[nodiscard]] const std::vector<ReplayStep>& steps() const { return steps_; }

private:
    std::string name_;
    smtp::SessionOptions options_;
    std::vector<ReplayStep> steps_;
};

namespace detail {

inline std::string escaped(std::string_view bytes) {
    std::string out;
    for (const char c : bytes) {
        if (c == '\r') {
            out += "\\r";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

// How one run delivers the dialogue.
struct Feed {
    static constexpr std::size_t none = static_cast<std::size_t>(-1);
    std::size_t split_step = none;  // this server step arrives in two reads, cut at split_at
    std::size_t split_at = 0;
    bool bytewise = false;         // every read and every write is one byte
    std::size_t drop_step = none;  // receive_eof() in this step (steps().size(): at the end)
    std::size_t drop_at = 0;       // after this many of its bytes were read or written
};

// What the owner knew when the connection dropped.
struct Drop {
    smtp::Want want;    // want() just before
    bool after_end;     // the end of the data was written and its final reply is not all in
    bool quitting;      // QUIT was sent
    std::string where;  // for messages
};

inline std::string describe(const std::optional<Error>& e) {
    if (!e) {
        return "ok";
    }
    std::ostringstream o;
    o << "error(" << static_cast<int>(e->kind()) << ", \"" << e->what()
      << "\", usable=" << e->connection_usable() << ", command=\"" << e->command() << "\"";
    if (e->reply()) {
        o << ", reply=" << e->reply()->code;
    }
    if (e->report()) {
        o << ", report=" << e->report()->recipients.size()
          << " recipients, sent=" << e->report()->message_sent;
    }
    o << ")";
    return o.str();
}

inline std::string snapshot(smtp::Session& s, std::optional<Error> taken) {
    std::ostringstream o;
    o << "want=" << static_cast<int>(s.want()) << " phase=" << static_cast<int>(s.phase())
      << " stage=" << static_cast<int>(s.stage()) << " failed=" << s.failed()
      << " secure=" << s.secure() << " authenticated=" << s.authenticated()
      << " extended=" << s.extended() << " capabilities=" << s.capabilities().all().size() << " "
      << describe(taken) << " reply=\"" << detail::escaped(s.reply().to_string()) << "\"";
    const smtp::SendResult& r = s.result();
    o << " result(mail=" << (r.mail_reply ? r.mail_reply->code : 0);
    for (const auto& rr : r.recipients) {
        o << " <" << rr.address << ">" << (rr.accepted ? "+" : "-") << rr.reply.code;
    }
    o << " data=" << (r.data_reply ? r.data_reply->code : 0) << " id=" << r.queue_id
      << " sent=" << r.message_sent << ")";
    return o.str();
}

// Writes the session's output as a driver would, all of it or one byte at a time.
inline std::string write_all(smtp::Session& s, bool bytewise) {
    std::string wrote;
    while (!s.output().empty()) {
        const std::string_view out = s.output();
        const std::size_t n = bytewise ? 1 : out.size();
        wrote.append(out.substr(0, n));
        s.consume_output(n);
    }
    return wrote;
}

// Runs `d` as `feed` says. Returns one line per step (and the traces); when the feed drops the
// connection, calls `on_drop` at that point instead of going on.
inline std::vector<std::string> run(
    const Dialogue& d, const Feed& feed,
    const std::function<void(smtp::Session&, const Drop&)>& on_drop = {}) {
    std::vector<std::string> log;
    std::vector<std::string> server_trace;
    std::vector<std::string> client_trace;
    std::vector<int> replies;
    smtp::SessionOptions opts = d.options();
    opts.trace = [&](smtp::Direction dir, std::string_view line) {
        (dir == smtp::Direction::client ? client_trace : server_trace).emplace_back(line);
    };
    opts.on_reply = [&](const smtp::Reply& r) { replies.push_back(r.code); };
    smtp::Session s(opts);
    bool after_end = false;
    bool quitting = false;
    const auto& steps = d.steps();
    const auto drop = [&](std::size_t k, std::string where) {
        on_drop(s, Drop{s.want(), after_end, quitting,
                        d.name() + ": step " + std::to_string(k) + " " + std::move(where)});
    };
    for (std::size_t k = 0; k <= steps.size(); ++k) {
        if (feed.drop_step == k && feed.drop_at == 0) {
            drop(k, "before");
            return log;
        }
        if (k == steps.size()) {
            break;
        }
        const ReplayStep& step = steps[k];
        const std::string what = d.name() + ": step " + std::to_string(k) + " " + step.name;
        std::string wrote;
        if (step.call) {
            try {
                step.call(s);
            } catch (const Error& e) {
                ADD_FAILURE() << what << " threw " << e.what();
                return log;
            }
            quitting = quitting || step.quits;
            if (feed.drop_step == k) {
                if (feed.drop_at >= s.output().size()) {
                    return log;  // no such point: the run is not made
                }
                s.consume_output(feed.drop_at);
                drop(k, "after writing " + std::to_string(feed.drop_at) + " bytes");
                return log;
            }
            wrote = write_all(s, feed.bytewise);
            after_end = after_end || step.ends_data;
        } else {
            const std::string_view bytes = step.server;
            std::vector<std::string_view> reads;
            if (feed.drop_step == k) {
                if (feed.drop_at >= bytes.size()) {
                    return log;
                }
                reads.push_back(bytes.substr(0, feed.drop_at));
            } else if (feed.split_step == k) {
                reads.push_back(bytes.substr(0, feed.split_at));
                reads.push_back(bytes.substr(feed.split_at));
            } else {
                reads.push_back(bytes);
            }
            for (const std::string_view read : reads) {
                for (std::size_t i = 0; i < read.size();) {
                    const std::size_t n = feed.bytewise ? 1 : read.size();
                    s.receive(read.substr(i, n));
                    i += n;
                    wrote += write_all(s, feed.bytewise);
                }
            }
            if (feed.drop_step == k) {
                drop(k, "after reading " + std::to_string(feed.drop_at) + " bytes");
                return log;
            }
            after_end = after_end && !step.final_reply;
        }
        if (step.wire && wrote != *step.wire) {
            ADD_FAILURE() << what << ": wrote \"" << detail::escaped(wrote) << "\", not \""
                          << detail::escaped(*step.wire) << "\"";
        }
        std::optional<Error> taken = s.take_error();
        if (step.check_error) {
            EXPECT_EQ(taken.has_value(), step.error.has_value()) << what << ": " << describe(taken);
            if (step.error && taken) {
                EXPECT_EQ(taken->kind(), *step.error) << what << ": " << taken->what();
            }
        }
        if (!on_drop) {  // a drop run compares nothing: spare it the snapshots
            log.push_back(std::to_string(k) + " " + step.name + " wrote=\"" +
                          detail::escaped(wrote) + "\" " + snapshot(s, std::move(taken)));
        }
    }
    for (const auto& line : client_trace) {
        log.push_back("C: " + line);
    }
    for (const auto& line : server_trace) {
        log.push_back("S: " + line);
    }
    std::string codes = "replies:";
    for (const int c : replies) {
        codes += " " + std::to_string(c);
    }
    log.push_back(codes);
    return log;
}

inline void expect_same(const std::vector<std::string>& expected,
                        const std::vector<std::string>& got, const std::string& what) {
    if (expected == got) {
        return;
    }
    std::size_t i = 0;
    while (i < expected.size() && i < got.size() && expected[i] == got[i]) {
        ++i;
    }
    ADD_FAILURE() << what << ": differs from the unsplit run at line " << i
                  << "\n  unsplit: " << (i < expected.size() ? expected[i] : "(end)")
                  << "\n  this run: " << (i < got.size() ? got[i] : "(end)");
}

}  // namespace detail

/**
 * Replays `d` whole, then with each server step split at every position, then byte by byte
 * (reads and writes); every run must record what the whole run did.
 * @return the number of runs
 */
inline std::size_t check_splits(const Dialogue& d) {
    using detail::Feed;
    const std::vector<std::string> whole = detail::run(d, Feed{});
    std::size_t runs = 1;
    const auto& steps = d.steps();
    for (std::size_t k = 0; k < steps.size(); ++k) {
        for (std::size_t i = 1; i < steps[k].server.size(); ++i) {
            Feed f;
            f.split_step = k;
            f.split_at = i;
            detail::expect_same(
                whole, detail::run(d, f),
                d.name() + ": step " + std::to_string(k) + " split at " + std::to_string(i));
            ++runs;
        }
    }
    Feed bytewise;
    bytewise.bytewise = true;
    detail::expect_same(whole, detail::run(d, bytewise), d.name() + ": byte by byte");
    return runs + 1;
}

namespace detail {

// Runs `d` once for every point at which the connection can fail: before every step, after
// every byte of every server step, after every byte of every write. @return the number of runs
inline std::size_t for_each_drop_point(
    const Dialogue& d, const std::function<void(smtp::Session&, const Drop&)>& check) {
    std::size_t runs = 0;
    const auto counted = [&](smtp::Session& s, const Drop& drop) {
        ++runs;
        check(s, drop);
    };
    const auto& steps = d.steps();
    for (std::size_t k = 0; k <= steps.size(); ++k) {
        Feed f;
        f.drop_step = k;
        (void)run(d, f, counted);
        if (k == steps.size()) {
            break;
        }
        // Inside the step (calls stop the run themselves once the offset passes their output).
        const std::size_t limit = steps[k].call ? std::size_t{1} << 20 : steps[k].server.size();
        for (std::size_t i = 1; i < limit; ++i) {
            const std::size_t before = runs;
            f.drop_at = i;
            (void)run(d, f, counted);
            if (runs == before) {
                break;
            }
        }
    }
    return runs;
}

// Whatever came before, a session that wants `closed` stays so: late bytes are ignored, a
// second close changes nothing and no operation starts.
inline void expect_stays_closed(smtp::Session& s, const std::string& where) {
    s.receive("250 2.0.0 late\r\n");
    s.receive_eof();
    EXPECT_EQ(s.want(), smtp::Want::closed) << where;
    EXPECT_FALSE(s.take_error()) << where;
    EXPECT_THROW(s.noop(), Error) << where;
}

}  // namespace detail

/**
 * Replays `d` with the connection closed by the server (receive_eof) before every step, after
 * every byte of every server step and after every byte of every write.
 * @return the number of runs
 */
inline std::size_t check_drops(const Dialogue& d) {
    return detail::for_each_drop_point(d, [](smtp::Session& s, const detail::Drop& drop) {
        try {
            s.receive_eof();
        } catch (const std::exception& e) {
            ADD_FAILURE() << drop.where << ": receive_eof threw " << e.what();
            return;
        }
        EXPECT_EQ(s.want(), smtp::Want::closed) << drop.where;
        std::optional<Error> e = s.take_error();
        const bool outstanding = drop.want != smtp::Want::idle && drop.want != smtp::Want::closed;
        if (!outstanding || drop.quitting) {
            EXPECT_FALSE(e) << drop.where << ": " << e->what();
            if (drop.want != smtp::Want::closed) {
                EXPECT_EQ(s.stage(), smtp::Stage::closed) << drop.where;
            }
        } else if (!e) {
            ADD_FAILURE() << drop.where << ": no error";
        } else {
            const errc expected = drop.after_end ? errc::outcome_unknown : errc::connection_lost;
            EXPECT_EQ(e->kind(), expected) << drop.where << ": " << e->what();
            EXPECT_FALSE(e->connection_usable()) << drop.where;
            EXPECT_TRUE(s.failed()) << drop.where;
            EXPECT_EQ(s.stage(), smtp::Stage::failed) << drop.where;
            if (drop.after_end) {
                EXPECT_TRUE(s.result().message_sent) << drop.where;
            }
        }
        detail::expect_stays_closed(s, drop.where);
    });
}

/**
 * Replays `d` with the owner giving up (abort(errc::timeout), as a deadline does) at every
 * point check_drops closes the connection, except once the session wants `closed`. The session
 * must fail at once with errc::timeout, or errc::outcome_unknown between the end of the data
 * and its final reply.
 * @return the number of runs
 */
inline std::size_t check_aborts(const Dialogue& d) {
    return detail::for_each_drop_point(d, [](smtp::Session& s, const detail::Drop& drop) {
        if (drop.want == smtp::Want::closed) {
            return;
        }
        try {
            s.abort(errc::timeout, "timed out");
        } catch (const std::exception& e) {
            ADD_FAILURE() << drop.where << ": abort threw " << e.what();
            return;
        }
        EXPECT_EQ(s.want(), smtp::Want::closed) << drop.where;
        EXPECT_EQ(s.stage(), smtp::Stage::failed) << drop.where;
        std::optional<Error> e = s.take_error();
        if (!e) {
            ADD_FAILURE() << drop.where << ": no error";
        } else {
            const errc expected = drop.after_end ? errc::outcome_unknown : errc::timeout;
            EXPECT_EQ(e->kind(), expected) << drop.where << ": " << e->what();
            EXPECT_EQ(std::string(e->what()).rfind("timed out", 0), 0U) << drop.where;
            EXPECT_FALSE(e->connection_usable()) << drop.where;
        }
        detail::expect_stays_closed(s, drop.where);
    });
}

}  // namespace missive::test
