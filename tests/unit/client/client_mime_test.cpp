// Client::send(mime::Message): the envelope from the headers, BODY=8BITMIME where it is used,
// SMTPUTF8 required for non-ASCII local parts, and a message that cannot be finished.
#include <missive/client/client.hpp>
#include <missive/client/prepare.hpp>
#include <missive/mime/builder.hpp>
#include <missive/testing/server.hpp>

#include "support/client_options.hpp"
#include "support/clients.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

using missive::errc;
using missive::Error;
using missive::client::Client;
using missive::client::Options;
using missive::mime::Builder;
using missive::testing::Conversation;
using missive::testing::Server;
using namespace std::chrono_literals;

namespace {

Options options() {
    return missive::test::client_options();
}

// A server offering `extensions` that accepts everything and keeps what it was sent.
Server accepting(const std::string& extensions) {
    return Server([extensions](Conversation& c) {
        c.send_line("220 mx.test");
        for (;;) {
            const std::string line = c.read_line();
            if (line.rfind("EHLO", 0) == 0) {
                c.send_line(extensions.empty() ? "250 mx.test" : "250-mx.test\r\n" + extensions);
            } else if (line == "DATA") {
                c.send_line("354 go");
                (void)c.read_data();
                c.send_line("250 2.0.0 queued as Q");
            } else if (line == "QUIT") {
                c.send_line("221 bye");
                return;
            } else {
                c.send_line("250 ok");
            }
        }
    });
}

}  // namespace

template <typename T>
class BothClientMime : public ::testing::Test {};

TYPED_TEST_SUITE(BothClientMime, missive::test::BothClients, missive::test::ClientNames);

TYPED_TEST(BothClientMime, EnvelopeFromTheHeadersAndNoBccInTheData) {
    Server server = accepting("");
    TypeParam c(options());
    c.connect("127.0.0.1", server.port());
    const auto r = c.send(Builder()
                              .from("Ada <ada@bücher.example>")
                              .to("Bob <bob@example.com>, carol@example.com")
                              .cc("dave@example.com")
                              .bcc("erin@example.com")
                              .subject("Hi")
                              .text("Hello")
                              .build());
    c.quit();
    EXPECT_TRUE(r.all_accepted());
    ASSERT_TRUE(server.wait_for(1));
    const std::string got = server.received();
    EXPECT_NE(got.find("MAIL FROM:<ada@xn--bcher-kva.example>\r\n"), std::string::npos) << got;
    for (const char* rcpt :
         {"bob@example.com", "carol@example.com", "dave@example.com", "erin@example.com"}) {
        EXPECT_NE(got.find(std::string("RCPT TO:<") + rcpt + ">\r\n"), std::string::npos) << rcpt;
    }
    EXPECT_EQ(got.find("Bcc"), std::string::npos);
    EXPECT_NE(got.find("\r\nDate: "), std::string::npos) << "Date added when sending";
    EXPECT_NE(got.find("\r\nMessage-ID: <"), std::string::npos);
    EXPECT_NE(got.find("@xn--bcher-kva.example>\r\n"), std::string::npos) << "id from the domain";
    EXPECT_NE(got.find("From: Ada <ada@xn--bcher-kva.example>\r\n"), std::string::npos) << got;
}

TYPED_TEST(BothClientMime, EightBitOnlyWhereOfferedAndUsed) {
    const auto message = Builder()
                             .from("a@example.org")
                             .to("b@example.org")
                             .text("Grüße aus Köln, wir sehen uns morgen früh am Bahnhof.")
                             .build();
    {
        Server server = accepting("250 8BITMIME");
        TypeParam c(options());
        c.connect("127.0.0.1", server.port());
        (void)c.send(message);
        c.quit();
        ASSERT_TRUE(server.wait_for(1));
        EXPECT_NE(server.received().find("MAIL FROM:<a@example.org> BODY=8BITMIME\r\n"),
                  std::string::npos);
        EXPECT_NE(server.received().find("Content-Transfer-Encoding: 8bit"), std::string::npos);
    }
    {
        Server server = accepting("");
        TypeParam c(options());
        c.connect("127.0.0.1", server.port());
        (void)c.send(message);
        c.quit();
        ASSERT_TRUE(server.wait_for(1));
        EXPECT_NE(server.received().find("MAIL FROM:<a@example.org>\r\n"), std::string::npos);
        EXPECT_NE(server.received().find("Content-Transfer-Encoding: quoted-printable"),
                  std::string::npos);
    }
    {
        Server server = accepting("250 8BITMIME");  // offered, but ASCII needs no 8bit
        TypeParam c(options());
        c.connect("127.0.0.1", server.port());
        (void)c.send(Builder().from("a@example.org").to("b@example.org").text("plain").build());
        c.quit();
        ASSERT_TRUE(server.wait_for(1));
        EXPECT_NE(server.received().find("MAIL FROM:<a@example.org>\r\n"), std::string::npos);
    }
}

TYPED_TEST(BothClientMime, NonAsciiLocalPartNeedsSmtputf8) {
    const auto message = Builder().from("jörg@example.org").to("b@example.org").text("x").build();
    {
        Server server = accepting("");
        TypeParam c(options());
        c.connect("127.0.0.1", server.port());
        try {
            (void)c.send(message);
            FAIL() << "sent";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), errc::invalid_input);
            EXPECT_NE(std::string(e.what()).find("SMTPUTF8"), std::string::npos) << e.what();
        }
        c.quit();
        ASSERT_TRUE(server.wait_for(1));
        EXPECT_EQ(server.received().find("MAIL"), std::string::npos) << "nothing was sent";
    }
    Server server = accepting("250 SMTPUTF8");
    TypeParam c(options());
    c.connect("127.0.0.1", server.port());
    (void)c.send(message);
    c.quit();
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_NE(server.received().find("MAIL FROM:<jörg@example.org> SMTPUTF8\r\n"),
              std::string::npos)
        << server.received();
    EXPECT_NE(server.received().find("From: jörg@example.org\r\n"), std::string::npos);
}

TYPED_TEST(BothClientMime, NoSenderOrNoRecipientIsRefusedBeforeSending) {
    Server server = accepting("");
    TypeParam c(options());
    c.connect("127.0.0.1", server.port());
    EXPECT_THROW((void)c.send(Builder().to("b@example.org").build()), Error);
    EXPECT_THROW((void)c.send(Builder().from("a@example.org").build()), Error);
    c.quit();
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_EQ(server.received().find("MAIL"), std::string::npos);
}

TYPED_TEST(BothClientMime, AttachmentThatVanishesFailsBeforeMail) {
    const auto path = std::filesystem::temp_directory_path() / "missive-client-mime.bin";
    std::ofstream(path, std::ios::binary) << "data";
    const auto message =
        Builder().from("a@example.org").to("b@example.org").attach_file(path).build();
    std::filesystem::remove(path);
    Server server = accepting("");
    TypeParam c(options());
    c.connect("127.0.0.1", server.port());
    try {
        (void)c.send(message);
        FAIL() << "sent";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::invalid_input);
    }
    c.quit();
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_EQ(server.received().find("MAIL"), std::string::npos) << "checked before MAIL";
}

// One envelope for a built message, whoever asks (Client::send, the CLI's dry run): the sender
// from Sender, else From; each recipient once; domains as A-labels.
TEST(ClientMime, EnvelopeOfAMessage) {
    const auto message = Builder()
                             .from("Ada <ada@bücher.example>")
                             .sender("list@example.org")
                             .to("bob@münchen.example, carol@example.org")
                             .cc("bob@münchen.example")
                             .bcc("dave@example.org")
                             .text("x")
                             .build();
    const missive::smtp::Envelope e = missive::client::envelope_of(message);
    EXPECT_EQ(e.from, "list@example.org");
    ASSERT_EQ(e.to.size(), 3U);
    EXPECT_EQ(e.to[0].address, "bob@xn--mnchen-3ya.example");
    EXPECT_EQ(e.to[1].address, "carol@example.org");
    EXPECT_EQ(e.to[2].address, "dave@example.org");
    const auto nobody = Builder().from("ada@example.org").text("x").build();
    EXPECT_THROW((void)missive::client::envelope_of(nobody), Error);
}
