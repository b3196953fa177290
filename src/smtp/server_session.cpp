// smtp::ServerSession: theory of operation.
//
// Bytes from the client collect in `input_`; `process()` takes from it what the current mode
// allows and appends replies to `output_`, so replies come out in the order of the commands
// however the bytes were split (PIPELINING). Modes: command lines (ended by LF, an optional CR
// before it dropped); DATA content; a BDAT chunk, counted in octets; the lines of an AUTH
// exchange. Processing pauses while STARTTLS waits for the handshake (the bytes that came with
// it are dropped) and, with `confirm_storage`, while a message waits for the driver's verdict.
//
// DATA is read line by line (a line too long to wait for is taken in pieces) with `line_start_`
// telling whether the next byte follows a CRLF, a bare LF, or nothing (the middle of a line).
// Only ".\r\n" right after a CRLF ends the data (RFC 5321 4.1.1.4); a bare CR or LF anywhere is
// remembered and the message refused at its real end (RFC 5321 2.3.8), so no other line end can
// close the data early and let the bytes after it run as commands (SMTP smuggling).
#include <missive/smtp/server_session.hpp>
#include <missive/util/base64.hpp>

#include "util/text.hpp"

#include <charconv>

namespace missive::smtp {

namespace {

constexpr std::size_t max_partial_data_line = std::size_t{64} * 1024;

// "FROM:<a@b> SIZE=1" after MAIL: the path between the brackets, or nullopt.
std::optional<std::string> path_after(std::string_view args, std::string_view keyword) {
    args = util::trim_blanks(args);
    if (args.size() < keyword.size() ||
        util::ascii_lower(args.substr(0, keyword.size())) != util::ascii_lower(keyword)) {
        return std::nullopt;
    }
    args = util::trim_blanks(args.substr(keyword.size()));
    if (args.empty() || args.front() != '<') {
        return std::nullopt;
    }
    const auto close = args.find('>');
    if (close == std::string_view::npos) {
        return std::nullopt;
    }
    return std::string(args.substr(1, close - 1));
}

}  // namespace

ServerSession::ServerSession(ServerOptions options)
    : options_(std::move(options))
    , tls_(options_.tls_active) {
    reply("220 " + options_.hostname + " ESMTP missive capture");
}

void ServerSession::reply(std::string_view text) {
    output_.append(text);
    output_.append("\r\n");
}

bool ServerSession::auth_offered() const {
    return tls_ || !options_.auth_requires_tls;
}

void ServerSession::reset_transaction() {
    in_transaction_ = false;
    from_.clear();
    to_.clear();
    data_.clear();
    too_large_ = false;
    line_start_ = LineStart::after_crlf;
    bare_lf_ = false;
    bare_cr_ = false;
}

void ServerSession::tls_started() {
    tls_pending_ = false;
    tls_ = true;
    helo_.clear();
    extended_ = false;
    user_.clear();
    reset_transaction();
    input_.clear();
}

std::optional<ReceivedMessage> ServerSession::take_message() {
    if (done_.empty()) {
        return std::nullopt;
    }
    ReceivedMessage m = std::move(done_.front());
    done_.erase(done_.begin());
    return m;
}

void ServerSession::receive(std::string_view bytes) {
    if (closed_ || tls_pending_) {
        return;  // after QUIT, and between STARTTLS and the handshake: nothing is taken
    }
    input_.append(bytes);
    process();
}

void ServerSession::finish_message() {
    if (bare_lf_) {
        reply("554 5.5.2 Error: bare <LF> received");
    } else if (bare_cr_) {
        reply("554 5.5.2 Error: bare <CR> received");
    } else if (too_large_) {
        reply("552 5.3.4 Message size exceeds fixed limit of " + std::to_string(options_.max_size) +
              " octets");
    } else {
        done_.push_back({helo_, from_, to_, user_, tls_, std::move(data_)});
        if (options_.confirm_storage) {
            storage_pending_ = true;  // the reply waits for message_stored()
        } else {
            ++queued_;
            reply("250 2.0.0 Ok: queued as M" + std::to_string(queued_));
        }
    }
    reset_transaction();
}

void ServerSession::message_stored() {
    if (!storage_pending_) {
        return;
    }
    storage_pending_ = false;
    ++queued_;
    reply("250 2.0.0 Ok: queued as M" + std::to_string(queued_));
    process();
}

void ServerSession::message_not_stored() {
    if (!storage_pending_) {
        return;
    }
    storage_pending_ = false;
    reply("451 4.3.0 Error: message not stored, try again later");
    process();
}

// One step of DATA. @return false when more input is needed
bool ServerSession::take_data() {
    const std::size_t lf = input_.find('\n');
    if (lf == std::string::npos) {
        if (input_.size() <= max_partial_data_line) {
            return false;
        }
        // A long line, taken in pieces; a CR at the end may be the first half of a CRLF.
        const std::size_t take = input_.size() - (input_.back() == '\r' ? 1 : 0);
        data_piece(std::string_view(input_).substr(0, take), false);
        input_.erase(0, take);
        return true;
    }
    const std::string_view line = std::string_view(input_).substr(0, lf + 1);
    if (line_start_ == LineStart::after_crlf && line == ".\r\n") {  // RFC 5321 4.1.1.4
        input_.erase(0, lf + 1);
        mode_ = Mode::command;
        finish_message();
        return true;
    }
    data_piece(line, true);
    input_.erase(0, lf + 1);
    return true;
}

// A line of data (with its LF when `ends_line`), or a piece of a long one.
void ServerSession::data_piece(std::string_view piece, bool ends_line) {
    if (line_start_ != LineStart::mid_line && !piece.empty() && piece.front() == '.') {
        piece.remove_prefix(1);  // dot-unstuffing, RFC 5321 4.5.2
    }
    std::string_view text = ends_line ? piece.substr(0, piece.size() - 1) : piece;
    const bool crlf = ends_line && !text.empty() && text.back() == '\r';
    if (crlf) {
        text.remove_suffix(1);
    }
    if (text.find('\r') != std::string_view::npos) {
        bare_cr_ = true;
    }
    if (ends_line && !crlf) {
        bare_lf_ = true;
    }
    line_start_ = !ends_line ? LineStart::mid_line
                  : crlf     ? LineStart::after_crlf
                             : LineStart::after_bare_lf;
    if (!bare_lf_ && !bare_cr_) {  // a refused message is drained, not kept
        data_line(piece);
    }
}

void ServerSession::data_line(std::string_view line) {
    if (data_.size() + line.size() > options_.max_size) {
        too_large_ = true;  // drained to the end, then refused
        return;
    }
    data_.append(line);
}

void ServerSession::process() {
    while ((!input_.empty() || (mode_ == Mode::bdat && bdat_left_ == 0)) && !closed_ &&
           !tls_pending_ && !storage_pending_) {
        if (mode_ == Mode::bdat) {
            const std::size_t take = std::min(bdat_left_, input_.size());
            data_line(std::string_view(input_).substr(0, take));
            input_.erase(0, take);
            bdat_left_ -= take;
            if (bdat_left_ > 0) {
                return;
            }
            mode_ = Mode::command;
            if (!in_transaction_ || to_.empty()) {
                reply("503 5.5.1 Error: need RCPT command");
            } else if (bdat_last_) {
                finish_message();
            } else {
                reply("250 2.0.0 Ok: chunk received");
            }
            continue;
        }
        if (mode_ == Mode::data) {
            if (!take_data()) {
                return;
            }
            continue;
        }
        const std::size_t lf = input_.find('\n');
        if (lf == std::string::npos) {
            if (input_.size() > options_.max_line) {
                reply("500 5.5.6 Error: line too long");
                input_.clear();
                discarding_line_ = true;
            }
            return;
        }
        std::string line = input_.substr(0, lf);
        input_.erase(0, lf + 1);
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (discarding_line_) {
            discarding_line_ = false;
            continue;
        }
        if (line.size() > options_.max_line) {
            reply("500 5.5.6 Error: line too long");
            continue;
        }
        command(line);
    }
}

void ServerSession::command(std::string_view line) {
    if (mode_ == Mode::auth_plain || mode_ == Mode::auth_login_user ||
        mode_ == Mode::auth_login_password) {
        const Mode was = mode_;
        mode_ = Mode::command;
        if (line == "*") {
            reply("501 5.7.0 Authentication aborted");
            return;
        }
        const auto decoded = util::base64_decode(line);
        if (!decoded) {
            reply("501 5.5.2 Error: invalid base64");
            return;
        }
        if (was == Mode::auth_login_user) {
            login_user_ = *decoded;
            mode_ = Mode::auth_login_password;
            reply("334 UGFzc3dvcmQ6");  // "Password:"
            return;
        }
        if (was == Mode::auth_plain) {
            const auto first = decoded->find('\0');
            const auto second = first == std::string::npos ? first : decoded->find('\0', first + 1);
            if (second == std::string::npos) {
                reply("501 5.5.2 Error: malformed PLAIN response");
                return;
            }
            login_user_ = decoded->substr(first + 1, second - first - 1);
        }
        user_ = login_user_;
        reply("235 2.7.0 Authentication successful");
        return;
    }

    const std::string_view verb_text = line.substr(0, line.find(' '));
    const std::string verb = util::ascii_lower(verb_text);
    const std::string_view args =
        verb_text.size() < line.size() ? line.substr(verb_text.size() + 1) : std::string_view{};

    if (verb == "ehlo" || verb == "helo") {
        if (util::trim_blanks(args).empty()) {
            reply("501 5.5.4 Syntax: " + std::string(verb == "ehlo" ? "EHLO" : "HELO") +
                  " hostname");
            return;
        }
        helo_ = std::string(util::trim_blanks(args));
        extended_ = verb == "ehlo";
        reset_transaction();
        if (!extended_) {
            reply("250 " + options_.hostname);
            return;
        }
        std::vector<std::string> lines{
            options_.hostname, "PIPELINING", "SIZE " + std::to_string(options_.max_size),
            "8BITMIME",        "SMTPUTF8",   "ENHANCEDSTATUSCODES",
            "CHUNKING"};
        if (options_.tls_available && !tls_) {
            lines.emplace_back("STARTTLS");
        }
        if (auth_offered()) {
            lines.emplace_back("AUTH PLAIN LOGIN");
        }
        for (std::size_t i = 0; i < lines.size(); ++i) {
            reply((i + 1 < lines.size() ? "250-" : "250 ") + lines[i]);
        }
    } else if (verb == "starttls") {
        if (!options_.tls_available || tls_) {
            reply(tls_ ? "503 5.5.1 Error: TLS already active"
                       : "502 5.5.1 Error: command not implemented");
        } else if (!util::trim_blanks(args).empty()) {
            reply("501 5.5.4 Syntax: STARTTLS");
        } else {
            reply("220 2.0.0 Ready to start TLS");
            tls_pending_ = true;
            input_.clear();  // whatever came with STARTTLS is not trusted (CVE-2011-0411)
        }
    } else if (verb == "auth") {
        const std::string_view rest = util::trim_blanks(args);
        const std::string mechanism = util::ascii_lower(rest.substr(0, rest.find(' ')));
        const std::string_view initial = rest.find(' ') == std::string_view::npos
                                             ? std::string_view{}
                                             : util::trim_blanks(rest.substr(rest.find(' ')));
        if (helo_.empty() || !extended_) {
            reply("503 5.5.1 Error: send EHLO first");
        } else if (!user_.empty()) {
            reply("503 5.5.1 Error: already authenticated");
        } else if (in_transaction_) {
            reply("503 5.5.1 Error: MAIL transaction in progress");
        } else if (!auth_offered()) {
            reply("538 5.7.11 Encryption required for requested authentication mechanism");
        } else if (mechanism == "plain") {
            mode_ = Mode::auth_plain;
            if (initial.empty()) {
                reply("334 ");
            } else {
                command(initial);
            }
        } else if (mechanism == "login") {
            mode_ = Mode::auth_login_user;
            if (initial.empty()) {
                reply("334 VXNlcm5hbWU6");  // "Username:"
            } else {
                command(initial);
            }
        } else {
            reply("504 5.5.4 Unrecognized authentication type");
        }
    } else if (verb == "mail") {
        const auto path = path_after(args, "FROM:");
        if (helo_.empty()) {
            reply("503 5.5.1 Error: send HELO/EHLO first");
        } else if (in_transaction_) {
            reply("503 5.5.1 Error: nested MAIL command");
        } else if (!path) {
            reply("501 5.5.4 Syntax: MAIL FROM:<address>");
        } else {
            const std::string params = util::ascii_lower(args.substr(args.find('>') + 1));
            const auto size_at = params.find("size=");
            std::size_t size = 0;
            if (size_at != std::string::npos) {
                const char* begin = params.data() + size_at + 5;
                std::from_chars(begin, params.data() + params.size(), size);
            }
            if (size > options_.max_size) {
                reply("552 5.3.4 Message size exceeds fixed limit");
            } else {
                in_transaction_ = true;
                from_ = *path;
                reply("250 2.1.0 Ok");
            }
        }
    } else if (verb == "rcpt") {
        const auto path = path_after(args, "TO:");
        if (!in_transaction_) {
            reply("503 5.5.1 Error: need MAIL command");
        } else if (!path || path->empty()) {
            reply("501 5.5.4 Syntax: RCPT TO:<address>");
        } else if (to_.size() >= options_.max_recipients) {
            reply("452 4.5.3 Error: too many recipients");
        } else {
            to_.push_back(*path);
            reply("250 2.1.5 Ok");
        }
    } else if (verb == "data") {
        if (!in_transaction_) {
            reply("503 5.5.1 Error: need MAIL command");
        } else if (to_.empty()) {
            reply("554 5.5.1 Error: no valid recipients");
        } else {
            mode_ = Mode::data;
            line_start_ = LineStart::after_crlf;  // the CRLF of DATA comes before the data
            reply("354 End data with <CR><LF>.<CR><LF>");
        }
    } else if (verb == "bdat") {
        const std::string_view rest = util::trim_blanks(args);
        const std::string_view number = rest.substr(0, rest.find(' '));
        std::size_t n = 0;
        const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
        const std::string_view tail = number.size() < rest.size()
                                          ? util::trim_blanks(rest.substr(number.size()))
                                          : std::string_view{};
        if (ec != std::errc{} || ptr != number.data() + number.size() ||
            !(tail.empty() || util::ascii_lower(tail) == "last")) {
            reply("501 5.5.4 Syntax: BDAT size [LAST]");
            return;
        }
        bdat_left_ = n;
        bdat_last_ = !tail.empty();
        mode_ = Mode::bdat;  // process() takes the chunk (at once when it is empty)
    } else if (verb == "rset") {
        reset_transaction();
        reply("250 2.0.0 Ok");
    } else if (verb == "noop") {
        reply("250 2.0.0 Ok");
    } else if (verb == "vrfy") {
        reply("252 2.0.0 Cannot VRFY user, but will accept message");
    } else if (verb == "help") {
        reply(
            "214 2.0.0 Commands: EHLO HELO STARTTLS AUTH MAIL RCPT DATA BDAT RSET NOOP VRFY QUIT");
    } else if (verb == "quit") {
        reply("221 2.0.0 Bye");
        closed_ = true;
    } else {
        reply("500 5.5.2 Error: command not recognized");
    }
}

}  // namespace missive::smtp
