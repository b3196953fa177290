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
