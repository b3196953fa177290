// What the client does with the caller's settings when they matter for security: credentials
// in clear text, TLS modes and their precedence, options of one URL not carrying over to the
// next, redaction, and user callbacks that throw.
#include <missive/client/client.hpp>
#include <missive/net/url.hpp>
#include <missive/testing/server.hpp>

#include "support/client_options.hpp"
#include "support/clients.hpp"
#include "support/throws.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

using missive::errc;
using missive::Error;
using missive::client::Client;
using missive::client::Options;
using missive::client::TlsMode;
using missive::net::Url;
using missive::test::kind_of;
using missive::testing::Conversation;
using missive::testing::Server;
using namespace std::chrono_literals;

namespace {

Options options() {
    return missive::test::client_options();
}

// A SOCKS5 proxy (RFC 1928, no authentication) that tunnels to itself, whatever name it is asked
// for: the SMTP server behind it answers on the same conversation. It offers AUTH PLAIN and
// records what the client sends after the tunnel is open.
void socks_then_smtp(Conversation& conv, std::string& asked_for) {
    const std::string hello = conv.read_exact(2);
    (void)conv.read_exact(static_cast<unsigned char>(hello[1]));  // the methods offered
    conv.send_raw(std::string("\x05\x00", 2));
    const std::string request = conv.read_exact(4);
    if (request[3] == '\x03') {  // a domain name
        const std::string len = conv.read_exact(1);
        asked_for = conv.read_exact(static_cast<unsigned char>(len[0]));
    } else {
        asked_for = "(address)";
        (void)conv.read_exact(request[3] == '\x01' ? 4 : 16);
    }
    (void)conv.read_exact(2);  // the port
    conv.send_raw(std::string("\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10));
    conv.send_line("220 mx");
    (void)conv.read_line();  // EHLO
    conv.send_line("250-mx");
    conv.send_line("250 AUTH PLAIN LOGIN");
    conv.wait_eof();
}

}  // namespace

template <typename T>
class BothClientSecurity : public ::testing::Test {};

TYPED_TEST_SUITE(BothClientSecurity, missive::test::BothClients, missive::test::ClientNames);

// The plaintext rule is decided on the address connected to: through a proxy, a name that looks
// like loopback ("127.0.0.1.attacker.example", "localhost") or a TLS peer name of "localhost"
// proves nothing, and the password stays home.
TYPED_TEST(BothClientSecurity, NoCredentialsInClearTextThroughAProxyWhateverTheName) {
    for (const std::string host : {"127.0.0.1.attacker.example", "localhost", "127.0.0.1"}) {
        for (const bool peer_localhost : {false, true}) {
            std::string asked_for;
            Server proxy([&](Conversation& conv) { socks_then_smtp(conv, asked_for); });
            Options o = options();
            o.credentials = missive::sasl::Credentials{"alice", "Secret123", ""};
            o.proxy =
                missive::net::Proxy::parse("socks5://127.0.0.1:" + std::to_string(proxy.port()));
            if (peer_localhost) {
                o.tls_options.peer_name = "localhost";
            }
            TypeParam c(o);
            std::string what;
            EXPECT_EQ(kind_of([&] { c.connect(host, 25); }, &what), errc::auth_unavailable) << host;
            EXPECT_NE(what.find("refusing to send credentials"), std::string::npos) << what;
            c.close();
            ASSERT_TRUE(proxy.wait_for(1));
            const std::string sent = proxy.received();
            EXPECT_EQ(sent.find("AUTH"), std::string::npos) << host << ": " << sent;
            EXPECT_EQ(sent.find("Secret123"), std::string::npos);
            EXPECT_EQ(sent.find("AGFsaWNlAFNlY3JldDEyMw"), std::string::npos);
        }
    }
}

// A direct connection to a loopback address may carry credentials in clear text (a local relay),
// even when the TLS peer name is a remote one: the kernel's peer address decides.
TYPED_TEST(BothClientSecurity, CredentialsInClearTextToALoopbackAddress) {
    Server server(R"(
S: 220 mx
C: EHLO client.test
S: 250-mx
S: 250 AUTH PLAIN
C: AUTH PLAIN AGFsaWNlAFNlY3JldDEyMw==
S: 235 ok
)");
    Options o = options();
    o.credentials = missive::sasl::Credentials{"alice", "Secret123", ""};
    o.tls_options.peer_name = "mail.example.org";
    TypeParam c(o);
    c.connect("127.0.0.1", server.port());
    EXPECT_TRUE(c.session().authenticated());
    c.close();
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_TRUE(server.mismatches().empty());
}

// Every connect starts from the options the client was made with: a second URL gets neither the
// first one's credentials nor its EHLO name nor its mechanism (nor its verify=no, CA, peer name
// or proxy: tests/integration/tls_test.cpp checks verify=no against a real TLS server).
TYPED_TEST(BothClientSecurity, ASecondUrlKeepsNothingOfTheFirst) {
    Server first(R"(
S: 220 first
C: EHLO first.example
S: 250-first
S: 250 AUTH PLAIN
C: AUTH PLAIN AGFsaWNlAFNlY3JldDEyMw==
S: 235 ok
C: QUIT
S: 221 bye
)");
    Server second(R"(
S: 220 second
C: EHLO client.test
S: 250-second
S: 250 AUTH PLAIN
C: QUIT
S: 221 bye
)");
    TypeParam c(options());
    c.connect(Url::parse("smtp://alice:Secret123@127.0.0.1:" + std::to_string(first.port()) +
                         "?helo=first.example&auth=PLAIN&timeout=7"));
    EXPECT_TRUE(c.session().authenticated());
    c.quit();
    c.connect(Url::parse("smtp://127.0.0.1:" + std::to_string(second.port())));
    EXPECT_FALSE(c.session().authenticated());
    c.quit();
    ASSERT_TRUE(first.wait_for(1));
    ASSERT_TRUE(second.wait_for(1));
    EXPECT_TRUE(first.mismatches().empty());
    EXPECT_TRUE(second.mismatches().empty()) << second.mismatches().front();
    EXPECT_EQ(second.received(), "EHLO client.test\r\nQUIT\r\n");
}

// What the caller sets wins over the scheme's default, both ways.
TYPED_TEST(BothClientSecurity, ExplicitTlsModeWinsOverTheScheme) {
    constexpr const char* offers_starttls = R"(
S: 220 mx
C: EHLO client.test
S: 250-mx
S: 250 STARTTLS
C: QUIT
S: 221 bye
)";
    {  // none: no STARTTLS although smtp:// would use it when offered
        Server server(offers_starttls);
        Options o = options();
        o.tls = TlsMode::none_insecure;
        TypeParam c(o);
        c.connect(Url::parse("smtp://127.0.0.1:" + std::to_string(server.port())));
        EXPECT_EQ(c.tls(), nullptr);
        c.quit();
        ASSERT_TRUE(server.wait_for(1));
        EXPECT_EQ(server.received(), "EHLO client.test\r\nQUIT\r\n");
    }
    {  // required: a server without STARTTLS ends the attempt; only QUIT follows EHLO
        Server server(R"(
S: 220 mx
C: EHLO client.test
S: 250 mx
C: QUIT
)");
        Options o = options();
        o.tls = TlsMode::starttls_required;
        TypeParam c(o);
        EXPECT_EQ(kind_of([&] {
                      c.connect(Url::parse("smtp://127.0.0.1:" + std::to_string(server.port())));
                  }),
                  errc::starttls_unavailable);
        EXPECT_FALSE(c.is_open());
        ASSERT_TRUE(server.wait_for(1));
        EXPECT_EQ(server.received(), "EHLO client.test\r\nQUIT\r\n");
    }
}

// A mode that breaks the scheme's promise is a configuration error before any connection.
TYPED_TEST(BothClientSecurity, TlsModeThatContradictsTheSchemeIsAConfigError) {
    Server server("S: 220 mx\n");
    const std::string port = std::to_string(server.port());
    const std::vector<std::pair<std::string, TlsMode>> conflicts = {
        {"smtps", TlsMode::opportunistic},       {"smtps", TlsMode::starttls_required},
        {"submissions", TlsMode::none_insecure}, {"submission", TlsMode::opportunistic},
        {"submission", TlsMode::none_insecure},  {"submission", TlsMode::implicit},
        {"smtptls", TlsMode::opportunistic},
    };
    for (const auto& [scheme, mode] : conflicts) {
        Options o = options();
        o.tls = mode;
        TypeParam c(o);
        std::string what;
        EXPECT_EQ(kind_of([&] { c.connect(Url::parse(scheme + "://127.0.0.1:" + port)); }, &what),
                  errc::config)
            << scheme;
        EXPECT_NE(what.find("contradicts " + scheme + "://"), std::string::npos) << what;
    }
    EXPECT_EQ(server.connections(), 0U);
    Options o = options();
    o.tls = TlsMode::opportunistic;
    TypeParam c(o);
    std::string what;
    (void)kind_of([&] { c.connect(Url::parse("smtps://127.0.0.1:" + port)); }, &what);
    EXPECT_EQ(what,
              "TLS mode 'opportunistic' contradicts smtps:// (TLS implicit): drop one of them, or "
              "use smtp:// with the TLS mode");
}

// Credentials never reach a trace, whatever the case or spacing of a hand-written AUTH.
TYPED_TEST(BothClientSecurity, HandWrittenAuthIsRedactedInAnyCase) {
    Server server(R"(
S: 220 mx
C: EHLO client.test
S: 250-mx
S: 250 AUTH PLAIN
C: *
S: 535 5.7.8 no
C: *
S: 535 5.7.8 no
C: *
S: 535 5.7.8 no
C: QUIT
S: 221 bye
)");
    std::vector<std::string> trace;
    Options o = options();
    o.trace = [&](missive::smtp::Direction, std::string_view line) { trace.emplace_back(line); };
    TypeParam c(o);
    c.connect("127.0.0.1", server.port());
    for (const char* line :
         {"auth plain AGFsaWNlAFNlY3JldDEyMw==", "Auth\tPLAIN AGFsaWNlAFNlY3JldDEyMw==",
          "AUTH  PLAIN   AGFsaWNlAFNlY3JldDEyMw=="}) {
        try {
            (void)c.command(line);
            ADD_FAILURE() << "no error";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), errc::reply_permanent);
            EXPECT_EQ(std::string(e.what()).find("AGFsaWNl"), std::string::npos) << e.what();
            EXPECT_EQ(e.command().find("AGFsaWNl"), std::string::npos) << e.command();
        }
    }
    c.quit();
    for (const auto& line : trace) {
        EXPECT_EQ(line.find("AGFsaWNl"), std::string::npos) << line;
    }
    EXPECT_NE(std::find(trace.begin(), trace.end(), "AUTH PLAIN <redacted>"), trace.end());
}

// An observer that throws never ends the program (close() and the destructor are noexcept) and
// never leaves an operation half done.
TYPED_TEST(BothClientSecurity, ThrowingObserverIsContained) {
    Server server(R"(
S: 220 mx
C: EHLO client.test
S: 250 mx
C: NOOP
S: 250 ok
)");
    int calls = 0;
    Options o = options();
    o.observer = [&](const missive::client::Event&) {
        ++calls;
        throw std::runtime_error("observer failed");
    };
    {
        TypeParam c(o);
        c.connect("127.0.0.1", server.port());
        EXPECT_EQ(c.noop().code, 250);
        // The destructor closes the connection and tells the observer, which throws again.
    }
    EXPECT_GT(calls, 5);
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_TRUE(server.mismatches().empty());
}

// RFC 5321 4.1.4: EHLO names this machine by its fully qualified domain name, or else by an
// address literal; a bare host name such as "vm" is neither.
TYPED_TEST(BothClientSecurity, DefaultEhloNameIsADomainOrAnAddressLiteral) {
    Server server("S: 220 mx\nC: *\nS: 250 mx\n");
    Options o = options();
    o.local_name.clear();
    TypeParam c(o);
    c.connect("127.0.0.1", server.port());
    c.close();
    ASSERT_TRUE(server.wait_for(1));
    const std::string sent = server.received();
    ASSERT_EQ(sent.rfind("EHLO ", 0), 0U) << sent;
    const std::string name = sent.substr(5, sent.find('\r') - 5);
    const bool literal = name == "[127.0.0.1]";
    const bool domain = name.find('.') != std::string::npos && name.front() != '[' &&
                        name.rfind("localhost", 0) != 0;
    EXPECT_TRUE(literal || domain) << name;
}
