#include <missive/error.hpp>
#include <missive/mime/builder.hpp>
#include <missive/testing/server.hpp>
#include <missive/transport/smtp_transport.hpp>

#include <gtest/gtest.h>

using missive::testing::Server;
using missive::transport::SmtpTransport;

namespace {

constexpr const char* one_message = R"(
S: 220 mx.test ESMTP
C: *
S: 250 mx.test
C: MAIL FROM:<ada@example.org>
S: 250 2.1.0 ok
C: RCPT TO:<bob@example.com>
S: 250 2.1.5 ok
C: DATA
S: 354 go ahead
!data
S: 250 2.0.0 queued as Q1
C: QUIT
S: 221 bye
)";

}  // namespace

TEST(SmtpTransport, SendsOneMessagePerConnection) {
    Server server(std::vector<std::string>{one_message, one_message});
    SmtpTransport t("127.0.0.1:" + std::to_string(server.port()),
                    {.tls = missive::client::TlsMode::none_insecure});
    const auto text = t.send({.from = "ada@example.org", .to = {"bob@example.com"}},
                             "Subject: hi\r\n\r\nbody\r\n");
    EXPECT_EQ(text.queue_id, "Q1");
    const auto built = t.send(missive::mime::Builder()
                                  .from("ada@example.org")
                                  .to("bob@example.com")
                                  .subject("built")
                                  .text("body")
                                  .build());
    EXPECT_EQ(built.queue_id, "Q1");
    ASSERT_TRUE(server.wait_for(2));
    EXPECT_EQ(server.mismatches(), std::vector<std::string>{});
    EXPECT_NE(server.received(1).find("Subject: built\r\n"), std::string::npos);
}

TEST(SmtpTransport, ABadServerIsAConfigErrorAtOnce) {
    try {
        SmtpTransport t("smtpx://mx.example.org");
        FAIL() << "accepted an unknown scheme";
    } catch (const missive::Error& e) {
        EXPECT_EQ(e.kind(), missive::errc::config);
    }
}
