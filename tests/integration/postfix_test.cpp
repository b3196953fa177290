// Integration tests against real Postfix (smtpd) and smtp-sink, started on loopback ports by
// tests/integration/scripts/ through ctest fixtures. Messages are checked where the server put
// them, and by Python's email package (tests/integration/check/parse_message.py).
#include <missive/mime/builder.hpp>
#include <missive/mime/serializer.hpp>
#include <missive/missive.hpp>

#include "support.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>

namespace fs = std::filesystem;
using namespace missive::integration;
using missive::errc;
using missive::Error;
using missive::client::Client;
using missive::client::Options;
using missive::smtp::Envelope;
using namespace std::chrono_literals;

namespace {

// Runs Python's email package over a delivered file: it must parse without defects and have
// the expected subject and body text.
void check_with_python(const fs::path& file, const std::string& subject, const std::string& body) {
    const std::string script =
        std::string(MISSIVE_SOURCE_DIR) + "/tests/integration/check/parse_message.py";
    const std::string cmd =
        "python3 '" + script + "' '" + file.string() + "' '" + subject + "' '" + body + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;  // NOLINT(concurrency-mt-unsafe)
}

Options options() {
    Options o;
    o.local_name = "client.missive.test";
    o.command_timeout = 10s;
    o.data_block_timeout = o.final_reply_timeout = 20s;
    // Postfix offers STARTTLS, which the default (opportunistic) policy takes, verifying the
    // certificate: it is signed by the CA the fixture made.
    o.tls_options.ca_file = setting("MISSIVE_TEST_CA_FILE");
    return o;
}

std::string message(const std::string& token, const std::string& body) {
    return "From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: " + token +
           "\r\nMessage-ID: <" + token + "@missive.test>\r\n\r\n" + body;
}

}  // namespace

class SmtpSink : public ::testing::TestWithParam<const char*> {};

TEST_P(SmtpSink, DeliversDotStuffedMessage) {
    const std::uint16_t port = port_of(GetParam());
    REQUIRE_SERVER(port);
    const std::string token = unique_token();
    // Lines that start with a dot, and a bare-LF "." line that must not end the data early.
    const std::string body =
        ".leading dot\r\n..two dots\r\nbare\n.\nstill body\r\nend " + token + "\r\n";
    Client c(options());
    c.connect("127.0.0.1", port);
    EXPECT_EQ(c.capabilities().pipelining(),
              std::string(GetParam()).find("NOPIPE") == std::string::npos);
    auto r = c.send({.from = "alice@example.org", .to = {"bob@example.com", "carol@example.com"}},
                    message(token, body));
    c.quit();
    EXPECT_TRUE(r.all_accepted());
    EXPECT_EQ(r.data_reply->code, 250);
    const std::string dump_dir =
        std::string(GetParam()) == "MISSIVE_TEST_SINK_PORT" ? "/sink" : "/sink_nopipe";
    const auto files = find_delivered(setting("MISSIVE_TEST_DIR") + dump_dir, token, 1);
    ASSERT_EQ(files.size(), 1U);
    const std::string dump = read_file(files[0]);
    EXPECT_NE(dump.find("X-Rcpt-Args: <bob@example.com>"), std::string::npos) << dump;
    EXPECT_NE(dump.find("X-Rcpt-Args: <carol@example.com>"), std::string::npos) << dump;
    // smtp-sink undoes the dot-stuffing and writes LF line ends.
    EXPECT_NE(dump.find("\n.leading dot\n..two dots\nbare\n.\nstill body\nend " + token + "\n"),
              std::string::npos)
        << dump;
}

INSTANTIATE_TEST_SUITE_P(Variants, SmtpSink,
                         ::testing::Values("MISSIVE_TEST_SINK_PORT",
                                           "MISSIVE_TEST_SINK_NOPIPE_PORT"));

TEST(SmtpSink, ManyMessagesOnOneConnection) {
    const std::uint16_t port = port_of("MISSIVE_TEST_SINK_PORT");
    REQUIRE_SERVER(port);
    const std::string token = unique_token();
    Client c(options());
    c.connect("127.0.0.1", port);
    for (int i = 0; i < 20; ++i) {
        auto r = c.send({.from = "alice@example.org", .to = {"bob@example.com"}},
                        message(token, "message " + std::to_string(i) + "\r\n"));
        EXPECT_TRUE(r.all_accepted());
    }
    c.quit();
    EXPECT_EQ(find_delivered(setting("MISSIVE_TEST_DIR") + "/sink", token, 20).size(), 20U);
}

TEST(SmtpSink, Lmtp) {
    const std::uint16_t port = port_of("MISSIVE_TEST_SINK_LMTP_PORT");
    REQUIRE_SERVER(port);
    const std::string token = unique_token();
    std::vector<std::string> trace;
    Options o = options();
    o.protocol = missive::smtp::Protocol::lmtp;
    o.trace = [&](missive::smtp::Direction, std::string_view line) { trace.emplace_back(line); };
    Client c(o);
    c.connect("127.0.0.1", port);
    auto r = c.send({.from = "alice@example.org", .to = {"bob@example.com", "carol@example.com"}},
                    message(token, "lmtp\r\n"));
    c.quit();
    EXPECT_EQ(trace.at(1), "LHLO client.missive.test");
    ASSERT_EQ(r.recipients.size(), 2U);
    EXPECT_TRUE(r.all_accepted());
    // After the data, LMTP answers once per recipient; each is recorded as that recipient's
    // reply: smtp-sink's "250 2.2.0 Ok", not RCPT's "250 2.1.5 Ok".
    EXPECT_EQ(r.recipients[0].reply.enhanced->to_string(), "2.2.0");
    EXPECT_EQ(r.recipients[1].reply.enhanced->to_string(), "2.2.0");
    EXPECT_EQ(find_delivered(setting("MISSIVE_TEST_DIR") + "/sink_lmtp", token, 1).size(), 1U);
}

class Postfix : public ::testing::TestWithParam<const char*> {};

TEST_P(Postfix, DeliversAndReportsEachRecipient) {
    const std::uint16_t port = port_of(GetParam());
    REQUIRE_SERVER(port);
    const bool full = std::string(GetParam()) == "MISSIVE_TEST_POSTFIX_PORT";
    const std::string token = unique_token();
    std::vector<std::string> trace;
    Options o = options();
    o.trace = [&](missive::smtp::Direction d, std::string_view line) {
        trace.push_back((d == missive::smtp::Direction::client ? "C: " : "S: ") +
                        std::string(line));
    };
    Client c(o);
    c.connect("127.0.0.1", port);
    EXPECT_EQ(c.capabilities().chunking(), full);
    EXPECT_EQ(c.capabilities().pipelining(), full);
    EXPECT_EQ(c.capabilities().max_size(), 10240000U);
    const std::string body = "Hello Bob.\r\n.dot line\r\n" + token + "\r\n";
    auto r = c.send({.from = "alice@example.org",
                     .to = {"bob@example.com", "rej@example.com", "tmp@example.com"}},
                    message(token, body));
    c.quit();
    ASSERT_EQ(r.recipients.size(), 3U);
    EXPECT_TRUE(r.recipients[0].accepted);
    EXPECT_FALSE(r.recipients[1].accepted);
    EXPECT_EQ(r.recipients[1].reply.code, 550);
    EXPECT_EQ(r.recipients[1].reply.enhanced->to_string(), "5.1.1");
    EXPECT_FALSE(r.recipients[2].accepted);
    EXPECT_EQ(r.recipients[2].reply.code, 450);
    EXPECT_FALSE(r.queue_id.empty());
    // BDAT where CHUNKING is offered, DATA elsewhere.
    const bool used_bdat = std::any_of(trace.begin(), trace.end(), [](const std::string& l) {
        return l.rfind("C: BDAT ", 0) == 0;
    });
    EXPECT_EQ(used_bdat, full);
    const auto files = find_delivered(setting("MISSIVE_TEST_DIR") + "/mail", token, 1);
    ASSERT_EQ(files.size(), 1U);
    const std::string delivered = read_file(files[0]);
    EXPECT_NE(delivered.find("Hello Bob.\n.dot line\n" + token + "\n"), std::string::npos)
        << delivered;
    EXPECT_NE(delivered.find("Delivered-To: bob@example.com"), std::string::npos);
    check_with_python(files[0], token, "Hello Bob.\n.dot line\n" + token + "\n");
}

INSTANTIATE_TEST_SUITE_P(Variants, Postfix,
                         ::testing::Values("MISSIVE_TEST_POSTFIX_PORT",
                                           "MISSIVE_TEST_POSTFIX_PLAIN_PORT"));

TEST(Postfix, AllRecipientsRefused) {
    const std::uint16_t port = port_of("MISSIVE_TEST_POSTFIX_PORT");
    REQUIRE_SERVER(port);
    Client c(options());
    c.connect("127.0.0.1", port);
    try {
        (void)c.send({.from = "alice@example.org", .to = {"rej@example.com"}},
                     "Subject: x\r\n\r\n");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::all_recipients_refused);
        EXPECT_TRUE(e.permanent());
        EXPECT_TRUE(e.connection_usable());
    }
    EXPECT_EQ(c.noop().code, 250);  // RSET left the connection usable
    c.quit();
}

TEST(Postfix, OversizedMessageRefusedBeforeSending) {
    const std::uint16_t port = port_of("MISSIVE_TEST_POSTFIX_PORT");
    REQUIRE_SERVER(port);
    std::size_t sent = 0;
    Options o = options();
    o.observer = [&](const missive::client::Event& e) {
        if (e.kind == missive::client::EventKind::bytes_sent) {
            sent += e.bytes;
        }
    };
    Client c(o);
    c.connect("127.0.0.1", port);
    (void)c.capabilities();
    const std::size_t before = sent;
    const std::string big(10240001, 'x');
    try {
        (void)c.send({.from = "alice@example.org", .to = {"bob@example.com"}}, big);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::message_too_large);
    }
    EXPECT_EQ(sent, before);
    c.quit();
}

TEST(Postfix, LargeMessageStreamed) {
    const std::uint16_t port = port_of("MISSIVE_TEST_POSTFIX_PLAIN_PORT");
    REQUIRE_SERVER(port);
    const std::string token = unique_token();
    std::string body;
    for (int i = 0; body.size() < 5'000'000; ++i) {
        body += (i % 7 == 0 ? "." : "") + std::to_string(i) + " the quick brown fox\r\n";
    }
    std::istringstream in(message(token, body));
    Client c(options());
    c.connect("127.0.0.1", port);
    auto r = c.send({.from = "alice@example.org", .to = {"bob@example.com"}}, in);
    c.quit();
    EXPECT_TRUE(r.all_accepted());
    const auto files = find_delivered(setting("MISSIVE_TEST_DIR") + "/mail", token, 1, 30s);
    ASSERT_EQ(files.size(), 1U);
    std::string lf_body;
    for (char ch : body) {
        if (ch != '\r') {
            lf_body += ch;
        }
    }
    EXPECT_NE(read_file(files[0]).find(lf_body), std::string::npos);
}

TEST(Postfix, OneCallSend) {
    const std::uint16_t port = port_of("MISSIVE_TEST_POSTFIX_PORT");
    REQUIRE_SERVER(port);
    const std::string token = unique_token();
    auto r = missive::send("127.0.0.1:" + std::to_string(port),
                           {.from = "alice@example.org", .to = {"bob@example.com"}},
                           message(token, "one call\r\n"), options());
    EXPECT_TRUE(r.all_accepted());
    EXPECT_EQ(find_delivered(setting("MISSIVE_TEST_DIR") + "/mail", token, 1).size(), 1U);
}

// A message built with mime::Builder goes through Postfix and arrives as it was built: Python's
// email package reads the delivered copy and the serializer's own output alike.
class PostfixMime : public ::testing::TestWithParam<const char*> {};

TEST_P(PostfixMime, BuiltMessageArrivesIntact) {
    const std::uint16_t port = port_of(GetParam());
    REQUIRE_SERVER(port);
    const std::string token = unique_token();
    const fs::path dir = fs::path(setting("MISSIVE_TEST_DIR")) / ("mime-" + token);
    fs::create_directories(dir);
    std::string binary(300 * 1024, '\0');
    std::mt19937 gen(5);
    for (char& ch : binary) {
        ch = static_cast<char>(gen() & 0xFF);
    }
    std::ofstream(dir / "data.bin", std::ios::binary) << binary;
    const auto message =
        missive::mime::Builder()
            .from("Ålice Ünger <alice@example.org>")
            .to("Bob 🐝 <bob@example.com>")
            .bcc("carol@example.com")
            .subject("Grüße, 日本語, مرحبا, 🎉 " + token)
            .header("X-Token", token)
            .text("Hallo Bob,\nschöne Grüße.\n.a line with a dot\n")
            .html("<p>Hallo <img src=\"cid:pic\"></p>")
            .inline_data(binary.substr(0, 1000), "pic", "image/png")
            .attach_file(dir / "data.bin", {.filename = "Jahresübersicht 2026.bin"})
            .build();
    Client c(options());
    c.connect("127.0.0.1", port);
    const auto r = c.send(message);
    c.quit();
    ASSERT_EQ(r.recipients.size(), 2U);
    EXPECT_TRUE(r.all_accepted());
    const auto files = find_delivered(setting("MISSIVE_TEST_DIR") + "/mail", token, 2);
    ASSERT_EQ(files.size(), 2U);  // bob and carol (the Bcc)
    for (const auto& f : files) {
        EXPECT_EQ(read_file(f).find("\nBcc:"), std::string::npos) << "Bcc leaked";
    }
    std::ofstream(dir / "sent.eml", std::ios::binary) << missive::mime::to_string(message);
    const std::string cmd = "python3 '" + std::string(MISSIVE_SOURCE_DIR) +
                            "/tests/integration/check/mime_same.py' '" + files[0].string() + "' '" +
                            (dir / "sent.eml").string() + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;  // NOLINT(concurrency-mt-unsafe)
}

INSTANTIATE_TEST_SUITE_P(Variants, PostfixMime,
                         ::testing::Values("MISSIVE_TEST_POSTFIX_PORT",
                                           "MISSIVE_TEST_POSTFIX_PLAIN_PORT"));
