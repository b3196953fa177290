// What the client does with the caller's settings when they matter for security: credentials
// in clear text, TLS modes and their precedence, options of one URL not carrying over to the
// next, redaction, and user callbacks that throw.
#include <missive/client/client.hpp>
#include <missive/net/url.hpp>
#include <missive/testing/server.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

using missive::errc;
using missive::Error;
using missive::client::Client;
using missive::client::Options;
using missive::client::TlsMode;
using missive::net::Url;
using missive::testing::Conversation;
using missive::testing::Server;
using namespace std::chrono_literals;

namespace {

Options options() {
    Options o;
    o.local_name = "client.test";
    o.command_timeout = 5s;
    o.data_block_timeout = o.final_reply_timeout = 5s;
    return o;
}

template <typename F>
errc kind_of(F&& f, std::string* what = nullptr) {
    try {
        f();
    } catch (const Error& e) {
        if (what != nullptr) {
            *what = e.what();
        }
        return e.kind();
    }
    return errc{};
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

// The plaintext rule is decided on the address connected to: through a proxy, a name that looks
// like loopback ("127.0.0.1.attacker.example", "localhost") or a TLS peer name of "localhost"
// proves nothing, and the password stays home.
TEST(ClientSecurity, NoCredentialsInClearTextThroughAProxyWhateverTheName) {
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
            Client c(o);
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
TEST(ClientSecurity, CredentialsInClearTextToALoopbackAddress) {
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
    Client c(o);
    c.connect("127.0.0.1", server.port());
    EXPECT_TRUE(c.session().authenticated());
    c.close();
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_TRUE(server.mismatches().empty());
}
