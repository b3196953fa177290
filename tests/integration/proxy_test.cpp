// Through real proxies (microsocks for SOCKS5, tinyproxy for HTTP CONNECT) to real Postfix, with
// STARTTLS end to end through the tunnel.
#include <missive/missive.hpp>

#include "support.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace missive::integration;
using missive::errc;
using missive::Error;
using missive::client::Client;
using missive::client::Options;
using missive::net::Proxy;

namespace {

Options via(const std::string& proxy_url) {
    Options o;
    o.local_name = "client.missive.test";
    o.command_timeout = 10s;
    o.tls = missive::client::TlsMode::starttls_required;
    o.tls_options.ca_file = setting("MISSIVE_TEST_CA_FILE");
    o.proxy = Proxy::parse(proxy_url);
    return o;
}

std::string proxy_url(const char* scheme, const char* key, bool auth) {
    return std::string(scheme) + "://" + (auth ? "proxyuser:proxy-pass@" : "") +
           "127.0.0.1:" + setting(key);
}

}  // namespace

class ThroughProxy : public ::testing::TestWithParam<std::tuple<const char*, const char*, bool>> {};

TEST_P(ThroughProxy, DeliversOverTls) {
    const auto [scheme, key, auth] = GetParam();
    const std::uint16_t postfix = port_of("MISSIVE_TEST_POSTFIX_PORT");
    REQUIRE_SERVER(postfix);
    REQUIRE_SERVER(port_of(key));
    Client c(via(proxy_url(scheme, key, auth)));
    c.connect("localhost", postfix);  // the proxy resolves the name
    ASSERT_NE(c.tls(), nullptr);
    const std::string token = unique_token();
    auto r = c.send({.from = "alice@example.org", .to = {"bob@example.com"}},
                    "Subject: " + token + "\r\n\r\nthrough a proxy\r\n");
    c.quit();
    EXPECT_TRUE(r.all_accepted());
    EXPECT_EQ(find_delivered(setting("MISSIVE_TEST_DIR") + "/mail", token, 1).size(), 1U);
}

INSTANTIATE_TEST_SUITE_P(
    Proxies, ThroughProxy,
    ::testing::Values(std::make_tuple("socks5", "MISSIVE_TEST_SOCKS_PORT", false),
                      std::make_tuple("socks5", "MISSIVE_TEST_SOCKS_AUTH_PORT", true),
                      std::make_tuple("http", "MISSIVE_TEST_HTTP_PORT", false),
                      std::make_tuple("http", "MISSIVE_TEST_HTTP_AUTH_PORT", true)));

TEST(Proxy, WrongSocksPassword) {
    const std::uint16_t postfix = port_of("MISSIVE_TEST_POSTFIX_PORT");
    REQUIRE_SERVER(postfix);
    Client c(via("socks5://proxyuser:wrong@127.0.0.1:" + setting("MISSIVE_TEST_SOCKS_AUTH_PORT")));
    try {
        c.connect("localhost", postfix);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::connect_failed);
        EXPECT_NE(std::string(e.what()).find("refused the user name or password"),
                  std::string::npos)
            << e.what();
        EXPECT_EQ(std::string(e.what()).find("wrong"), std::string::npos) << "password shown";
    }
}

TEST(Proxy, HttpProxyWithoutCredentials) {
    const std::uint16_t postfix = port_of("MISSIVE_TEST_POSTFIX_PORT");
    REQUIRE_SERVER(postfix);
    Client c(via("http://127.0.0.1:" + setting("MISSIVE_TEST_HTTP_AUTH_PORT")));
    try {
        c.connect("localhost", postfix);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::connect_failed);
        EXPECT_NE(std::string(e.what()).find("it answered HTTP/1.0 407"), std::string::npos)
            << e.what();
    }
}

TEST(Proxy, TargetRefusedBehindSocks) {
    REQUIRE_SERVER(port_of("MISSIVE_TEST_SOCKS_PORT"));
    Client c(via(proxy_url("socks5", "MISSIVE_TEST_SOCKS_PORT", false)));
    try {
        c.connect("127.0.0.1", 1);  // nothing listens on port 1
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::connect_failed) << e.what();
    }
}
