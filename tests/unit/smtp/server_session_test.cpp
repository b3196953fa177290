#include <missive/smtp/server_session.hpp>
#include <missive/util/base64.hpp>

#include <gtest/gtest.h>

#include <string>

using missive::smtp::ServerOptions;
using missive::smtp::ServerSession;

namespace {

// Feeds `input` and returns what the session answered (all of it).
std::string talk(ServerSession& s, std::string_view input) {
    s.receive(input);
    std::string out(s.output());
    s.consume_output(out.size());
    return out;
}

const std::string dialogue =
    "EHLO client.test\r\n"
    "MAIL FROM:<ada@example.org> SIZE=40 BODY=8BITMIME\r\n"
    "RCPT TO:<bob@example.com>\r\n"
    "RCPT TO:<carol@example.com>\r\n"
    "DATA\r\n"
    "Subject: hi\r\n\r\n..dot line\r\nbody\r\n.\r\n"
    "QUIT\r\n";

const std::string answers =
    "250-localhost\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
    "250-ENHANCEDSTATUSCODES\r\n250 CHUNKING\r\n"
    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
    "250 2.0.0 Ok: queued as M1\r\n221 2.0.0 Bye\r\n";

}  // namespace

TEST(ServerSession, PipelinedTransactionAnsweredInOrder) {
    ServerSession s;
    EXPECT_EQ(talk(s, ""), "220 localhost ESMTP missive capture\r\n");
    EXPECT_EQ(talk(s, dialogue), answers);
    EXPECT_TRUE(s.closed());
    const auto m = s.take_message();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->helo, "client.test");
    EXPECT_EQ(m->from, "ada@example.org");
    EXPECT_EQ(m->to, (std::vector<std::string>{"bob@example.com", "carol@example.com"}));
    EXPECT_EQ(m->data, "Subject: hi\r\n\r\n.dot line\r\nbody\r\n");  // dot-unstuffed
    EXPECT_FALSE(s.take_message());
}

TEST(ServerSession, SameAnswersWhateverTheInputSplit) {
    for (std::size_t split = 1; split < dialogue.size(); ++split) {
        ServerSession s;
        (void)talk(s, "");
        std::string out = talk(s, dialogue.substr(0, split));  // (two statements: in order)
        out += talk(s, dialogue.substr(split));
        ASSERT_EQ(out, answers) << "split at " << split;
        ASSERT_TRUE(s.take_message()) << split;
    }
    ServerSession s;  // and one byte at a time
    (void)talk(s, "");
    std::string out;
    for (const char c : dialogue) {
        out += talk(s, std::string(1, c));
    }
    EXPECT_EQ(out, answers);
}

TEST(ServerSession, BdatChunks) {
    ServerSession s;
    (void)talk(s, "EHLO c\r\n");
    EXPECT_EQ(talk(s, "MAIL FROM:<>\r\nRCPT TO:<b@x.y>\r\nBDAT 5\r\nhelloBDAT 0 LAST\r\n"),
              "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: chunk received\r\n"
              "250 2.0.0 Ok: queued as M1\r\n");
    const auto m = s.take_message();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->from, "");
    EXPECT_EQ(m->data, "hello");
    EXPECT_EQ(talk(s, "BDAT 3 LAST\r\nabc"), "503 5.5.1 Error: need RCPT command\r\n");
}

TEST(ServerSession, BadSequencesAndSyntax) {
    ServerSession s;
    (void)talk(s, "");
    EXPECT_EQ(talk(s, "MAIL FROM:<a@b.c>\r\n"), "503 5.5.1 Error: send HELO/EHLO first\r\n");
    EXPECT_EQ(talk(s, "HELO\r\n"), "501 5.5.4 Syntax: HELO hostname\r\n");
    EXPECT_EQ(talk(s, "HELO c\r\n"), "250 localhost\r\n");
    EXPECT_EQ(talk(s, "RCPT TO:<b@c.d>\r\n"), "503 5.5.1 Error: need MAIL command\r\n");
    EXPECT_EQ(talk(s, "DATA\r\n"), "503 5.5.1 Error: need MAIL command\r\n");
    EXPECT_EQ(talk(s, "MAIL FROM:a@b.c\r\n"), "501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
    EXPECT_EQ(talk(s, "MAIL FROM:<a@b.c>\r\n"), "250 2.1.0 Ok\r\n");
    EXPECT_EQ(talk(s, "MAIL FROM:<a@b.c>\r\n"), "503 5.5.1 Error: nested MAIL command\r\n");
    EXPECT_EQ(talk(s, "DATA\r\n"), "554 5.5.1 Error: no valid recipients\r\n");
    EXPECT_EQ(talk(s, "RSET\r\nNOOP\r\nVRFY x\r\nFOO\r\n"),
              "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n252 2.0.0 Cannot VRFY user, but will accept "
              "message\r\n500 5.5.2 Error: command not recognized\r\n");
    EXPECT_EQ(talk(s, "STARTTLS\r\n"), "502 5.5.1 Error: command not implemented\r\n");
}

TEST(ServerSession, LimitsAtAndOnePast) {
    ServerSession s({.max_size = 10, .max_line = 40, .max_recipients = 1});
    (void)talk(s, "EHLO c\r\n");
    EXPECT_EQ(talk(s, "NOOP" + std::string(36, ' ') + "\r\n"), "250 2.0.0 Ok\r\n");  // 40
    EXPECT_EQ(talk(s, "NOOP" + std::string(37, ' ')), "500 5.5.6 Error: line too long\r\n");
    EXPECT_EQ(talk(s, "rest of it\r\nNOOP\r\n"), "250 2.0.0 Ok\r\n");  // the rest is dropped
    EXPECT_EQ(talk(s, "MAIL FROM:<a@b.c> SIZE=11\r\n"),
              "552 5.3.4 Message size exceeds fixed limit\r\n");
    EXPECT_EQ(talk(s, "MAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nRCPT TO:<w@y.z>\r\n"),
              "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n452 4.5.3 Error: too many recipients\r\n");
    EXPECT_EQ(talk(s, "DATA\r\n0123456789\r\n.\r\n"),
              "354 End data with <CR><LF>.<CR><LF>\r\n552 5.3.4 Message size exceeds fixed "
              "limit of 10 octets\r\n");
    EXPECT_FALSE(s.take_message());
    EXPECT_EQ(talk(s, "MAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nDATA\r\n01234567\r\n.\r\n"),
              "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
              "250 2.0.0 Ok: queued as M1\r\n");  // exactly 10 octets
    ASSERT_TRUE(s.take_message());
}

TEST(ServerSession, StartTlsDiscardsWhatCameWithItAndStartsOver) {
    ServerSession s({.tls_available = true});
    (void)talk(s, "");
    const std::string ehlo = talk(s, "EHLO c\r\n");
    EXPECT_NE(ehlo.find("250 STARTTLS\r\n"), std::string::npos) << ehlo;
    EXPECT_EQ(ehlo.find("AUTH"), std::string::npos) << "no AUTH before TLS";
    EXPECT_EQ(talk(s, "AUTH PLAIN AGEAYg==\r\n"),
              "538 5.7.11 Encryption required for requested authentication mechanism\r\n");
    EXPECT_EQ(talk(s, "STARTTLS\r\nMAIL FROM:<injected@evil>\r\n"),
              "220 2.0.0 Ready to start TLS\r\n");
    EXPECT_TRUE(s.tls_requested());
    EXPECT_EQ(talk(s, "NOOP\r\n"), "") << "nothing is taken before the handshake";
    s.tls_started();
    EXPECT_EQ(talk(s, "MAIL FROM:<a@b.c>\r\n"), "503 5.5.1 Error: send HELO/EHLO first\r\n");
    const std::string again = talk(s, "EHLO c\r\n");
    EXPECT_EQ(again.find("STARTTLS"), std::string::npos);
    EXPECT_NE(again.find("250 AUTH PLAIN LOGIN\r\n"), std::string::npos) << again;
}

TEST(ServerSession, AuthPlainAndLoginAcceptAnyone) {
    ServerSession s({.tls_active = true});
    (void)talk(s, "EHLO c\r\n");
    const std::string plain = missive::util::base64_encode(std::string("\0ada\0pw", 7));
    EXPECT_EQ(talk(s, "AUTH PLAIN " + plain + "\r\n"), "235 2.7.0 Authentication successful\r\n");
    EXPECT_EQ(talk(s, "AUTH PLAIN " + plain + "\r\n"),
              "503 5.5.1 Error: already authenticated\r\n");
    EXPECT_EQ(talk(s, "MAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\nx\r\n.\r\n").substr(0, 12),
              "250 2.1.0 Ok");
    EXPECT_EQ(s.take_message()->user, "ada");

    ServerSession l({.tls_active = true});
    (void)talk(l, "EHLO c\r\n");
    EXPECT_EQ(talk(l, "AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6\r\n");
    EXPECT_EQ(talk(l, missive::util::base64_encode("bob") + "\r\n"), "334 UGFzc3dvcmQ6\r\n");
    EXPECT_EQ(talk(l, missive::util::base64_encode("pw") + "\r\n"),
              "235 2.7.0 Authentication successful\r\n");
    ServerSession c({.tls_active = true});
    (void)talk(c, "EHLO c\r\n");
    EXPECT_EQ(talk(c, "AUTH PLAIN\r\n*\r\n"), "334 \r\n501 5.7.0 Authentication aborted\r\n");
    EXPECT_EQ(talk(c, "AUTH CRAM-MD5\r\n"), "504 5.5.4 Unrecognized authentication type\r\n");
}

namespace {

// Feeds `input` whole, then split at every byte, then one byte at a time, to fresh sessions;
// every way must give the same answers (returned, after the greeting) and the same number of
// messages (stored in `messages`).
std::string replay(const ServerOptions& options, const std::string& input,
                   std::size_t* messages = nullptr) {
    const auto count = [](ServerSession& s) {
        std::size_t n = 0;
        while (s.take_message()) {
            ++n;
        }
        return n;
    };
    ServerSession whole(options);
    (void)talk(whole, "");
    const std::string expected = talk(whole, input);
    const std::size_t expected_messages = count(whole);
    for (std::size_t split = 1; split < input.size(); ++split) {
        ServerSession s(options);
        (void)talk(s, "");
        std::string out = talk(s, input.substr(0, split));
        out += talk(s, input.substr(split));
        EXPECT_EQ(out, expected) << "split at " << split;
        EXPECT_EQ(count(s), expected_messages) << "split at " << split;
    }
    ServerSession bytes(options);
    (void)talk(bytes, "");
    std::string out;
    for (const char c : input) {
        out += talk(bytes, std::string(1, c));
    }
    EXPECT_EQ(out, expected) << "byte by byte";
    EXPECT_EQ(count(bytes), expected_messages) << "byte by byte";
    if (messages != nullptr) {
        *messages = expected_messages;
    }
    return expected;
}

const std::string transaction = "EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\n";
const std::string transaction_answers =
    "250-localhost\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
    "250-ENHANCEDSTATUSCODES\r\n250 CHUNKING\r\n"
    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n";

}  // namespace

// SMTP smuggling: an end of data that is not <CRLF>.<CRLF> must not end it, and the commands
// after it must not run; the message is refused at the real end (bare CR or LF, RFC 5321 2.3.8).
TEST(ServerSession, OnlyCrLfDotCrLfEndsDataAndNothingIsSmuggled) {
    const std::string smuggled =
        "MAIL FROM:<smuggled@evil.test>\r\nRCPT TO:<victim@e.f>\r\nDATA\r\nforged\r\n"
        ".\r\nQUIT\r\n";
    for (const auto& [end, refusal] : {std::pair<std::string, std::string>{"\n.\n", "bare <LF>"},
                                       {"\r.\r", "bare <CR>"},
                                       {"\r\n.\n", "bare <LF>"},
                                       {"\n.\r\n", "bare <LF>"},
                                       {"\r\n.\r\r\n", "bare <CR>"}}) {
        std::size_t messages = 99;
        const std::string out = replay({}, transaction + "hello" + end + smuggled, &messages);
        EXPECT_EQ(out, transaction_answers + "554 5.5.2 Error: " + refusal +
                           " received\r\n221 2.0.0 Bye\r\n")
            << testing::PrintToString(end);
        EXPECT_EQ(messages, 0U) << testing::PrintToString(end);
    }
}

TEST(ServerSession, BareLineEndAnywhereInTheDataRefusesTheMessageAndTheSessionGoesOn) {
    ServerSession s;
    (void)talk(s, transaction);
    EXPECT_EQ(talk(s, "line one\nline two\r\n.\r\n"), "554 5.5.2 Error: bare <LF> received\r\n");
    EXPECT_FALSE(s.take_message());
    EXPECT_EQ(talk(s, "MAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\nfine\r\n.\r\n"),
              "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
              "250 2.0.0 Ok: queued as M1\r\n");
    EXPECT_EQ(s.take_message()->data, "fine\r\n");
}

TEST(ServerSession, EmptyMessageAndDotStuffingAtEverySplit) {
    std::size_t messages = 0;
    EXPECT_EQ(replay({},
                     transaction + ".\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\n"
                                   "..\r\n...x\r\n.\r\n",
                     &messages),
              transaction_answers +
                  "250 2.0.0 Ok: queued as M1\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
                  "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as M2\r\n");
    EXPECT_EQ(messages, 2U);
    ServerSession s;
    (void)talk(s, transaction + ".\r\n");
    EXPECT_EQ(s.take_message()->data, "");
}

// A line longer than the session waits for is taken in pieces; a dot after a piece is in the
// middle of the line: neither unstuffed nor an end of data.
TEST(ServerSession, LongLineInPiecesThenDotIsContentNotTheEnd) {
    const std::string long_line(70000, 'a');
    ServerSession s;
    (void)talk(s, transaction);
    EXPECT_EQ(talk(s, long_line), "");
    EXPECT_EQ(talk(s, ".\r\nNOOP\r\n"), "");
    EXPECT_EQ(talk(s, ".\r\n"), "250 2.0.0 Ok: queued as M1\r\n");
    EXPECT_EQ(s.take_message()->data, long_line + ".\r\nNOOP\r\n");

    ServerSession t;  // a CR at the end of a piece is half of a CRLF, not a bare CR
    (void)talk(t, transaction);
    EXPECT_EQ(talk(t, long_line + "\r"), "");
    EXPECT_EQ(talk(t, "\n.\r\n"), "250 2.0.0 Ok: queued as M1\r\n");
    EXPECT_EQ(t.take_message()->data, long_line + "\r\n");
}

TEST(ServerSession, ConfirmStorageHoldsTheReplyAndTheCommandsAfterIt) {
    ServerSession s({.confirm_storage = true});
    (void)talk(s, transaction);
    EXPECT_EQ(talk(s, "x\r\n.\r\nNOOP\r\n"), "");
    EXPECT_TRUE(s.storage_pending());
    ASSERT_TRUE(s.take_message());
    s.message_not_stored();
    EXPECT_FALSE(s.storage_pending());
    EXPECT_EQ(talk(s, ""),
              "451 4.3.0 Error: message not stored, try again later\r\n"
              "250 2.0.0 Ok\r\n");
    EXPECT_EQ(talk(s, "MAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\ny\r\n.\r\n"),
              "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
    EXPECT_EQ(s.take_message()->data, "y\r\n");
    s.message_stored();
    EXPECT_EQ(talk(s, "QUIT\r\n"), "250 2.0.0 Ok: queued as M1\r\n221 2.0.0 Bye\r\n");
}
