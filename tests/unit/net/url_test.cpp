#include <missive/error.hpp>
#include <missive/net/proxy.hpp>
#include <missive/net/url.hpp>

#include <gtest/gtest.h>

using missive::errc;
using missive::Error;
using missive::net::TlsMode;
using missive::net::Url;

TEST(Url, SchemesAndDefaultPorts) {
    const struct {
        const char* text;
        std::uint16_t port;
        TlsMode tls;
        bool lmtp;
    } cases[] = {
        {"smtp://mx.example.org", 25, TlsMode::opportunistic, false},
        {"smtps://mx.example.org", 465, TlsMode::implicit, false},
        {"submission://mx.example.org", 587, TlsMode::starttls_required, false},
        {"submissions://mx.example.org", 465, TlsMode::implicit, false},
        {"smtptls://mx.example.org", 25, TlsMode::starttls_always, false},
        {"esmtp://mx.example.org", 587, TlsMode::opportunistic, false},
        {"esmtptls://mx.example.org", 587, TlsMode::starttls_always, false},
        {"lmtp://mx.example.org", 24, TlsMode::opportunistic, true},
        {"SMTP://mx.example.org/", 25, TlsMode::opportunistic, false},
    };

    for (const auto& c : cases) {
        const Url u = Url::parse(c.text);
        EXPECT_EQ(u.host, "mx.example.org") << c.text;
        EXPECT_EQ(u.port, c.port) << c.text;
        EXPECT_EQ(u.tls, c.tls) << c.text;
        EXPECT_EQ(u.lmtp, c.lmtp) << c.text;
    }
}

TEST(Url, UserPasswordPortQuery) {
    const Url u = Url::parse(
        "submission://alice%40example.com:p%3Ass@w:rd@127.0.0.1:2587?auth=SCRAM-SHA-256&Verify=no");
    EXPECT_EQ(u.user, "alice@example.com");
    EXPECT_EQ(u.password, "p:ss@w:rd");
    EXPECT_TRUE(u.has_password);
    EXPECT_EQ(u.host, "127.0.0.1");
    EXPECT_EQ(u.port, 2587);
    EXPECT_EQ(u.query.at("auth"), "SCRAM-SHA-256");
    EXPECT_EQ(u.query.at("verify"), "no");
    EXPECT_EQ(u.redacted(),
              "submission://alice@example.com:***@127.0.0.1:2587?auth=SCRAM-SHA-256&verify=no");
}

TEST(Url, Ipv6) {
    const Url u = Url::parse("smtp://[::1]:2525");
    EXPECT_EQ(u.host, "::1");
    EXPECT_EQ(u.port, 2525);
    EXPECT_EQ(u.redacted(), "smtp://[::1]:2525");
    EXPECT_EQ(Url::parse("smtp://[2001:db8::1]").port, 25);
}

TEST(Url, Errors) {
    const struct {
        const char* text;
        const char* what;
    } cases[] = {
        {"mx.example.org:25", "URL: 'mx.example.org:25' does not start with scheme://"},
        {"smtpx://h",
         "URL: unknown scheme 'smtpx' (known: smtp, smtps, submission, submissions, "
         "smtptls, esmtp, esmtptls, lmtp)"},
        {"smtp://", "URL: no host"},
        {"smtp://u:secret@", "URL: no host"},
        {"smtp://h:0", "URL: invalid port '0'"},
        {"smtp://h:65536", "URL: invalid port '65536'"},
        {"smtp://h:2x", "URL: invalid port (not a number)"},
        // A password whose '@' was forgotten is not echoed as a port, nor a userinfo.
        {"smtp://ada:Secret-1", "URL: invalid port (not a number)"},
        {"ada:Secret-1@mx.example.org", "URL: '...@mx.example.org' does not start with scheme://"},
        {"smtp://h:", "URL: empty port"},
        {"smtp://[::1", "URL: the IPv6 address lacks its closing ']'"},
        {"smtp://h/path", "URL: a mail server URL has no path"},
        {"smtp://u%0d%0aRSET:x@h", "URL: the user contains a control character"},
        {"smtp://u:%zz@h", "URL: bad percent escape in the password"},
        {"smtp://h\r\n", "URL: the host contains a space or control character"},
    };

    for (const auto& c : cases) {
        try {
            (void)Url::parse(c.text);
            ADD_FAILURE() << c.text;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), errc::config) << c.text;
            EXPECT_STREQ(e.what(), c.what) << c.text;
        }
    }
}

TEST(Url, RedactedHidesEveryPassword) {
    // A proxy's password in the query, plain or percent-encoded (once, or twice), with '@',
    // '/' and '?' in it: none of it is printed.
    const char* const secrets[] = {"PW", "p@ss/w?rd", "p:w"};
    for (const char* secret : secrets) {
        const std::string pw = secret;
        std::string encoded;
        for (const char c : pw) {
            encoded += c == '@'   ? "%40"
                       : c == '/' ? "%2F"
                       : c == '?' ? "%3F"
                       : c == ':' ? "%3A"
                                  : std::string(1, c);
        }
        const std::string twice = "socks5%253A%252F%252Fuser%253A" + encoded + "%2540127.0.0.1";
        for (const std::string& text :
             {"smtp://mx.test?proxy=socks5://user:" + encoded + "@127.0.0.1:1080",
              "smtp://mx.test?proxy=socks5%3A%2F%2Fuser%3A" + encoded + "%40127.0.0.1",
              "smtp://mx.test?x=" + twice,
              "smtp://ada:" + encoded + "@mx.test?proxy=http://u:" + encoded + "@p:3128"}) {
            const std::string r = Url::parse(text).redacted();
            EXPECT_EQ(r.find(pw), std::string::npos) << text << " -> " << r;
            EXPECT_EQ(r.find(encoded), std::string::npos) << text << " -> " << r;
            EXPECT_NE(r.find(":***@"), std::string::npos) << text << " -> " << r;
        }
    }
    EXPECT_EQ(
        Url::parse("smtp://mx.test?proxy=socks5%3A%2F%2Fu%3APW%40127.0.0.1%3A1080").redacted(),
        "smtp://mx.test:25?proxy=socks5://u:***@127.0.0.1:1080");
    // Without a password nothing changes; characters that would end a value are encoded.
    EXPECT_EQ(Url::parse("smtp://mx.test?proxy=socks5://u@127.0.0.1&helo=a%26b").redacted(),
              "smtp://mx.test:25?helo=a%26b&proxy=socks5://u@127.0.0.1");
}

TEST(Proxy, Parse) {
    using missive::net::Proxy;
    const Proxy s = Proxy::parse("socks5://u%40x:p%3A@127.0.0.1");
    EXPECT_EQ(s.kind, Proxy::Kind::socks5);
    EXPECT_EQ(s.port, 1080);
    EXPECT_EQ(s.user, "u@x");
    EXPECT_EQ(s.password, "p:");
    EXPECT_EQ(s.redacted(), "socks5://u@x:***@127.0.0.1:1080");
    const Proxy h = Proxy::parse("http://proxy.example:3128");
    EXPECT_EQ(h.kind, Proxy::Kind::http);
    EXPECT_EQ(h.port, 3128);
    EXPECT_EQ(Proxy::parse("http://[::1]").port, 8080);
    EXPECT_EQ(Proxy::parse("socks5://h:25").port, 25);
    EXPECT_THROW((void)Proxy::parse("ftp://h"), Error);
    EXPECT_THROW((void)Proxy::parse("socks5://h?x=y"), Error);
    EXPECT_EQ(Proxy::parse("socks5://:PW@h").redacted(), "socks5://:***@h:1080");
}

TEST(Url, WithSchemeMakesHost465ImplicitTls) {
    const std::pair<const char*, const char*> cases[] = {
        {"mx.example.org:465", "smtps://mx.example.org:465"},
        {"mx.example.org:587", "smtp://mx.example.org:587"},
        {"mx.example.org", "smtp://mx.example.org"},
        {"[::1]:465", "smtps://[::1]:465"},
        {"[::1]", "smtp://[::1]"},
        {"ada:pw:465@mx.example.org:25", "smtp://ada:pw:465@mx.example.org:25"},
        {"ada@mx.example.org:465?ca=x.pem", "smtps://ada@mx.example.org:465?ca=x.pem"},
        {"mx.example.org:4650", "smtp://mx.example.org:4650"},
        {"submission://mx.example.org:465", "submission://mx.example.org:465"},
    };
    for (const auto& [text, url] : cases) {
        EXPECT_EQ(Url::with_scheme(text), url) << text;
    }
    EXPECT_EQ(Url::parse(Url::with_scheme("mx.example.org:465")).tls, TlsMode::implicit);
}
