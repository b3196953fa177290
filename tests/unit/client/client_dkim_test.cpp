// Client::send signs with Options::dkim on every path: a built message, a message in memory, a
// stream that can seek (read twice) and one that cannot (spooled). The fields come first, the
// message follows unchanged, and SIZE= counts both. Independent verification (dkimpy) of what
// the missive binary sends is tests/integration/check/dkim_send_e2e.py.
#include <missive/client/client.hpp>
#include <missive/dkim/signer.hpp>
#include <missive/mime/builder.hpp>
#include <missive/testing/server.hpp>

#include "support/clients.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <streambuf>
#include <string>

using missive::client::Client;
using missive::client::Options;
using missive::testing::Conversation;
using missive::testing::Server;
using namespace std::chrono_literals;

namespace {

struct Received {
    std::string mail;
    std::string data;
};

// Accepts one transaction and keeps its MAIL line and data (dot-stuffing undone).
Server accepting(Received& got) {
    return Server([&got](Conversation& c) {
        c.send_line("220 mx.test");
        for (;;) {
            const std::string line = c.read_line();
            if (line.rfind("EHLO", 0) == 0) {
                c.send_line("250-mx.test\r\n250 SIZE 10000000");
            } else if (line.rfind("MAIL", 0) == 0) {
                got.mail = line;
                c.send_line("250 ok");
            } else if (line == "DATA") {
                c.send_line("354 go");
                got.data = c.read_data();
                c.send_line("250 queued");
            } else if (line == "QUIT") {
                c.send_line("221 bye");
                return;
            } else {
                c.send_line("250 ok");
            }
        }
    });
}

Options signing() {
    Options o;
    o.local_name = "client.test";
    o.command_timeout = 5s;
    for (const auto& [type, selector] : {std::pair{missive::dkim::KeyType::ed25519, "ed"},
                                         std::pair{missive::dkim::KeyType::rsa, "rs"}}) {
        missive::dkim::SignerOptions so;
        so.domain = "example.org";
        so.selector = selector;
        o.dkim.emplace_back(missive::dkim::PrivateKey::generate(type, 1024), so);
    }
    return o;
}

constexpr std::string_view ready =
    "From: ada@example.org\r\nTo: bob@example.org\r\nSubject: hi\r\n\r\nHello.\r\n";

// The data holds two DKIM-Signature fields (Ed25519 first), then `message` exactly.
void expect_signed(const Received& got, std::string_view message) {
    ASSERT_EQ(got.data.rfind("DKIM-Signature: v=1; a=ed25519-sha256;", 0), 0U) << got.data;
    const auto rsa = got.data.find("\r\nDKIM-Signature: v=1; a=rsa-sha256;");
    ASSERT_NE(rsa, std::string::npos) << got.data;
    const auto from = got.data.find("\r\nFrom:", rsa);
    ASSERT_NE(from, std::string::npos);
    EXPECT_EQ(got.data.substr(from + 2), message);
    EXPECT_NE(got.mail.find(" SIZE=" + std::to_string(got.data.size())), std::string::npos)
        << got.mail;
}

// Gives its text in small pieces and cannot seek, as a pipe.
class PipeBuf : public std::streambuf {
public:
    explicit PipeBuf(std::string_view text)
        : text_(text) {}

protected:
    int_type underflow() override {
        if (text_.empty()) {
            return traits_type::eof();
        }
        const std::size_t n = std::min<std::size_t>(7, text_.size());
        text_.copy(chunk_, n);
        text_.remove_prefix(n);
        setg(chunk_, chunk_, chunk_ + n);
        return traits_type::to_int_type(chunk_[0]);
    }

private:
    std::string_view text_;
    char chunk_[8]{};
};

}  // namespace

template <typename T>
class BothClientDkim : public ::testing::Test {};

TYPED_TEST_SUITE(BothClientDkim, missive::test::BothClients, missive::test::ClientNames);

TYPED_TEST(BothClientDkim, MessageInMemoryIsSigned) {
    Received got;
    Server server = accepting(got);
    TypeParam c(signing());
    c.connect("127.0.0.1", server.port());
    (void)c.send({.from = "ada@example.org", .to = {"bob@example.org"}, .params = {}}, ready);
    c.quit();
    expect_signed(got, ready);
}

TYPED_TEST(BothClientDkim, SeekableStreamIsReadTwice) {
    Received got;
    Server server = accepting(got);
    TypeParam c(signing());
    c.connect("127.0.0.1", server.port());
    std::istringstream in{std::string(ready)};
    (void)c.send({.from = "ada@example.org", .to = {"bob@example.org"}, .params = {}}, in);
    c.quit();
    expect_signed(got, ready);
}

TYPED_TEST(BothClientDkim, StreamThatCannotSeekIsSpooled) {
    Received got;
    Server server = accepting(got);
    TypeParam c(signing());
    c.connect("127.0.0.1", server.port());
    PipeBuf pipe(ready);
    std::istream in(&pipe);
    ASSERT_EQ(in.tellg(), std::istream::pos_type(-1));
    (void)c.send({.from = "ada@example.org", .to = {"bob@example.org"}, .params = {}}, in);
    c.quit();
    expect_signed(got, ready);
}

TYPED_TEST(BothClientDkim, BuiltMessageIsSignedOverWhatIsSent) {
    Received got;
    Server server = accepting(got);
    TypeParam c(signing());
    c.connect("127.0.0.1", server.port());
    const auto message = missive::mime::Builder()
                             .from("Ada <ada@example.org>")
                             .to("bob@example.org")
                             .subject("Grüße")
                             .text("Hello\n")
                             .attach(std::string(5000, 'z'), "z.txt")
                             .build();
    (void)c.send(message);
    c.quit();
    ASSERT_EQ(got.data.rfind("DKIM-Signature: v=1; a=ed25519-sha256;", 0), 0U);
    EXPECT_NE(got.data.find("\r\nDKIM-Signature: v=1; a=rsa-sha256;"), std::string::npos);
    // h= names the fields the message has, From first among the defaults.
    EXPECT_NE(got.data.find("h=From"), std::string::npos) << got.data.substr(0, 600);
    EXPECT_NE(got.mail.find(" SIZE=" + std::to_string(got.data.size())), std::string::npos)
        << got.mail;
}

// A message DKIM cannot sign (no From) fails before anything is sent.
TYPED_TEST(BothClientDkim, UnsignableMessageIsRefusedBeforeMail) {
    Received got;
    Server server = accepting(got);
    TypeParam c(signing());
    c.connect("127.0.0.1", server.port());
    try {
        (void)c.send({.from = "ada@example.org", .to = {"bob@example.org"}, .params = {}},
                     "Subject: no from\r\n\r\nbody\r\n");
        ADD_FAILURE() << "no error";
    } catch (const missive::Error& e) {
        EXPECT_EQ(e.kind(), missive::errc::invalid_input) << e.what();
    }
    c.quit();
    EXPECT_TRUE(got.mail.empty());
}
