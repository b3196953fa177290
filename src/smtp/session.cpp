// smtp::Session: theory of operation (the public contract is in session.hpp).
//
// Four things say where a session is, each changed in few places:
//  - `stage` (Stage, public): the connection. connected -> greeted on 220 -> ready on a hello
//    accepted; tls_handshake from STARTTLS's 220 to tls_established(), then greeted again;
//    closed after QUIT or a close between operations; failed, for good, through fail() alone.
//  - `op`: the operation the owner started, from begin() to complete() (or fail()).
//  - `pending`: the commands written or queued whose replies are due, in order; each reply is
//    matched to the front (on_reply), which is all PIPELINING needs.
//  - `txn`: the current or last transaction (MAIL to the final reply), replaced whole by
//    begin_transaction(); `txn.body` is engaged while the owner writes message data.
// want() and phase() are computed from these and the unwritten output, never stored.

#include <missive/sasl/mechanisms.hpp>
#include <missive/smtp/session.hpp>
#include <missive/util/base64.hpp>

#include "smtp/command.hpp"
#include "smtp/data_encoder.hpp"
#include "util/text.hpp"

#include <utility>

namespace missive::smtp {

namespace {

// What an outstanding command is, so that its reply can be judged and routed.
enum class Cmd {
    greeting,
    ehlo,
    helo,
    starttls,
    mail,
    rcpt,
    data,
    data_end,  // the end of DATA content, or BDAT … LAST
    bdat,      // a BDAT chunk that is not the last
    rset,
    simple,  // NOOP, VRFY, EXPN, HELP: 2xx succeeds
    raw,     // command(): 2xx or 3xx succeeds
    auth,    // AUTH and each answer to a 334 challenge
    quit,
};

struct Pending {
    Cmd cmd;
    std::string text;       // the command as errors and traces show it
    std::size_t index = 0;  // recipient index (rcpt; LMTP data_end)
    std::uint64_t txn = 0;  // the transaction it belongs to (Transaction::seq); 0: none
};

// What the current operation is; a send is the only one spanning several commands.
enum class Op { none, greeting, hello, starttls, single, data, send, auth, quit };

}  // namespace

// One message's transaction, from MAIL (send() or mail()) to its final reply: everything that
// lives and dies with it, so that starting the next message is one assignment
// (State::begin_transaction) and a message stream on one connection adds nothing here.
struct Transaction {
    // The message data being written: engaged from the 354 (or, for BDAT, the last RCPT reply)
    // to end_body(), or until a BDAT chunk is refused.
    struct Body {
        detail::DataEncoder encoder;
        std::string chunk;  // BDAT data not yet framed
        std::uint64_t octets = 0;
    };

    std::uint64_t seq = 0;  // which transaction of the session; Pending::txn names it
    SendResult result;
    std::vector<Recipient> rcpts;
    std::size_t next_rcpt = 0;  // the next RCPT to queue when not pipelined
    std::size_t accepted = 0;
    bool pipelined = false;
    bool chunked = false;
    bool binary_body = false;  // BODY=BINARYMIME: data goes unaltered
    // BDAT with PIPELINING (SMTP only): the data goes with MAIL and RCPT, before their replies
    // (RFC 3030 4.2), so that a message is one round trip. Until its first chunk is framed the
    // body is taken before anything is written, so that all of it leaves in one write.
    bool early_body = false;
    bool flushed = false;  // a BDAT chunk of this message was framed
    std::optional<Body> body;
    std::uint64_t terminator_end = 0;  // `queued` after the end of the data; 0 when none
    std::optional<Error> error;        // reported once RSET has cleaned up
};

struct Session::State {
    SessionOptions opts;
    ReplyParser parser;

    std::string out;
    std::size_t out_pos = 0;
    std::uint64_t queued = 0;   // octets ever put in `out`
    std::uint64_t written = 0;  // octets ever consumed

    std::deque<Pending> pending;
    std::string trace_partial;  // incoming bytes not yet traced as a whole line

    // The connection: its stage, and facts learnt on the way (they change no transition).
    Stage stage = Stage::connected;
    Capabilities caps;
    bool extended = false;                    // the last hello was EHLO/LHLO, not HELO
    bool secure = false;                      // TLS established
    bool authenticated = false;               // AUTH succeeded
    sasl::Mechanism* auth_mech = nullptr;     // during authenticate(); owned by the caller
    std::optional<std::string> auth_initial;  // initial response that did not fit the line
    std::optional<std::string> auth_cancel;   // why we answered "*"
    std::string local_name;

    Op op = Op::none;
    Reply last;
    std::optional<Error> op_error;
    std::optional<Error> fatal;  // set exactly when `stage` is failed

    Transaction txn;  // the current or last transaction
    // The transaction before `txn`, when `txn` was started (send() after end_body(), RFC 2920
    // 3.1) before its verdict arrived; its replies are at the front of `pending`.
    std::optional<Transaction> prior;
    std::deque<Settled> settled;  // verdicts on earlier transactions, for take_settled()
    std::uint64_t next_seq = 1;

    explicit State(SessionOptions o)
        : opts(std::move(o))
        , parser(opts.limits) {}

    // ---- output ----

    void trace(Direction d, std::string_view line) const {
        if (opts.trace) {
            opts.trace(d, line);
        }
    }

    void queue_bytes(std::string_view bytes) {
        out.append(bytes);
        queued += bytes.size();
    }

    void queue(Cmd cmd, std::string line, std::size_t index = 0, std::string_view shown = {}) {
        trace(Direction::client, shown.empty() ? std::string_view(line) : shown);
        queue_bytes(line);
        queue_bytes("\r\n");
        pending.push_back(
            {cmd, shown.empty() ? std::move(line) : std::string(shown), index, txn_of(cmd)});
    }

    // The transaction a command queued now belongs to.
    [[nodiscard]] std::uint64_t txn_of(Cmd cmd) const {
        switch (cmd) {
            case Cmd::mail:
            case Cmd::rcpt:
            case Cmd::data:
            case Cmd::data_end:
            case Cmd::bdat:
            case Cmd::rset:
                return txn.seq;
            default:
                return 0;
        }
    }

    // The transaction a reply belongs to: the prior one while its replies are due.
    Transaction& owner(const Pending& p) { return prior && p.txn == prior->seq ? *prior : txn; }

    [[nodiscard]] bool is_prior(const Transaction& t) const { return prior && &t == &*prior; }

    // The transaction is part of a whole send (not mail()/rcpt() step by step).
    [[nodiscard]] bool sending(const Transaction& t) const { return is_prior(t) || op == Op::send; }

    [[nodiscard]] bool outstanding(const Transaction& t) const {
        for (const Pending& p : pending) {
            if (p.txn == t.seq) {
                return true;
            }
        }
        return false;
    }

    // Still waiting for the verdict on the message data of `t`.
    [[nodiscard]] bool awaiting_verdict(const Transaction& t) const {
        for (const Pending& p : pending) {
            if (p.txn == t.seq && p.cmd == Cmd::data_end) {
                return true;
            }
        }
        return false;
    }

    // ---- errors ----

    Error make_error(errc code, std::string message, const Reply* reply, std::string command,
                     bool usable, std::error_code cause = {}) const {
        Error::Details d;
        if (reply != nullptr) {
            d.reply = *reply;
        }
        d.command = std::move(command);
        d.cause = cause;
        d.connection_usable = usable;
        if (op == Op::send || op == Op::data) {
            d.report = txn.result;
        }
        return {code, std::move(message), std::move(d)};
    }

    [[nodiscard]] Error refused(const Pending& p, const Reply& r) const {
        return make_error(r.transient() ? errc::reply_transient : errc::reply_permanent,
                          p.text + " refused: " + r.to_string(), &r, p.text, true);
    }

    void fail(Error e) {
        if (stage == Stage::failed) {
            return;
        }
        if (prior) {
            settle_prior_on_failure(e);
        }
        stage = Stage::failed;
        fatal = e;
        op_error = std::move(e);
        pending.clear();
        txn.body.reset();
        out.clear();
        out_pos = 0;
        op = Op::none;
    }

    void protocol_error(const std::string& what, std::string command = {}) {
        if (command.empty() && !pending.empty()) {
            command = pending.front().text;
        }
        fail(make_error(errc::protocol, "protocol error: " + what, nullptr, command, false));
    }

    static Error with_report(const Error& e, const SendResult& result) {
        ErrorDetails d;
        d.reply = e.reply();
        d.command = e.command();
        d.cause = e.cause();
        d.connection_usable = e.connection_usable();
        d.report = result;
        return {e.kind(), e.what(), std::move(d)};
    }

    void complete(std::optional<Error> e = std::nullopt) {
        if (e && e->report()) {
            // Replies that arrived after the error (a drained pipeline) belong in its report.
            e = with_report(*e, txn.result);
        }
        op_error = std::move(e);
        op = Op::none;
    }

    // The verdict on transaction `t` is in: the operation completes, or, for the prior
    // transaction, the verdict waits in `settled` for take_settled().
    void settle(Transaction& t, std::optional<Error> e) {
        if (!is_prior(t)) {
            complete(std::move(e));
            return;
        }
        if (e) {
            e = with_report(*e, t.result);
        }
        settled.push_back({std::move(t.result), std::move(e)});
        prior.reset();
    }

    // The session fails (`e`) while the prior transaction awaits its verdict. A reply that
    // fails the session (421) answers the prior's command: it is the verdict. Else, when the end
    // of its data went out, nobody knows whether the server took the message.
    void settle_prior_on_failure(const Error& e) {
        Transaction& t = *prior;
        if (t.error) {
            settle(t, t.error);
        } else if (e.reply() || t.terminator_end == 0 || written < t.terminator_end) {
            settle(t, e);
        } else {
            settle(t, make_error(errc::outcome_unknown,
                                 std::string(e.what()) +
                                     " after the message data was sent, before the server's "
                                     "reply: the message may or may not have been accepted",
                                 nullptr, e.command(), false, e.cause()));
        }
    }

    // ---- transaction ----

    // The one place a transaction starts afresh (send(), mail()).
    void begin_transaction() {
        txn = Transaction{};
        txn.seq = next_seq++;
    }

    void queue_next_rcpt() {
        const Recipient& r = txn.rcpts[txn.next_rcpt];
        queue(Cmd::rcpt, detail::rcpt_command(r.address, r.params, caps), txn.next_rcpt);
        ++txn.next_rcpt;
    }

    void start_body() {
        using Mode = detail::DataEncoder::Mode;
        txn.body.emplace(Transaction::Body{detail::DataEncoder(!txn.chunked      ? Mode::dot_stuffed
                                                               : txn.binary_body ? Mode::binary
                                                                                 : Mode::chunked),
                                           {},
                                           0});
    }

    // The transaction failed: keep the error, and reset the server's state once every
    // outstanding reply is in, so that the connection can carry the next message.
    static void txn_fail(Transaction& t, Error e) {
        if (!t.error) {
            t.error = std::move(e);
        }
    }

    void finish_txn_if_settled(Transaction& t) {
        if (outstanding(t) || !t.error || !sending(t)) {
            return;
        }
        const SendResult& result = t.result;
        // A prior transaction always ended its data (send() chains only then), so the server
        // has closed it: no RSET, which would land in the next one.
        if (!is_prior(t) && result.mail_reply && result.mail_reply->positive() &&
            !result.data_reply) {
            queue(Cmd::rset, "RSET");
            return;
        }
        settle(t, std::exchange(t.error, std::nullopt));
    }

    [[nodiscard]] Error all_refused(const Transaction& t) const {
        const SendResult& result = t.result;
        std::string message = "all " + std::to_string(result.recipients.size()) +
                              (result.recipients.size() == 1 ? " recipient" : " recipients") +
                              " refused";
        // The first few refusals say enough; report() holds every one.
        constexpr std::size_t shown = 5;
        const Reply* last_reply = nullptr;
        for (std::size_t i = 0; i < result.recipients.size() && i < shown; ++i) {
            const auto& r = result.recipients[i];
            message +=
                (last_reply == nullptr ? ": <" : "; <") + r.address + ">: " + r.reply.to_string();
            last_reply = &r.reply;
        }
        if (result.recipients.size() > shown) {
            message += "; and " + std::to_string(result.recipients.size() - shown) + " more";
        }
        return make_error(errc::all_recipients_refused, message, last_reply, {}, true);
    }

    // ---- replies ----

    void on_reply(const Reply& r) {
        if (pending.empty()) {
            protocol_error("unexpected reply when no command was outstanding: " + r.to_string());
            return;
        }
        Pending p = std::move(pending.front());
        pending.pop_front();
        last = r;
        if (opts.on_reply) {
            opts.on_reply(r);
        }
        // 421: the server is closing the connection (RFC 5321 3.8), whatever was asked.
        if (r.code == 421 && p.cmd != Cmd::quit && p.cmd != Cmd::greeting) {
            Error e = make_error(errc::reply_transient,
                                 p.text + " refused: " + r.to_string() + " (server closing)", &r,
                                 p.text, false);
            fail(std::move(e));
            return;
        }
        const bool three = r.intermediate();
        if (three && p.cmd != Cmd::data && p.cmd != Cmd::raw && p.cmd != Cmd::auth) {
            protocol_error("unexpected reply " + r.to_string() + " to " + p.text, p.text);
            return;
        }
        switch (p.cmd) {
            case Cmd::greeting:
                if (r.code == 220) {
                    stage = Stage::greeted;
                    complete();
                } else if (r.positive()) {
                    protocol_error("greeting with code " + std::to_string(r.code) +
                                   " instead of 220");
                } else {
                    fail(make_error(r.transient() ? errc::reply_transient : errc::reply_permanent,
                                    "server refused the connection: " + r.to_string(), &r, {},
                                    false));
                }
                return;
            case Cmd::ehlo:
                if (r.positive()) {
                    caps = Capabilities::parse(r);
                    stage = Stage::ready;
                    extended = true;
                    parser.set_enhanced_codes(caps.enhanced_status_codes());
                    complete();
                } else if ((r.code == 500 || r.code == 502) && opts.protocol == Protocol::smtp) {
                    queue(Cmd::helo, "HELO " + local_name);  // RFC 5321 4.1.4
                } else {
                    complete(refused(p, r));
                }
                return;
            case Cmd::helo:
                if (r.positive()) {
                    caps = Capabilities();
                    stage = Stage::ready;
                    extended = false;
                    complete();
                } else {
                    complete(refused(p, r));
                }
                return;
            case Cmd::starttls:
                if (r.code == 220) {
                    stage = Stage::tls_handshake;
                    parser.discard();  // nothing sent before the handshake may be acted on
                } else if (r.positive()) {
                    protocol_error("unexpected reply " + r.to_string() + " to STARTTLS", p.text);
                } else {
                    complete(refused(p, r));
                }
                return;
            case Cmd::mail:
                on_mail(owner(p), p, r);
                return;
            case Cmd::rcpt:
                on_rcpt(owner(p), p, r);
                return;
            case Cmd::data:
                on_data(owner(p), p, r);
                return;
            case Cmd::bdat: {
                if (r.positive()) {
                    return;  // carry on with the next chunk
                }
                Transaction& t = owner(p);
                t.body.reset();
                txn_fail(t, refused(p, r));
                finish_txn_if_settled(t);
                return;
            }
            case Cmd::data_end:
                on_data_end(owner(p), p, r);
                return;
            case Cmd::rset:
                if (op == Op::send && txn.error) {
                    complete(std::exchange(txn.error, std::nullopt));
                } else {
                    complete(r.positive() ? std::nullopt : std::optional<Error>(refused(p, r)));
                }
                return;
            case Cmd::auth:
                on_auth(p, r);
                return;
            case Cmd::simple:
            case Cmd::raw:
                complete(r.positive() || three ? std::nullopt
                                               : std::optional<Error>(refused(p, r)));
                return;
            case Cmd::quit:
                stage = Stage::closed;
                complete();
                return;
        }
    }

    // RFC 4954 4: 334 challenges until 235, or a refusal. A challenge we cannot answer is
    // cancelled with "*" and the mechanism's reason reported when the server confirms.
    void on_auth(const Pending& p, const Reply& r) {
        if (r.code == 334) {
            if (auth_cancel) {
                protocol_error("challenge after AUTH was cancelled", p.text);
                return;
            }
            if (auth_initial) {  // too long for the AUTH line: sent on the first challenge
                queue(Cmd::auth, *std::exchange(auth_initial, std::nullopt), 0, "<redacted>");
                return;
            }
            std::string encoded;
            for (const auto& line : r.lines) {
                encoded += line;
            }
            const auto challenge = util::base64_decode(encoded);
            try {
                if (!challenge) {
                    throw Error(errc::auth_failed,
                                auth_mech->name() + ": the server's challenge is not base64");
                }
                const std::string answer = auth_mech->step(*challenge);
                queue(Cmd::auth, util::base64_encode(answer), 0, "<redacted>");
            } catch (const Error& e) {
                auth_cancel = e.what();
                queue(Cmd::auth, "*");
            }
            return;
        }
        const std::string verb = "AUTH " + auth_mech->name();
        if (auth_cancel) {
            complete(make_error(errc::auth_failed, verb + " cancelled: " + *auth_cancel, &r, verb,
                                true));
        } else if (r.positive() && !auth_mech->verified()) {
            // The server said yes without proving it knows the password (SCRAM, DIGEST-MD5):
            // it is not the server we meant. Nothing more goes over this connection.
            fail(make_error(errc::auth_failed,
                            verb +
                                " accepted by a server that did not prove it knows the "
                                "password: " +
                                r.to_string(),
                            &r, verb, false));
        } else if (r.positive()) {
            authenticated = true;
            complete();
        } else {
            std::string message = verb + " refused: " + r.to_string();
            // RFC 7628 3.2.2: an OAuth server explains a refusal in JSON before its 5xx.
            if (const auto* oauth = dynamic_cast<const sasl::OAuth*>(auth_mech);
                oauth != nullptr && !oauth->error_json().empty()) {
                message += " (server said: " + oauth->error_json() + ")";
            }
            complete(make_error(errc::auth_failed, message, &r, verb, true));
        }
    }

    void on_mail(Transaction& t, const Pending& p, const Reply& r) {
        t.result.mail_reply = r;
        if (!sending(t)) {
            complete(r.positive() ? std::nullopt : std::optional<Error>(refused(p, r)));
            return;
        }
        if (!r.positive()) {
            txn_fail(t, refused(p, r));
            finish_txn_if_settled(t);
            return;
        }
        if (!t.pipelined) {
            queue_next_rcpt();
        }
    }

    void on_rcpt(Transaction& t, const Pending& p, const Reply& r) {
        t.result.recipients.push_back({t.rcpts[p.index].address, r.positive(), r});
        if (r.positive()) {
            ++t.accepted;
        }
        if (!sending(t)) {
            complete(r.positive() ? std::nullopt : std::optional<Error>(refused(p, r)));
            return;
        }
        if (t.error) {  // MAIL failed; these replies only drain the pipeline
            finish_txn_if_settled(t);
            return;
        }
        const bool last_rcpt = p.index + 1 == t.rcpts.size();
        if (!last_rcpt) {
            if (!t.pipelined) {
                queue_next_rcpt();
            }
            return;
        }
        if (t.accepted == 0) {
            // Data already on its way (BDAT with the commands) is refused by the server too;
            // what the owner has not written yet is not sent (RFC 3030 2).
            t.body.reset();
            txn_fail(t, all_refused(t));
            finish_txn_if_settled(t);
            return;
        }
        if (t.chunked && !t.early_body) {
            start_body();
        } else if (!t.chunked && !t.pipelined) {
            queue(Cmd::data, "DATA");
        }
    }

    void on_data(Transaction& t, const Pending& p, const Reply& r) {
        if (r.code == 354) {
            if (sending(t) && (t.error || t.accepted == 0)) {
                // RFC 2920 3.1: DATA was accepted although no recipient was; end it empty.
                if (!t.error) {
                    txn_fail(t, all_refused(t));
                }
                queue_bytes(".\r\n");
                pending.push_back({Cmd::data_end, "end of data", 0, t.seq});
                return;
            }
            start_body();
            return;
        }
        if (r.intermediate() || r.positive()) {
            protocol_error("unexpected reply " + r.to_string() + " to DATA", p.text);
            return;
        }
        if (!sending(t)) {
            complete(refused(p, r));
            return;
        }
        txn_fail(t, t.accepted == 0 && !t.error ? all_refused(t) : refused(p, r));
        finish_txn_if_settled(t);
    }

    void on_data_end(Transaction& t, const Pending& p, const Reply& r) {
        if (sending(t) && t.error) {  // the empty message after a failed pipeline
            t.result.data_reply = r;
            finish_txn_if_settled(t);
            return;
        }
        t.result.data_reply = r;
        if (opts.protocol == Protocol::lmtp && !t.result.recipients.empty()) {
            // RFC 2033 4.2: one reply per accepted recipient, in RCPT order.
            auto& rr = t.result.recipients[p.index];
            rr.accepted = r.positive();
            rr.reply = r;
            if (r.positive() && t.result.queue_id.empty()) {
                t.result.queue_id = detail::queue_id(r.text());
            }
            if (awaiting_verdict(t)) {
                return;
            }
            if (t.result.accepted().empty()) {
                settle(t, make_error(r.transient() ? errc::reply_transient : errc::reply_permanent,
                                     "message refused for every recipient: " + r.to_string(), &r,
                                     p.text, true));
            } else {
                settle(t, std::nullopt);
            }
            return;
        }
        if (r.positive()) {
            t.result.queue_id = detail::queue_id(r.text());
            settle(t, std::nullopt);
        } else {
            settle(t, make_error(r.transient() ? errc::reply_transient : errc::reply_permanent,
                                 "message refused: " + r.to_string(), &r, p.text, true));
        }
    }

    // ---- body ----

    void flush_chunk(bool last_chunk) {
        std::string& chunk = txn.body->chunk;
        std::string line = "BDAT " + std::to_string(chunk.size()) + (last_chunk ? " LAST" : "");
        trace(Direction::client, line);
        queue_bytes(line);
        queue_bytes("\r\n");
        trace(Direction::client, "[" + std::to_string(chunk.size()) + " octets of message data]");
        queue_bytes(chunk);
        chunk.clear();
        txn.flushed = true;
        if (last_chunk) {
            add_end_replies(line);
        } else {
            pending.push_back({Cmd::bdat, std::move(line), 0, txn.seq});
        }
    }

    void add_end_replies(const std::string& text) {
        txn.terminator_end = queued;
        if (opts.protocol == Protocol::lmtp && txn.accepted > 0) {
            for (std::size_t i = 0; i < txn.result.recipients.size(); ++i) {
                if (txn.result.recipients[i].accepted) {
                    pending.push_back({Cmd::data_end, text, i, txn.seq});
                }
            }
        } else {
            pending.push_back({Cmd::data_end, text, 0, txn.seq});
        }
    }

    // The owner may write message data now. DATA: after the 354 (nothing else is then
    // outstanding); BDAT: once the RCPT replies are in, or at once when the data goes with the
    // commands, until its first chunk is framed.
    [[nodiscard]] bool body_open() const {
        return txn.body && (pending.empty() || !txn.chunked || (txn.early_body && !txn.flushed));
    }

    // Whether send() may start the next transaction now (RFC 2920 3.1: the end of one
    // message's data may open the next pipelined group): the data of this one has ended,
    // nothing failed, the server pipelines, and no earlier verdict is still awaited.
    [[nodiscard]] bool can_chain() const {
        return stage == Stage::ready && op == Op::send && !prior && txn.pipelined && !txn.body &&
               txn.terminator_end != 0 && !txn.error && awaiting_verdict(txn);
    }

    void check_op(bool ok, const char* what) const {
        if (fatal) {
            throw Error(errc::invalid_input,
                        std::string(what) + " called on a failed session: " + fatal->what());
        }
        if (!ok) {
            throw Error(errc::invalid_input, std::string(what) + " called in the wrong state");
        }
    }

    // Ready for the next operation: greeted (hello is not enforced, as before), nothing
    // outstanding, not inside a message.
    [[nodiscard]] bool idle() const {
        return (stage == Stage::greeted || stage == Stage::ready) && op == Op::none &&
               pending.empty() && !txn.body;
    }

    void begin(Op o) {
        op = o;
        op_error.reset();
    }
};

Session::Session(SessionOptions options)
    : s_(std::make_unique<State>(std::move(options))) {}

Session::Session(Session&& other) noexcept = default;
Session& Session::operator=(Session&& other) noexcept = default;
Session::~Session() = default;

Want Session::want() const {
    const State& s = *s_;
    if (s.stage == Stage::failed) {
        return Want::closed;
    }
    if (s.txn.body && s.txn.early_body && !s.txn.flushed) {
        return Want::body;  // the commands wait for the data, to leave in one write
    }
    if (s.out_pos < s.out.size()) {
        return Want::output;
    }
    if (s.stage == Stage::tls_handshake) {
        return Want::tls_handshake;
    }
    if (s.body_open()) {
        return Want::body;
    }
    if (!s.pending.empty()) {
        return Want::input;
    }
    return s.stage == Stage::closed ? Want::closed : Want::idle;
}

Phase Session::phase() const {
    const State& s = *s_;
    if (s.txn.body) {
        return Phase::data_body;
    }
    if (s.pending.empty()) {
        return Phase::idle;
    }
    switch (s.pending.front().cmd) {
        case Cmd::greeting:
            return Phase::greeting;
        case Cmd::data_end:
            return Phase::data_end;
        case Cmd::bdat:
            return Phase::data_body;
        default:
            return Phase::command;
    }
}

std::string_view Session::output() const {
    return std::string_view(s_->out).substr(s_->out_pos);
}

void Session::consume_output(std::size_t n) {
    State& s = *s_;
    n = std::min(n, s.out.size() - s.out_pos);
    s.out_pos += n;
    s.written += n;
    if (s.out_pos == s.out.size()) {
        s.out.clear();
        s.out_pos = 0;
    }
    if (s.txn.terminator_end != 0 && s.written >= s.txn.terminator_end) {
        s.txn.result.message_sent = true;
    }
}

void Session::receive(std::string_view bytes) {
    State& s = *s_;
    // The trace shows every byte received, acted on or not, so that it does not depend on how
    // the reads fell (a reply injected after STARTTLS's 220 shows whether it came in the same
    // read or the next).
    if (s.opts.trace) {
        s.trace_partial.append(bytes);
        std::size_t start = 0;
        for (std::size_t lf; (lf = s.trace_partial.find('\n', start)) != std::string::npos;
             start = lf + 1) {
            std::string_view line(s.trace_partial.data() + start, lf - start);
            if (!line.empty() && line.back() == '\r') {
                line.remove_suffix(1);
            }
            s.trace(Direction::server, line);
        }
        s.trace_partial.erase(0, start);
        if (s.trace_partial.size() > s.opts.limits.max_line_length + 2) {
            s.trace_partial.clear();
        }
    }
    if (s.stage == Stage::failed || s.stage == Stage::closed) {
        return;
    }
    if (s.stage == Stage::tls_handshake) {
        return;  // bytes before the handshake are never acted on (response injection)
    }
    s.parser.feed(bytes);
    bool completed_here = false;
    std::optional<Error> outcome;  // of an operation that completed during this call
    while (s.stage != Stage::failed && s.stage != Stage::tls_handshake) {
        std::optional<Reply> r = s.parser.next();
        if (!r) {
            break;
        }
        const bool busy = s.op != Op::none;
        s.on_reply(*r);
        if (busy && s.op == Op::none && s.stage != Stage::failed) {
            completed_here = true;
            outcome = s.op_error;
        }
    }
    if (s.stage == Stage::tls_handshake) {
        return;
    }
    if (s.stage == Stage::failed) {
        // already failed in on_reply (e.g. a surplus reply)
    } else if (s.parser.failed()) {
        s.protocol_error(s.parser.error_message());
    } else if (s.pending.empty() && s.parser.buffered() > 0 && s.stage != Stage::closed) {
        s.protocol_error("unexpected data from the server when no command was outstanding");
    }
    if (s.stage == Stage::failed && completed_here) {
        // The operation was complete before the junk arrived: its outcome stands (a message
        // the server accepted must not look failed and be sent twice), and the session is
        // failed for whatever comes next.
        s.op_error = std::move(outcome);
    }
}

void Session::receive_eof() {
    State& s = *s_;
    if (s.stage == Stage::failed) {
        return;
    }
    if (s.pending.empty() || s.pending.front().cmd == Cmd::quit) {
        // A server may close right after QUIT without its 221, even before all of it was
        // written: what was not written never will be.
        s.stage = Stage::closed;
        s.pending.clear();
        s.out.clear();
        s.out_pos = 0;
        if (s.op == Op::quit) {
            s.complete();
        } else if (s.op != Op::none || s.txn.body) {
            s.fail(s.make_error(errc::connection_lost, "connection closed by the server", nullptr,
                                {}, false));
        }
        return;
    }
    abort(errc::connection_lost, "connection closed by the server");
}

void Session::abort(errc reason, std::string_view message, std::error_code cause) {
    State& s = *s_;
    if (s.stage == Stage::failed) {
        return;
    }
    const std::string command = s.pending.empty() ? std::string() : s.pending.front().text;
    const bool after_end = s.awaiting_verdict(s.txn) && s.written >= s.txn.terminator_end &&
                           s.txn.terminator_end != 0 && (s.op == Op::send || s.op == Op::data) &&
                           !s.txn.error;
    if (after_end) {
        s.fail(s.make_error(errc::outcome_unknown,
                            std::string(message) +
                                " after the message data was sent, before the server's reply: "
                                "the message may or may not have been accepted",
                            nullptr, command, false, cause));
        return;
    }
    std::string text(message);
    if (!s.pending.empty() && s.pending.front().cmd == Cmd::greeting) {
        text += " while waiting for the server's greeting";
    } else if (!command.empty()) {
        text += " while waiting for the reply to " + command;
    } else if (s.txn.body) {
        text += " while sending the message data";
    }
    s.fail(s.make_error(reason, text, nullptr, command, false, cause));
}

void Session::tls_established() {
    State& s = *s_;
    s.check_op(s.stage == Stage::tls_handshake, "tls_established");
    s.stage = Stage::greeted;  // RFC 3207 4.2: forget what was learnt, hello again
    s.trace_partial.clear();   // a plaintext line is never continued by TLS bytes
    s.secure = true;
    s.caps = Capabilities();
    s.extended = false;
    s.parser.discard();
    s.parser.set_enhanced_codes(false);
    s.complete();
}

void Session::expect_greeting() {
    State& s = *s_;
    s.check_op(s.stage == Stage::connected && s.pending.empty() && s.op == Op::none,
               "expect_greeting");
    s.begin(Op::greeting);
    s.pending.push_back({Cmd::greeting, "greeting"});
}

void Session::hello(std::string_view local_name) {
    State& s = *s_;
    s.check_op(s.idle(), "hello");
    detail::check_line("HELO name", local_name);
    if (local_name.empty() || local_name.find(' ') != std::string_view::npos) {
        throw Error(errc::invalid_input,
                    "HELO name \"" + std::string(local_name) + "\" must be one word");
    }
    s.begin(Op::hello);
    s.local_name = std::string(local_name);
    const char* verb = s.opts.protocol == Protocol::lmtp ? "LHLO " : "EHLO ";
    s.queue(Cmd::ehlo, verb + s.local_name);
}

void Session::starttls() {
    State& s = *s_;
    s.check_op(s.idle() && !s.secure, "starttls");
    s.begin(Op::starttls);
    s.queue(Cmd::starttls, "STARTTLS");
}

void Session::mail(std::string_view from, const MailParams& params) {
    State& s = *s_;
    s.check_op(s.idle(), "mail");
    std::string line =
        detail::mail_command(from, params, s.caps, detail::has_non_ascii(from), false);
    s.begin(Op::single);
    s.begin_transaction();  // rcpt() and data() add to it
    s.queue(Cmd::mail, std::move(line));
}

void Session::rcpt(std::string_view to, const RcptParams& params) {
    State& s = *s_;
    s.check_op(s.idle(), "rcpt");
    std::string line = detail::rcpt_command(to, params, s.caps);
    s.begin(Op::single);
    s.txn.rcpts.emplace_back(std::string(to), params);
    s.queue(Cmd::rcpt, std::move(line), s.txn.rcpts.size() - 1);
}

void Session::data() {
    State& s = *s_;
    s.check_op(s.idle(), "data");
    s.begin(Op::data);
    // The transaction mail() started goes on; DATA (not BDAT) carries its message.
    s.txn.chunked = false;
    s.txn.binary_body = false;
    s.txn.terminator_end = 0;
    s.queue(Cmd::data, "DATA");
}

void Session::send(const Envelope& envelope) {
    State& s = *s_;
    const bool chain = s.can_chain();
    s.check_op(s.idle() || chain, "send");
    if (envelope.to.empty()) {
        throw Error(errc::invalid_input, "the envelope has no recipient");
    }
    bool utf8 = detail::has_non_ascii(envelope.from);
    for (const auto& r : envelope.to) {
        utf8 = utf8 || detail::has_non_ascii(r.address);
    }
    const bool chunked =
        (s.opts.use_chunking || envelope.params.body == BodyType::binary_mime) && s.caps.chunking();
    // Format everything first: a bad argument throws before a single byte is queued.
    std::string mail_line =
        detail::mail_command(envelope.from, envelope.params, s.caps, utf8, chunked);
    std::vector<std::string> rcpt_lines;
    rcpt_lines.reserve(envelope.to.size());
    for (const auto& r : envelope.to) {
        rcpt_lines.push_back(detail::rcpt_command(r.address, r.params, s.caps));
    }
    s.begin(Op::send);
    if (chain) {
        s.prior = std::move(s.txn);  // its replies stay due, at the front of `pending`
    }
    s.begin_transaction();
    Transaction& t = s.txn;
    t.rcpts = envelope.to;
    t.chunked = chunked;
    t.binary_body = envelope.params.body == BodyType::binary_mime;
    t.pipelined = s.opts.use_pipelining && s.caps.pipelining();
    s.queue(Cmd::mail, std::move(mail_line));
    if (t.pipelined) {
        // RFC 2920 3.1: MAIL, every RCPT and DATA in one group. RFC 3030 4.2: BDAT may go in
        // the same group (LMTP waits for the RCPT replies: it answers the data once per
        // accepted recipient).
        for (std::size_t i = 0; i < rcpt_lines.size(); ++i) {
            s.queue(Cmd::rcpt, std::move(rcpt_lines[i]), i);
        }
        t.next_rcpt = rcpt_lines.size();
        if (!chunked) {
            s.queue(Cmd::data, "DATA");
        } else if (s.opts.protocol == Protocol::smtp) {
            t.early_body = true;
            s.start_body();
        }
    }
}

void Session::write_body(std::string_view bytes) {
    State& s = *s_;
    s.check_op(s.body_open(), "write_body");
    Transaction::Body& body = *s.txn.body;
    body.octets += bytes.size();
    if (!s.txn.chunked) {
        const std::size_t before = s.out.size();
        body.encoder.encode(bytes, s.out);
        s.queued += s.out.size() - before;
        return;
    }
    body.encoder.encode(bytes, body.chunk);
    if (body.chunk.size() >= s.opts.chunk_size) {
        s.flush_chunk(false);
    }
}

void Session::end_body() {
    State& s = *s_;
    s.check_op(s.body_open(), "end_body");
    Transaction::Body& body = *s.txn.body;
    if (s.txn.chunked) {
        // Each BDAT chunk traces its own size (flush_chunk).
        body.encoder.finish(body.chunk);
        s.flush_chunk(true);
    } else {
        s.trace(Direction::client, "[" + std::to_string(body.octets) + " octets of message data]");
        const std::size_t before = s.out.size();
        body.encoder.finish(s.out);
        s.queued += s.out.size() - before;
        s.add_end_replies("end of data");
    }
    s.txn.body.reset();
}

void Session::authenticate(sasl::Mechanism& mechanism) {
    State& s = *s_;
    s.check_op(s.idle(), "authenticate");
    if (s.authenticated) {
        throw Error(errc::invalid_input, "already authenticated (RFC 4954 4: AUTH only once)");
    }
    const std::string name = mechanism.name();
    detail::check_line("SASL mechanism name", name);
    if (name.empty() || name.find(' ') != std::string::npos) {
        throw Error(errc::invalid_input, "SASL mechanism name \"" + name + "\" is not one word");
    }
    std::optional<std::string> initial = mechanism.start();
    std::string line = "AUTH " + name;
    std::string shown = line;
    s.auth_initial.reset();
    s.auth_cancel.reset();
    if (initial) {
        std::string encoded = initial->empty() ? "=" : util::base64_encode(*initial);
        // RFC 4954 4: a command line of at most 512 octets; else wait for the empty challenge.
        if (line.size() + 1 + encoded.size() + 2 <= 512) {
            line += " " + encoded;
            shown += " <redacted>";
        } else {
            s.auth_initial = std::move(encoded);
        }
    }
    s.auth_mech = &mechanism;
    s.begin(Op::auth);
    s.queue(Cmd::auth, std::move(line), 0, shown);
}

bool Session::authenticated() const {
    return s_->authenticated;
}

void Session::reset() {
    State& s = *s_;
    s.check_op(s.idle(), "reset");
    s.begin(Op::single);
    s.queue(Cmd::rset, "RSET");
}

void Session::noop() {
    State& s = *s_;
    s.check_op(s.idle(), "noop");
    s.begin(Op::single);
    s.queue(Cmd::simple, "NOOP");
}

void Session::verify(std::string_view address) {
    State& s = *s_;
    s.check_op(s.idle(), "verify");
    detail::check_line("VRFY argument", address);
    s.begin(Op::single);
    s.queue(Cmd::simple, "VRFY " + std::string(address));
}

void Session::expand(std::string_view list) {
    State& s = *s_;
    s.check_op(s.idle(), "expand");
    detail::check_line("EXPN argument", list);
    s.begin(Op::single);
    s.queue(Cmd::simple, "EXPN " + std::string(list));
}

void Session::help(std::string_view topic) {
    State& s = *s_;
    s.check_op(s.idle(), "help");
    detail::check_line("HELP argument", topic);
    s.begin(Op::single);
    s.queue(Cmd::simple, topic.empty() ? std::string("HELP") : "HELP " + std::string(topic));
}

void Session::quit() {
    State& s = *s_;
    s.check_op(s.idle(), "quit");
    s.begin(Op::quit);
    s.queue(Cmd::quit, "QUIT");
}

void Session::command(std::string_view line, std::string_view redacted_trace) {
    State& s = *s_;
    s.check_op(s.idle(), "command");
    detail::check_line("command", line);
    detail::check_line("command trace", redacted_trace);
    if (line.empty()) {
        throw Error(errc::invalid_input, "command is empty");
    }
    // Credentials never reach a trace or an error message, even when the caller forgot to say
    // so: an AUTH initial response and every line answering a 334 challenge are redacted.
    std::string shown(redacted_trace);
    if (shown.empty()) {
        if (s.last.code == 334) {
            shown = "<redacted>";
        } else if (const std::string_view verb = util::trim_blanks(line);
                   verb.size() > 5 && util::ascii_lower(verb.substr(0, 4)) == "auth" &&
                   (verb[4] == ' ' || verb[4] == '\t')) {
            // Any case and spacing: "AUTH", "auth", "Auth", "AUTH\tPLAIN …". What follows
            // the mechanism name is a credential.
            const std::string_view rest = util::trim_blanks(verb.substr(5));
            const std::size_t end = rest.find_first_of(" \t");
            shown = "AUTH " + std::string(rest.substr(0, end)) +
                    (end == std::string_view::npos ? "" : " <redacted>");
        }
    }
    s.begin(Op::single);
    s.queue(Cmd::raw, std::string(line), 0, shown);
}

bool Session::accepts_body() const {
    return s_->stage != Stage::failed && s_->body_open();
}

bool Session::can_send_next() const {
    return s_->can_chain();
}

std::optional<Settled> Session::take_settled() {
    State& s = *s_;
    if (s.settled.empty()) {
        return std::nullopt;
    }
    Settled out = std::move(s.settled.front());
    s.settled.pop_front();
    return out;
}

std::optional<Error> Session::take_error() {
    return std::exchange(s_->op_error, std::nullopt);
}

const Reply& Session::reply() const {
    return s_->last;
}

const SendResult& Session::result() const {
    return s_->txn.result;
}

const Capabilities& Session::capabilities() const {
    return s_->caps;
}

Stage Session::stage() const {
    return s_->stage;
}

bool Session::extended() const {
    return s_->extended;
}

bool Session::failed() const {
    return s_->stage == Stage::failed;
}

const Error* Session::error() const {
    return s_->fatal ? &*s_->fatal : nullptr;
}

bool Session::secure() const {
    return s_->secure;
}

const SessionOptions& Session::options() const {
    return s_->opts;
}

}  // namespace missive::smtp
