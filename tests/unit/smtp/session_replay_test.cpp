// Every Session dialogue of the unit tests, replayed split at every byte, with the connection
// dropping at every step and with a deadline passing at every step
// (tests/support/session_replay.hpp says how).

#include "support/session_replay.hpp"

#include <missive/sasl/mechanisms.hpp>
#include <missive/smtp/session.hpp>
#include <missive/util/base64.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

using missive::errc;
using missive::sasl::Mechanism;
using missive::smtp::Envelope;
using missive::smtp::Protocol;
using missive::smtp::Session;
using missive::smtp::SessionOptions;
using missive::test::check_aborts;
using missive::test::check_drops;
using missive::test::check_splits;
using missive::test::Dialogue;

namespace {

constexpr const char* pipelining = "PIPELINING\nENHANCEDSTATUSCODES\n8BITMIME";
constexpr const char* plain = "ENHANCEDSTATUSCODES\n8BITMIME";

Envelope envelope(const std::vector<std::string>& to) {
    Envelope e;
    e.from = "alice@example.org";
    for (const auto& t : to) {
        e.to.emplace_back(t);
    }
    return e;
}

auto send_to(std::vector<std::string> to) {
    return [to = std::move(to)](Session& s) { s.send(envelope(to)); };
}

auto body(std::string bytes) {
    return [bytes = std::move(bytes)](Session& s) { s.write_body(bytes); };
}

void end(Session& s) {
    s.end_body();
}

// A SASL mechanism made afresh by each run (a run's session points at it until the next run).
template <typename Make>
auto authenticate(Make make) {
    auto holder = std::make_shared<std::unique_ptr<Mechanism>>();
    return [holder, make](Session& s) {
        *holder = make();
        s.authenticate(**holder);
    };
}

SessionOptions with_chunk_size(std::size_t n) {
    SessionOptions o;
    o.chunk_size = n;
    return o;
}

SessionOptions lmtp() {
    SessionOptions o;
    o.protocol = Protocol::lmtp;
    return o;
}

// RFC 5802 5's exchange with 16 iterations instead of 4096, which keeps thousands of replays
// fast; the proof and the server's signature were computed with Python's hashlib.
const std::string scram_first =
    "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=16";
const std::string scram_final =
    "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=T+lPO6dxruzFU8NbH1CTdrdCrzs=";

auto scram() {
    return authenticate([] {
        return missive::sasl::make_scram({"user", "pencil", ""}, missive::sasl::ScramHash::sha1,
                                         "fyko+d2lbbFgONRv9qkxdawL");
    });
}

std::vector<Dialogue> dialogues() {
    using missive::util::base64_encode;
    std::vector<Dialogue> all;

    all.push_back(Dialogue("greeting, EHLO, QUIT").greet(pipelining).quit());

    all.push_back(Dialogue("EHLO refused, HELO fallback")
                      .call(
                          "expect_greeting", [](Session& s) { s.expect_greeting(); }, "")
                      .server("220 old.example.org\r\n")
                      .call(
                          "hello", [](Session& s) { s.hello("client.example.org"); },
                          "EHLO client.example.org\r\n")
                      .server("502 5.5.2 what?\r\n", "HELO client.example.org\r\n")
                      .server("250 old.example.org\r\n")
                      .expect_ok()
                      .call(
                          "noop", [](Session& s) { s.noop(); }, "NOOP\r\n")
                      .server("250 Ok\r\n")
                      .expect_ok()
                      .quit());

    all.push_back(Dialogue("greeting refused")
                      .call(
                          "expect_greeting", [](Session& s) { s.expect_greeting(); }, "")
                      .server("554 5.3.2 no service for you\r\n")
                      .expect_error(errc::reply_permanent));

    all.push_back(
        Dialogue("pipelined send, a recipient refused")
            .greet(pipelining)
            .call("send", send_to({"bob@example.org", "nobody@example.org"}),
                  "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\n"
                  "RCPT TO:<nobody@example.org>\r\nDATA\r\n")
            .server("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n")
            .server("550 5.1.1 <nobody@example.org>: unknown\r\n354 go ahead\r\n")
            .call("body", body("Subject: hi\r\n\r\n.hello\r\n"), "Subject: hi\r\n\r\n..hello\r\n")
            .end_data("end", end, ".\r\n")
            .final_reply("250 2.0.0 Ok: queued as 4XyZ12\r\n")
            .expect_ok()
            .quit());

    all.push_back(Dialogue("non-pipelined send")
                      .greet(plain)
                      .call("send", send_to({"bob@example.org", "carol@example.org"}),
                            "MAIL FROM:<alice@example.org>\r\n")
                      .server("250 2.1.0 Ok\r\n", "RCPT TO:<bob@example.org>\r\n")
                      .server("250 2.1.5 Ok\r\n", "RCPT TO:<carol@example.org>\r\n")
                      .server("250 2.1.5 Ok\r\n", "DATA\r\n")
                      .server("354 End data with <CR><LF>.<CR><LF>\r\n")
                      .call("body", body("a\n.\nb"), "a\r\n..\r\nb")
                      .end_data("end", end, "\r\n.\r\n")
                      .final_reply("250 2.0.0 Ok: queued as Q1\r\n")
                      .expect_ok()
                      .quit());

    all.push_back(Dialogue("BDAT in chunks", with_chunk_size(4))
                      .greet("PIPELINING\nCHUNKING")
                      .call("send", send_to({"bob@example.org"}),
                            "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\n")
                      .server("250 Ok\r\n250 Ok\r\n")
                      .call("body", body("12345"), "BDAT 5\r\n12345")
                      .server("250 2.0.0 5 octets\r\n")
                      .end_data("end", end, "BDAT 2 LAST\r\n\r\n")
                      .final_reply("250 2.0.0 Ok: queued as ABC\r\n")
                      .expect_ok()
                      .quit());

    all.push_back(Dialogue("BDAT refused, RSET", with_chunk_size(2))
                      .greet("PIPELINING\nCHUNKING")
                      .call("send", send_to({"bob@example.org"}),
                            "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\n")
                      .server("250 Ok\r\n250 Ok\r\n")
                      .call("body", body("abc"), "BDAT 3\r\nabc")
                      .server("552 5.3.4 too big\r\n", "RSET\r\n")
                      .server("250 2.0.0 Ok\r\n")
                      .expect_error(errc::reply_permanent)
                      .quit());

    all.push_back(Dialogue("LMTP, one reply per accepted recipient", lmtp())
                      .greet("PIPELINING\nENHANCEDSTATUSCODES")
                      .call("send", send_to({"a@x", "b@x", "c@x"}),
                            "MAIL FROM:<alice@example.org>\r\nRCPT TO:<a@x>\r\nRCPT TO:<b@x>\r\n"
                            "RCPT TO:<c@x>\r\nDATA\r\n")
                      .server("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 no such user\r\n"
                              "250 2.1.5 Ok\r\n354 go\r\n")
                      .call("body", body("hi\r\n"), "hi\r\n")
                      .end_data("end", end, ".\r\n")
                      .server("250 2.0.0 <a@x> id1 Saved\r\n")
                      .final_reply("451 4.2.0 <c@x> Internal error\r\n")
                      .expect_ok()
                      .quit());

    all.push_back(Dialogue("LMTP, both data replies at once", lmtp())
                      .greet("PIPELINING")
                      .call("send", send_to({"a@x", "b@x"}),
                            "MAIL FROM:<alice@example.org>\r\nRCPT TO:<a@x>\r\nRCPT TO:<b@x>\r\n"
                            "DATA\r\n")
                      .server("250 Ok\r\n250 Ok\r\n250 Ok\r\n354 go\r\n")
                      .end_data("end", end, ".\r\n")
                      .final_reply("452 4.2.2 over quota\r\n452 4.2.2 over quota\r\n")
                      .expect_error(errc::reply_transient)
                      .quit());

    all.push_back(Dialogue("AUTH LOGIN with challenges")
                      .greet("AUTH LOGIN PLAIN\nENHANCEDSTATUSCODES")
                      .call("authenticate", authenticate([] {
                                return missive::sasl::make_login({"alice", "Secret123", ""});
                            }),
                            "AUTH LOGIN\r\n")
                      .server("334 VXNlcm5hbWU6\r\n", "YWxpY2U=\r\n")
                      .server("334 UGFzc3dvcmQ6\r\n", "U2VjcmV0MTIz\r\n")
                      .server("235 2.7.0 Authentication successful\r\n")
                      .expect_ok()
                      .quit());

    all.push_back(
        Dialogue("AUTH SCRAM-SHA-1")
            .greet("AUTH SCRAM-SHA-1")
            .call("authenticate", scram(),
                  "AUTH SCRAM-SHA-1 " + base64_encode("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL") +
                      "\r\n")
            .server("334 " + base64_encode(scram_first) + "\r\n",
                    base64_encode(scram_final) + "\r\n")
            .server("334 " + base64_encode("v=YOVewGz+yZPbX3nrJ1Z2W4vZjYM=") + "\r\n", "\r\n")
            .server("235 2.7.0 ok\r\n")
            .expect_ok()
            .quit());

    all.push_back(Dialogue("AUTH SCRAM-SHA-1, server unproven")
                      .greet("AUTH SCRAM-SHA-1")
                      .call("authenticate", scram(),
                            "AUTH SCRAM-SHA-1 " +
                                base64_encode("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL") + "\r\n")
                      .server("334 " + base64_encode(scram_first) + "\r\n",
                              base64_encode(scram_final) + "\r\n")
                      .server("235 2.7.0 ok\r\n")
                      .expect_error(errc::auth_failed));

    all.push_back(Dialogue("AUTH CRAM-MD5, bad challenge cancelled")
                      .greet("AUTH CRAM-MD5")
                      .call("authenticate", authenticate([] {
                                return missive::sasl::make_cram_md5({"tim", "x", ""});
                            }),
                            "AUTH CRAM-MD5\r\n")
                      .server("334 not*base64\r\n", "*\r\n")
                      .server("501 5.7.0 Authentication cancelled\r\n")
                      .expect_error(errc::auth_failed)
                      .quit());

    all.push_back(Dialogue("STARTTLS, injected bytes dropped")
                      .greet("PIPELINING\nSTARTTLS")
                      .call(
                          "starttls", [](Session& s) { s.starttls(); }, "STARTTLS\r\n")
                      .server("220 2.0.0 Ready to start TLS\r\n250-evil\r\n250 AUTH PLAIN\r\n")
                      .server("250 more injected\r\n")
                      .call(
                          "tls_established", [](Session& s) { s.tls_established(); }, "")
                      .expect_ok()
                      .call(
                          "hello", [](Session& s) { s.hello("client.example.org"); },
                          "EHLO client.example.org\r\n")
                      .server("250-mx.example.org\r\n250 PIPELINING\r\n")
                      .expect_ok()
                      .quit());

    all.push_back(Dialogue("STARTTLS refused")
                      .greet("STARTTLS")
                      .call(
                          "starttls", [](Session& s) { s.starttls(); }, "STARTTLS\r\n")
                      .server("454 4.7.0 TLS not available\r\n")
                      .expect_error(errc::reply_transient)
                      .quit());

    all.push_back(Dialogue("all recipients refused, pipelined, RSET")
                      .greet(pipelining)
                      .call("send", send_to({"x@example.org", "y@example.org"}),
                            "MAIL FROM:<alice@example.org>\r\nRCPT TO:<x@example.org>\r\n"
                            "RCPT TO:<y@example.org>\r\nDATA\r\n")
                      .server("250 2.1.0 Ok\r\n550 5.1.1 unknown\r\n450 4.2.0 try later\r\n"
                              "554 5.5.1 no valid recipients\r\n",
                              "RSET\r\n")
                      .server("250 2.0.0 Ok\r\n")
                      .expect_error(errc::all_recipients_refused)
                      .call(
                          "noop", [](Session& s) { s.noop(); }, "NOOP\r\n")
                      .server("250 2.0.0 Ok\r\n")
                      .expect_ok()
                      .quit());

    all.push_back(Dialogue("all refused, DATA accepted anyway: empty message")
                      .greet(pipelining)
                      .call("send", send_to({"x@example.org"}),
                            "MAIL FROM:<alice@example.org>\r\nRCPT TO:<x@example.org>\r\n"
                            "DATA\r\n")
                      .server("250 Ok\r\n550 5.1.1 unknown\r\n354 go\r\n", ".\r\n")
                      .server("554 5.5.1 no valid recipients\r\n")
                      .expect_error(errc::all_recipients_refused)
                      .quit());

    all.push_back(Dialogue("all recipients refused, not pipelined, RSET")
                      .greet(plain)
                      .call("send", send_to({"x@example.org"}), "MAIL FROM:<alice@example.org>\r\n")
                      .server("250 Ok\r\n", "RCPT TO:<x@example.org>\r\n")
                      .server("550 5.1.1 unknown\r\n", "RSET\r\n")
                      .server("250 Ok\r\n")
                      .expect_error(errc::all_recipients_refused)
                      .quit());

    all.push_back(Dialogue("MAIL refused, pipeline drained")
                      .greet(pipelining)
                      .call("send", send_to({"bob@example.org"}),
                            "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\n"
                            "DATA\r\n")
                      .server("553 5.7.1 sender rejected\r\n503 5.5.1 need MAIL\r\n")
                      .server("503 5.5.1 need RCPT\r\n")
                      .expect_error(errc::reply_permanent)
                      .quit());

    all.push_back(
        Dialogue("DATA refused, RSET")
            .greet(plain)
            .call("send", send_to({"bob@example.org"}), "MAIL FROM:<alice@example.org>\r\n")
            .server("250 Ok\r\n", "RCPT TO:<bob@example.org>\r\n")
            .server("250 Ok\r\n", "DATA\r\n")
            .server("451 4.3.0 not now\r\n", "RSET\r\n")
            .server("250 Ok\r\n")
            .expect_error(errc::reply_transient)
            .quit());

    all.push_back(Dialogue("message refused after the data")
                      .greet(pipelining)
                      .call("send", send_to({"bob@example.org"}),
                            "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\n"
                            "DATA\r\n")
                      .server("250 Ok\r\n250 Ok\r\n354 go\r\n")
                      .end_data("end", end, ".\r\n")
                      .final_reply("554 5.6.0 spam\r\n")
                      .expect_error(errc::reply_permanent)
                      .call("send again", send_to({"bob@example.org"}),
                            "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\n"
                            "DATA\r\n")
                      .server("250 Ok\r\n250 Ok\r\n354 go\r\n")
                      .call("body", body("x"), "x")
                      .end_data("end", end, "\r\n.\r\n")
                      .final_reply("250 Ok: queued as Q2\r\n")
                      .expect_ok()
                      .quit());

    all.push_back(Dialogue("421 in the middle of a pipeline")
                      .greet(pipelining)
                      .call("send", send_to({"bob@example.org"}),
                            "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\n"
                            "DATA\r\n")
                      .server("250 Ok\r\n421 4.3.2 shutting down\r\n")
                      .expect_error(errc::reply_transient));

    all.push_back(Dialogue("step by step: MAIL, RCPT, DATA")
                      .greet(pipelining)
                      .call(
                          "mail", [](Session& s) { s.mail("alice@example.org"); },
                          "MAIL FROM:<alice@example.org>\r\n")
                      .server("250 Ok\r\n")
                      .expect_ok()
                      .call(
                          "rcpt", [](Session& s) { s.rcpt("bob@example.org"); },
                          "RCPT TO:<bob@example.org>\r\n")
                      .server("550 5.1.1 unknown\r\n")
                      .expect_error(errc::reply_permanent)
                      .call(
                          "rcpt", [](Session& s) { s.rcpt("carol@example.org"); },
                          "RCPT TO:<carol@example.org>\r\n")
                      .server("250 Ok\r\n")
                      .call(
                          "data", [](Session& s) { s.data(); }, "DATA\r\n")
                      .server("354 go\r\n")
                      .call("body", body(".x"), "..x")
                      .end_data("end", end, "\r\n.\r\n")
                      .final_reply("250 Ok: queued as Q1\r\n")
                      .expect_ok()
                      .quit());

    all.push_back(Dialogue("simple commands")
                      .greet(pipelining)
                      .call(
                          "verify", [](Session& s) { s.verify("bob"); }, "VRFY bob\r\n")
                      .server("252 2.0.0 maybe\r\n")
                      .expect_ok()
                      .call(
                          "help", [](Session& s) { s.help(); }, "HELP\r\n")
                      .server("214-2.0.0 Commands:\r\n214 2.0.0 HELO EHLO MAIL\r\n")
                      .expect_ok()
                      .call(
                          "reset", [](Session& s) { s.reset(); }, "RSET\r\n")
                      .server("250 2.0.0 Ok\r\n")
                      .expect_ok()
                      .quit());

    all.push_back(Dialogue("QUIT answered by a close").greet(plain).quit(""));

    all.push_back(Dialogue("greeting with a wrong code")
                      .call(
                          "expect_greeting", [](Session& s) { s.expect_greeting(); }, "")
                      .server("250 hello\r\n")
                      .expect_error(errc::protocol));

    all.push_back(Dialogue("EHLO refused outright")
                      .call(
                          "expect_greeting", [](Session& s) { s.expect_greeting(); }, "")
                      .server("220 mx.example.org\r\n")
                      .call(
                          "hello", [](Session& s) { s.hello("client.example.org"); },
                          "EHLO client.example.org\r\n")
                      .server("550 5.7.1 go away\r\n")
                      .expect_error(errc::reply_permanent)
                      .quit());

    all.push_back(Dialogue("LHLO refused: no HELO for LMTP", lmtp())
                      .call(
                          "expect_greeting", [](Session& s) { s.expect_greeting(); }, "")
                      .server("220 lmtp.example.org LMTP\r\n")
                      .call(
                          "hello", [](Session& s) { s.hello("client.example.org"); },
                          "LHLO client.example.org\r\n")
                      .server("500 5.5.1 what?\r\n")
                      .expect_error(errc::reply_permanent)
                      .quit());

    all.push_back(Dialogue("reply of the wrong class: 354 to RCPT")
                      .greet(pipelining)
                      .call("send", send_to({"bob@example.org"}),
                            "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\n"
                            "DATA\r\n")
                      .server("250 Ok\r\n354 go\r\n")
                      .expect_error(errc::protocol));

    std::vector<std::string> seven;
    std::string refusals = "250 2.1.0 Ok\r\n";
    std::string rcpt_lines;
    for (int i = 0; i < 7; ++i) {
        seven.push_back("u" + std::to_string(i) + "@x");
        refusals += "550 5.1.1 no\r\n";
        rcpt_lines += "RCPT TO:<u" + std::to_string(i) + "@x>\r\n";
    }
    all.push_back(Dialogue("seven recipients refused")
                      .greet(pipelining)
                      .call("send", send_to(seven),
                            "MAIL FROM:<alice@example.org>\r\n" + rcpt_lines + "DATA\r\n")
                      .server(refusals + "554 5.5.1 no valid recipients\r\n", "RSET\r\n")
                      .server("250 2.0.0 Ok\r\n")
                      .expect_error(errc::all_recipients_refused)
                      .quit());

    all.push_back(Dialogue("AUTH LOGIN by hand with command()")
                      .greet("AUTH LOGIN")
                      .call(
                          "command", [](Session& s) { s.command("AUTH LOGIN"); }, "AUTH LOGIN\r\n")
                      .server("334 VXNlcm5hbWU6\r\n")
                      .expect_ok()
                      .call(
                          "command", [](Session& s) { s.command("YWxpY2U="); }, "YWxpY2U=\r\n")
                      .server("334 UGFzc3dvcmQ6\r\n")
                      .call(
                          "command", [](Session& s) { s.command("c2VjcmV0"); }, "c2VjcmV0\r\n")
                      .server("235 2.7.0 ok\r\n")
                      .expect_ok()
                      .quit());

    all.push_back(Dialogue("421 instead of the greeting")
                      .call(
                          "expect_greeting", [](Session& s) { s.expect_greeting(); }, "")
                      .server("421 4.3.2 too busy\r\n")
                      .expect_error(errc::reply_transient));

    all.push_back(Dialogue("AUTH PLAIN, initial response")
                      .greet("AUTH PLAIN LOGIN\nENHANCEDSTATUSCODES")
                      .call("authenticate", authenticate([] {
                                return missive::sasl::make_plain({"alice", "Secret123", ""});
                            }),
                            "AUTH PLAIN AGFsaWNlAFNlY3JldDEyMw==\r\n")
                      .server("235 2.7.0 Logged in.\r\n")
                      .expect_ok()
                      .quit());

    const std::string token(600, 't');
    all.push_back(Dialogue("AUTH XOAUTH2, initial response too long for the line")
                      .greet("AUTH XOAUTH2")
                      .call("authenticate", authenticate([token] {
                                return missive::sasl::make_xoauth2({"u@example.com", token, ""});
                            }),
                            "AUTH XOAUTH2\r\n")
                      .server("334 \r\n", base64_encode("user=u@example.com\x01"
                                                        "auth=Bearer " +
                                                        token + "\x01\x01") +
                                              "\r\n")
                      .server("235 2.7.0 Accepted\r\n")
                      .expect_ok()
                      .quit());

    all.push_back(Dialogue("BDAT, BINARYMIME and an empty message")
                      .greet("PIPELINING\nCHUNKING\nBINARYMIME")
                      .call(
                          "send",
                          [](Session& s) {
                              Envelope e = envelope({"bob@example.org"});
                              e.params.body = missive::smtp::BodyType::binary_mime;
                              s.send(e);
                          },
                          "MAIL FROM:<alice@example.org> BODY=BINARYMIME\r\n"
                          "RCPT TO:<bob@example.org>\r\n")
                      .server("250 Ok\r\n250 Ok\r\n")
                      .call("body", body(std::string("a\n\0\r", 4)), "")
                      .end_data("end", end, std::string("BDAT 4 LAST\r\na\n\0\r", 17))
                      .final_reply("250 2.0.0 Ok: queued as B1\r\n")
                      .expect_ok()
                      .call("send", send_to({"bob@example.org"}),
                            "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\n")
                      .server("250 Ok\r\n250 Ok\r\n")
                      .end_data("end", end, "BDAT 0 LAST\r\n")
                      .final_reply("250 2.0.0 Ok: queued as B2\r\n")
                      .expect_ok()
                      .quit());

    return all;
}

}  // namespace

TEST(SessionReplay, EveryDialogueSplitAtEveryByte) {
    std::size_t runs = 0;
    const auto all = dialogues();
    for (const auto& d : all) {
        runs += check_splits(d);
    }
    RecordProperty("runs", static_cast<int>(runs));
    std::cout << "[          ] " << all.size() << " dialogues, " << runs << " split runs\n";
}

TEST(SessionReplay, EveryDialogueWithTheConnectionDroppingAtEveryStep) {
    std::size_t runs = 0;
    const auto all = dialogues();
    for (const auto& d : all) {
        runs += check_drops(d);
    }
    RecordProperty("runs", static_cast<int>(runs));
    std::cout << "[          ] " << all.size() << " dialogues, " << runs << " drops\n";
}

TEST(SessionReplay, EveryDialogueWithADeadlinePassingAtEveryStep) {
    std::size_t runs = 0;
    const auto all = dialogues();
    for (const auto& d : all) {
        runs += check_aborts(d);
    }
    RecordProperty("runs", static_cast<int>(runs));
    std::cout << "[          ] " << all.size() << " dialogues, " << runs << " aborts\n";
}
