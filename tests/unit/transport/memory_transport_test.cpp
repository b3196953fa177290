#include <missive/error.hpp>
#include <missive/mime/builder.hpp>
#include <missive/testing/memory_transport.hpp>

#include <gtest/gtest.h>

#include <thread>

using missive::errc;
using missive::Error;
using missive::testing::MemoryTransport;

TEST(MemoryTransport, RecordsWhatWasSent) {
    MemoryTransport t;
    const auto result = t.send({.from = "ada@example.org", .to = {"bob@example.com"}},
                               "Subject: hi\r\n\r\nbody\r\n");
    EXPECT_TRUE(result.all_accepted());
    EXPECT_EQ(result.queue_id, "memory-1");
    ASSERT_EQ(result.recipients.size(), 1U);
    EXPECT_EQ(result.recipients[0].reply.to_string(), "250 2.1.5 OK");
    const auto sent = t.messages();
    ASSERT_EQ(sent.size(), 1U);
    EXPECT_EQ(sent[0].envelope.from, "ada@example.org");
    EXPECT_EQ(sent[0].envelope.to[0].address, "bob@example.com");
    EXPECT_EQ(sent[0].text, "Subject: hi\r\n\r\nbody\r\n");
}

TEST(MemoryTransport, ABuiltMessageIsSerializedWithoutBcc) {
    MemoryTransport t;
    (void)t.send(missive::mime::Builder()
                     .from("ada@example.org")
                     .to("bob@example.com")
                     .bcc("audit@example.org")
                     .subject("Report")
                     .text("hello")
                     .build());
    const auto sent = t.messages();
    ASSERT_EQ(sent.size(), 1U);
    ASSERT_EQ(sent[0].envelope.to.size(), 2U);
    EXPECT_EQ(sent[0].envelope.to[1].address, "audit@example.org");
    EXPECT_NE(sent[0].text.find("Subject: Report\r\n"), std::string::npos) << sent[0].text;
    EXPECT_NE(sent[0].text.find("Message-ID: <"), std::string::npos) << sent[0].text;
    EXPECT_EQ(sent[0].text.find("audit@"), std::string::npos) << sent[0].text;
}

TEST(MemoryTransport, RefusesSomeRecipientsAsAServerWould) {
    MemoryTransport t;
    t.refuse("carol@example.com");
    const auto some =
        t.send({.from = "a@example.org", .to = {"bob@example.com", "carol@example.com"}}, "x\r\n");
    EXPECT_EQ(some.accepted(), std::vector<std::string>{"bob@example.com"});
    EXPECT_EQ(some.refused(), std::vector<std::string>{"carol@example.com"});
    EXPECT_EQ(some.recipients[1].reply.to_string(), "550 5.1.1 mailbox unavailable");
    try {
        (void)t.send({.from = "a@example.org", .to = {"carol@example.com"}}, "x\r\n");
        FAIL() << "all refused is an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::all_recipients_refused);
        EXPECT_STREQ(e.what(),
                     "all 1 recipient refused: <carol@example.com>: 550 5.1.1 mailbox unavailable");
        EXPECT_TRUE(e.permanent());
        ASSERT_TRUE(e.report());
        EXPECT_EQ(e.report()->refused(), std::vector<std::string>{"carol@example.com"});
    }
    EXPECT_EQ(t.messages().size(), 1U);  // the refused one is not kept
}

TEST(MemoryTransport, FailsWithTheErrorItWasGiven) {
    MemoryTransport t;
    t.fail_with(Error(errc::reply_transient, "MAIL FROM:<a@example.org> refused: 451 4.3.0 later",
                      {.reply = missive::smtp::Reply{451, {}, {"later"}}}));
    try {
        (void)t.send({.from = "a@example.org", .to = {"b@example.org"}}, "x\r\n");
        FAIL() << "fail_with makes send throw";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::reply_transient);
        EXPECT_TRUE(e.transient());
    }
    t.clear();
    EXPECT_NO_THROW((void)t.send({.from = "a@example.org", .to = {"b@example.org"}}, "x\r\n"));
    EXPECT_EQ(t.messages().size(), 1U);
}

TEST(MemoryTransport, RefusesWhatSmtpWouldRefuse) {
    MemoryTransport t;
    for (const missive::smtp::Envelope& e :
         {missive::smtp::Envelope{.from = "a@example.org", .to = {}},
          missive::smtp::Envelope{.from = "a@example.org", .to = {"b@example.org\r\nRSET"}},
          missive::smtp::Envelope{.from = "a@example.org\n", .to = {"b@example.org"}}}) {
        try {
            (void)t.send(e, "x\r\n");
            ADD_FAILURE() << "accepted a bad envelope";
        } catch (const Error& error) {
            EXPECT_EQ(error.kind(), errc::invalid_input) << error.what();
        }
    }
    EXPECT_TRUE(t.messages().empty());
}

TEST(MemoryTransport, ManyThreadsMaySendAtOnce) {
    MemoryTransport t;
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&t] {
            for (int n = 0; n < 100; ++n) {
                (void)t.send({.from = "a@example.org", .to = {"b@example.org"}}, "x\r\n");
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    EXPECT_EQ(t.messages().size(), 400U);
}
