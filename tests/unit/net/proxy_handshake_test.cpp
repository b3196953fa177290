// The proxy handshakes without I/O: exact bytes both ways, every split of the proxy's answers,
// and never a byte read past the answer (it belongs to the mail server).
#include <missive/error.hpp>
#include <missive/net/proxy.hpp>

#include "support/throws.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

using missive::errc;
using missive::net::Proxy;
using missive::net::ProxyHandshake;
using missive::test::throws;

namespace {

// Runs the handshake against `answer`, fed in pieces of at most `piece` bytes (and never more
// than asked for). @return what the client wrote; `left` gets what it did not read.
std::string run(ProxyHandshake& h, std::string_view answer, std::size_t piece, std::string& left) {
    std::string written;
    while (!h.done()) {
        if (const auto out = h.output(); !out.empty()) {
            written.append(out);
            h.consume_output(out.size());
            continue;
        }
        const std::size_t n = std::min({piece, h.input_wanted(), answer.size()});
        if (n == 0) {
            break;
        }
        h.receive(answer.substr(0, n));
        answer.remove_prefix(n);
    }
    left = std::string(answer);
    return written;
}

}  // namespace

TEST(ProxyHandshake, Socks5WithoutAuthentication) {
    const std::string answer = std::string("\x05\x00", 2) +
                               std::string("\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x00", 10) +
                               "220 mx ESMTP\r\n";
    for (std::size_t piece = 1; piece <= answer.size(); ++piece) {
        ProxyHandshake h(Proxy::parse("socks5://127.0.0.1:1080"), "mx.example.org", 25);
        std::string left;
        const std::string written = run(h, answer, piece, left);
        ASSERT_TRUE(h.done()) << piece;
        EXPECT_EQ(written, std::string("\x05\x01\x00", 3) + std::string("\x05\x01\x00\x03", 4) +
                               "\x0emx.example.org" + std::string("\x00\x19", 2));
        EXPECT_EQ(left, "220 mx ESMTP\r\n") << piece;
    }
}

TEST(ProxyHandshake, Socks5WithUserAndPasswordAndANamedBoundAddress) {
    const std::string answer = std::string("\x05\x02", 2) + std::string("\x01\x00", 2) +
                               std::string("\x05\x00\x00\x03\x05", 5) + "proxy" +
                               std::string("\x04\x00", 2) + "220";
    for (std::size_t piece = 1; piece <= answer.size(); ++piece) {
        ProxyHandshake h(Proxy::parse("socks5://u:pw@127.0.0.1"), "mx", 587);
        std::string left;
        const std::string written = run(h, answer, piece, left);
        ASSERT_TRUE(h.done());
        EXPECT_EQ(written, std::string("\x05\x01\x02", 3) + "\x01\x01u\x02pw" +
                               std::string("\x05\x01\x00\x03\x02", 5) + "mx\x02\x4b");
        EXPECT_EQ(left, "220");
    }
}

TEST(ProxyHandshake, Socks5Refusals) {
    std::string left;
    ProxyHandshake refused(Proxy::parse("socks5://127.0.0.1:1080"), "mx", 25);
    EXPECT_TRUE(throws(
        [&] { (void)run(refused, std::string("\x05\x00\x05\x05\x00\x01\x00", 7), 64, left); },
        errc::connect_failed,
        "proxy socks5://127.0.0.1:1080 could not connect to mx:25: connection refused"));
    ProxyHandshake wants_auth(Proxy::parse("socks5://127.0.0.1:1080"), "mx", 25);
    EXPECT_TRUE(throws([&] { (void)run(wants_auth, "\x05\xff", 64, left); }, errc::connect_failed,
                       "proxy socks5://127.0.0.1:1080 could not connect to mx:25: it requires "
                       "authentication"));
    ProxyHandshake bad_login(Proxy::parse("socks5://u:secret@127.0.0.1:1080"), "mx", 25);
    EXPECT_TRUE(throws(
        [&] { (void)run(bad_login, std::string("\x05\x02\x01\x01", 4), 64, left); },
        errc::connect_failed,
        "proxy socks5://u:***@127.0.0.1:1080 could not connect to mx:25: it refused the user "
        "name or password"));
    ProxyHandshake http_answer(Proxy::parse("socks5://127.0.0.1:1080"), "mx", 25);
    EXPECT_TRUE(throws([&] { (void)run(http_answer, "HT", 64, left); }, errc::protocol,
                       "proxy socks5://127.0.0.1:1080 does not speak SOCKS5"));
    ProxyHandshake closed(Proxy::parse("socks5://127.0.0.1:1080"), "mx", 25);
    EXPECT_TRUE(throws([&] { closed.receive_eof(); }, errc::connect_failed,
                       "proxy socks5://127.0.0.1:1080 closed the connection during its handshake"));
}

TEST(ProxyHandshake, HttpConnectReadsTheHeadAndNotOneByteMore) {
    const std::string answer =
        "HTTP/1.1 200 Connection established\r\nProxy-Agent: test\r\n\r\n220 mx ESMTP\r\n";
    for (std::size_t piece = 1; piece <= answer.size(); ++piece) {
        ProxyHandshake h(Proxy::parse("http://ada:pw@127.0.0.1:3128"), "::1", 25);
        std::string left;
        const std::string written = run(h, answer, piece, left);
        ASSERT_TRUE(h.done());
        EXPECT_EQ(written,
                  "CONNECT [::1]:25 HTTP/1.1\r\nHost: [::1]:25\r\nProxy-Authorization: Basic "
                  "YWRhOnB3\r\n\r\n");
        EXPECT_EQ(left, "220 mx ESMTP\r\n") << piece;
    }
}

TEST(ProxyHandshake, HttpRefusalsAndEndlessHeads) {
    std::string left;
    ProxyHandshake forbidden(Proxy::parse("http://127.0.0.1:3128"), "mx", 25);
    EXPECT_TRUE(
        throws([&] { (void)run(forbidden, "HTTP/1.1 403 Forbidden\r\n\r\n", 64, left); },
               errc::connect_failed,
               "proxy http://127.0.0.1:3128 could not connect to mx:25: it answered HTTP/1.1 403 "
               "Forbidden"));
    ProxyHandshake endless(Proxy::parse("http://127.0.0.1:3128"), "mx", 25);
    EXPECT_TRUE(throws([&] { (void)run(endless, std::string(20000, 'x'), 4096, left); },
                       errc::protocol, "proxy http://127.0.0.1:3128 sent an endless response"));
    ProxyHandshake not_http(Proxy::parse("http://127.0.0.1:3128"), "mx", 25);
    EXPECT_TRUE(throws([&] { (void)run(not_http, "220 mx ESMTP\r\n\r\n", 64, left); },
                       errc::protocol, "proxy http://127.0.0.1:3128 did not answer in HTTP"));
}
