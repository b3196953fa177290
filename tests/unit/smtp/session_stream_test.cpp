// Messages in a stream on one connection (RFC 2920 3.1, RFC 3030 4.2): the next transaction
// starts before the verdict on the last, each keeps its own outcome.

#include <missive/smtp/session.hpp>

#include "support/session_driver.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using missive::errc;
using missive::smtp::Envelope;
using missive::smtp::Phase;
using missive::smtp::Protocol;
using missive::smtp::Session;
using missive::smtp::SessionOptions;
using missive::smtp::Want;
using missive::test::ready_session;
using missive::test::take_output;

namespace {

Envelope envelope(const std::string& to) {
    Envelope e;
    e.from = "alice@example.org";
    e.to.emplace_back(to);
    return e;
}

// Sends a message's data after its 354 (DATA) and ends it.
void body(Session& s, std::string_view text) {
    ASSERT_EQ(s.want(), Want::body);
    s.write_body(text);
    s.end_body();
}

}  // namespace

TEST(SessionStream, DataEndAndNextCommandsGoInOneWrite) {
    auto s = ready_session("PIPELINING");
    EXPECT_FALSE(s.can_send_next());
    s.send(envelope("bob@example.org"));
    EXPECT_FALSE(s.can_send_next());  // the data has not ended
    EXPECT_EQ(take_output(s),
              "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n");
    s.receive("250 ok\r\n250 ok\r\n354 go\r\n");
    body(s, "one\r\n");
    ASSERT_TRUE(s.can_send_next());
    s.send(envelope("carol@example.org"));
    EXPECT_FALSE(s.can_send_next());  // one verdict outstanding at most
    EXPECT_EQ(take_output(s),
              "one\r\n.\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<carol@example.org>\r\n"
              "DATA\r\n");
    EXPECT_FALSE(s.take_settled());
    EXPECT_EQ(s.phase(), Phase::data_end);
    s.receive("250 2.0.0 queued as A1\r\n");
    auto first = s.take_settled();
    ASSERT_TRUE(first);
    EXPECT_FALSE(first->error);
    EXPECT_EQ(first->result.queue_id, "A1");
    ASSERT_EQ(first->result.recipients.size(), 1U);
    EXPECT_EQ(first->result.recipients[0].address, "bob@example.org");
    EXPECT_FALSE(s.take_settled());
    s.receive("250 ok\r\n250 ok\r\n354 go\r\n");
    body(s, "two\r\n");
    EXPECT_EQ(take_output(s), "two\r\n.\r\n");
    s.receive("250 2.0.0 queued as B2\r\n");
    EXPECT_EQ(s.want(), Want::idle);
    EXPECT_FALSE(s.take_error());
    EXPECT_EQ(s.result().queue_id, "B2");
    EXPECT_EQ(s.result().recipients[0].address, "carol@example.org");
}

TEST(SessionStream, RefusalOfOneMessageDoesNotTouchTheNext) {
    auto s = ready_session("PIPELINING");
    s.send(envelope("bob@example.org"));
    (void)take_output(s);
    s.receive("250 ok\r\n250 ok\r\n354 go\r\n");
    body(s, "one\r\n");
    s.send(envelope("carol@example.org"));
    (void)take_output(s);
    s.receive("554 5.7.1 spam\r\n250 ok\r\n250 ok\r\n354 go\r\n");
    auto first = s.take_settled();
    ASSERT_TRUE(first);
    ASSERT_TRUE(first->error);
    EXPECT_EQ(first->error->kind(), errc::reply_permanent);
    EXPECT_STREQ(first->error->what(), "message refused: 554 5.7.1 spam");
    ASSERT_TRUE(first->error->report());
    EXPECT_EQ(first->error->report()->recipients[0].address, "bob@example.org");
    body(s, "two\r\n");
    (void)take_output(s);
    s.receive("250 ok\r\n");
    EXPECT_FALSE(s.take_error());
    EXPECT_TRUE(s.result().all_accepted());
    EXPECT_EQ(s.result().data_reply->code, 250);
}

TEST(SessionStream, NextMessageRefusedWhileThePriorIsAccepted) {
    auto s = ready_session("PIPELINING");
    s.send(envelope("bob@example.org"));
    (void)take_output(s);
    s.receive("250 ok\r\n250 ok\r\n354 go\r\n");
    body(s, "one\r\n");
    s.send(envelope("nobody@example.org"));
    (void)take_output(s);
    // The prior's verdict, then the next one's recipient refused and its DATA too.
    s.receive("250 queued\r\n250 ok\r\n550 5.1.1 unknown\r\n554 5.5.1 no valid recipients\r\n");
    auto first = s.take_settled();
    ASSERT_TRUE(first);
    EXPECT_FALSE(first->error);
    EXPECT_EQ(take_output(s), "RSET\r\n");
    s.receive("250 ok\r\n");
    auto e = s.take_error();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->kind(), errc::all_recipients_refused);
    EXPECT_EQ(s.want(), Want::idle);
}

TEST(SessionStream, DropAfterTheDotMakesThePriorUnknownAndTheNextLost) {
    auto s = ready_session("PIPELINING");
    s.send(envelope("bob@example.org"));
    (void)take_output(s);
    s.receive("250 ok\r\n250 ok\r\n354 go\r\n");
    body(s, "one\r\n");
    s.send(envelope("carol@example.org"));
    (void)take_output(s);
    s.receive_eof();
    auto first = s.take_settled();
    ASSERT_TRUE(first);
    ASSERT_TRUE(first->error);
    EXPECT_EQ(first->error->kind(), errc::outcome_unknown);
    auto e = s.take_error();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->kind(), errc::connection_lost);  // its data never went: safe to send again
    EXPECT_EQ(s.want(), Want::closed);
}

TEST(SessionStream, DropBeforeTheDotWasWrittenIsNotUnknown) {
    auto s = ready_session("PIPELINING");
    s.send(envelope("bob@example.org"));
    (void)take_output(s);
    s.receive("250 ok\r\n250 ok\r\n354 go\r\n");
    body(s, "one\r\n");
    s.send(envelope("carol@example.org"));
    s.consume_output(2);  // "on" of the body: the end of the data never left
    s.abort(errc::connection_lost, "connection reset");
    auto first = s.take_settled();
    ASSERT_TRUE(first);
    ASSERT_TRUE(first->error);
    EXPECT_EQ(first->error->kind(), errc::connection_lost);
}

TEST(SessionStream, ServerClosingAnswersThePrior) {
    auto s = ready_session("PIPELINING");
    s.send(envelope("bob@example.org"));
    (void)take_output(s);
    s.receive("250 ok\r\n250 ok\r\n354 go\r\n");
    body(s, "one\r\n");
    s.send(envelope("carol@example.org"));
    (void)take_output(s);
    s.receive("421 4.3.2 shutting down\r\n");
    auto first = s.take_settled();
    ASSERT_TRUE(first);
    ASSERT_TRUE(first->error);
    EXPECT_EQ(first->error->kind(), errc::reply_transient);  // refused: not delivered
    ASSERT_TRUE(first->error->reply());
    EXPECT_EQ(first->error->reply()->code, 421);
    auto e = s.take_error();
    ASSERT_TRUE(e);
    EXPECT_TRUE(e->transient());
    EXPECT_FALSE(e->outcome_unknown());
}

TEST(SessionStream, NoChainWithoutPipeliningOrAfterAFailure) {
    auto plain = ready_session("");
    plain.send(envelope("bob@example.org"));
    (void)take_output(plain);
    plain.receive("250 ok\r\n");
    (void)take_output(plain);
    plain.receive("250 ok\r\n");
    (void)take_output(plain);
    plain.receive("354 go\r\n");
    body(plain, "x\r\n");
    EXPECT_FALSE(plain.can_send_next());

    auto s = ready_session("PIPELINING");
    Envelope two = envelope("bob@example.org");
    two.to.emplace_back("nobody@example.org");
    s.send(two);
    (void)take_output(s);
    s.receive("250 ok\r\n250 ok\r\n550 unknown\r\n354 go\r\n");
    body(s, "x\r\n");
    EXPECT_TRUE(s.can_send_next());  // one refused recipient is no failure
}

TEST(SessionStream, BdatMessagesEachOneWrite) {
    auto s = ready_session("PIPELINING\nCHUNKING");
    s.send(envelope("bob@example.org"));
    body(s, "one\r\n");
    ASSERT_TRUE(s.can_send_next());
    s.send(envelope("carol@example.org"));
    EXPECT_EQ(s.want(), Want::body);  // everything waits for the next message's data
    body(s, "two\r\n");
    EXPECT_FALSE(s.can_send_next());
    EXPECT_EQ(take_output(s),
              "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\nBDAT 5 LAST\r\n"
              "one\r\n"
              "MAIL FROM:<alice@example.org>\r\nRCPT TO:<carol@example.org>\r\nBDAT 5 LAST\r\n"
              "two\r\n");
    s.receive("250 ok\r\n250 ok\r\n250 queued as A\r\n");
    auto first = s.take_settled();
    ASSERT_TRUE(first);
    EXPECT_FALSE(first->error);
    EXPECT_EQ(first->result.queue_id, "A");
    EXPECT_TRUE(s.can_send_next());  // the next may go while this one's verdict is awaited
    s.receive("250 ok\r\n550 5.1.1 unknown\r\n554 5.5.1 no valid recipients\r\n");
    auto e = s.take_error();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->kind(), errc::all_recipients_refused);
    EXPECT_EQ(s.want(), Want::idle);  // BDAT LAST answered: no RSET
    EXPECT_EQ(s.output(), "");
}

TEST(SessionStream, BdatDropAfterBothWereWrittenLeavesBothUnknown) {
    auto s = ready_session("PIPELINING\nCHUNKING");
    s.send(envelope("bob@example.org"));
    body(s, "one\r\n");
    s.send(envelope("carol@example.org"));
    body(s, "two\r\n");
    (void)take_output(s);
    s.receive("250 ok\r\n");
    s.receive_eof();
    auto first = s.take_settled();
    ASSERT_TRUE(first);
    ASSERT_TRUE(first->error);
    EXPECT_EQ(first->error->kind(), errc::outcome_unknown);
    auto e = s.take_error();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->kind(), errc::outcome_unknown);
}

TEST(SessionStream, LmtpStreamKeepsOneReplyPerRecipient) {
    SessionOptions o;
    o.protocol = Protocol::lmtp;
    auto s = ready_session("PIPELINING", o);
    Envelope two = envelope("bob@example.org");
    two.to.emplace_back("carol@example.org");
    s.send(two);
    (void)take_output(s);
    s.receive("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");
    body(s, "one\r\n");
    ASSERT_TRUE(s.can_send_next());
    s.send(envelope("dave@example.org"));
    (void)take_output(s);
    s.receive("250 bob ok\r\n452 carol over quota\r\n250 ok\r\n250 ok\r\n354 go\r\n");
    auto first = s.take_settled();
    ASSERT_TRUE(first);
    EXPECT_FALSE(first->error);
    EXPECT_EQ(first->result.accepted(), (std::vector<std::string>{"bob@example.org"}));
    body(s, "two\r\n");
    (void)take_output(s);
    s.receive("250 dave ok\r\n");
    EXPECT_FALSE(s.take_error());
    EXPECT_TRUE(s.result().all_accepted());
}
