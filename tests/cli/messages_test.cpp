// The messages a person reads from the missive binary, and its exit statuses: each mistake
// gets the words of the fix (issue 15's table), checked exactly.
#include <missive/testing/server.hpp>

#include "binary.hpp"

#include <gtest/gtest.h>

#include <string>

using missive::cli::test::Capture;
using missive::cli::test::Outcome;
using missive::cli::test::run;
using missive::cli::test::scratch;
using missive::testing::Conversation;
using missive::testing::Server;

namespace {

// A plain SMTP server that accepts everything.
void plain_smtp(Conversation& c) {
    c.send_line("220 mx.test");
    for (;;) {
        const std::string line = c.read_line();
        if (line == "DATA") {
            c.send_line("354 go");
            (void)c.read_data();
            c.send_line("250 2.0.0 queued");
        } else if (line == "QUIT") {
            c.send_line("221 bye");
            return;
        } else {
            c.send_line("250 ok");
        }
    }
}

const std::string message = " --from ada@example.org --to bob@example.com --text x";

}  // namespace

TEST(CliMessages, ImplicitTlsAgainstAStarttlsPort) {
    Server server(plain_smtp);
    const Outcome r =
        run(scratch(), "send --server smtps://127.0.0.1:" + std::to_string(server.port()) +
                           message + " --timeout 5");
    EXPECT_EQ(r.status, 75) << r.err;
    EXPECT_NE(r.err.find("\nmissive: the server answered in plain text: a STARTTLS port? use "
                         "smtp:// or submission://\n"),
              std::string::npos)
        << r.err;
}

TEST(CliMessages, StarttlsAgainstAnImplicitTlsPort) {
    Server silent([](Conversation& c) { c.delay(std::chrono::seconds(10)); });
    const std::string port = std::to_string(silent.port());
    const Outcome r =
        run(scratch(), "send --server smtp://127.0.0.1:" + port + message + " --timeout 1");
    EXPECT_EQ(r.status, 75) << r.err;
    EXPECT_NE(r.err.find("\nmissive: no greeting: a port that expects TLS at once (as 465 does) "
                         "stays silent until the handshake; if this is one, use "
                         "smtps://127.0.0.1:" +
                         port + "\n"),
              std::string::npos)
        << r.err;
    // host:465 without a scheme is implicit TLS.
    const Outcome d = run(scratch(), "send --dry-run --server 127.0.0.1:465" + message);
    EXPECT_EQ(d.status, 0) << d.err;
    EXPECT_NE(d.err.find("via smtps://127.0.0.1:465\n"), std::string::npos) << d.err;
}

TEST(CliMessages, ACertificateNotTrustedSaysHowToTrustIt) {
    const auto dir = scratch();
    const Capture capture(dir);
    ASSERT_NE(capture.port(), 0) << missive::cli::test::read_text(dir / "capture.out");
    const std::string server =
        "send --server smtp://127.0.0.1:" + std::to_string(capture.port()) + " --tls required";
    const Outcome r = run(dir, server + message + " --timeout 10");
    EXPECT_EQ(r.status, 75) << r.err;
    EXPECT_NE(r.err.find("\nmissive: if you trust this server, give the CA that signed its "
                         "certificate with --ca-file FILE (for `missive capture`: "
                         "MAILDIR/capture-cert.pem); if the certificate is made out to another "
                         "name, give that name with --tls-peer NAME\n"),
              std::string::npos)
        << r.err;
    const Outcome ok = run(
        dir, server + message + " --ca-file " + (capture.maildir() / "capture-cert.pem").string());
    EXPECT_EQ(ok.status, 0) << ok.err;
}

TEST(CliMessages, AddressesThatLookAlmostRight) {
    const auto dir = scratch();
    const Outcome r = run(dir, "send --from ada@example.org --to 'Bob Smith bob@example.org'");
    EXPECT_EQ(r.status, 65) << r.err;
    EXPECT_EQ(r.err,
              "missive: To: address \"Bob Smith bob@example.org\": missing @ at offset 0; did "
              "you mean 'Bob Smith <bob@example.org>'?\n");
    const Outcome s =
        run(dir, "send --from ada@example.org --to 'bob@example.org; carol@example.org'");
    EXPECT_EQ(s.status, 65) << s.err;
    EXPECT_NE(s.err.find("; separate addresses with a comma, not ';'\n"), std::string::npos)
        << s.err;
}

TEST(CliMessages, Misspellings) {
    const auto dir = scratch();
    const Outcome form = run(dir, "send --form ada@example.org --to bob@example.com");
    EXPECT_EQ(form.status, 64);
    EXPECT_EQ(form.err,
              "missive: unknown option '--form'; did you mean '--from'?\n"
              "Run with --help for more information.\n");
    const Outcome sned = run(dir, "sned --to bob@example.com");
    EXPECT_EQ(sned.status, 64);
    EXPECT_EQ(sned.err,
              "missive: unknown command 'sned'; did you mean 'send'?\n"
              "Run with --help for more information.\n");
    const Outcome version = run(dir, "-V");
    EXPECT_EQ(version.status, 0) << version.err;
    EXPECT_EQ(version.out.rfind("missive 0.", 0), 0U) << version.out;
    // -v is --trace.
    Server server(plain_smtp);
    const Outcome v =
        run(dir, "send -v --tls none --server smtp://127.0.0.1:" + std::to_string(server.port()) +
                     message);
    EXPECT_EQ(v.status, 0) << v.err;
    EXPECT_NE(v.err.find("C: MAIL FROM:<ada@example.org>"), std::string::npos) << v.err;
}

TEST(CliMessages, VersionNamesTlsAndTheConfigFile) {
    const auto dir = scratch();
    const Outcome r = run(dir, "--version");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("\nTLS library: OpenSSL 3."), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\nconfig file: " + (dir / "xdg" / "missive" / "config.toml").string() +
                         " (not found)\n"),
              std::string::npos)
        << r.out;
}

TEST(CliMessages, HeaderReplacesAFieldAddHeaderAppends) {
    const auto dir = scratch();
    const Outcome r = run(dir,
                          "send --dry-run --from ada@example.org --to bob@example.com --subject a "
                          "--header 'Subject: b' --header 'To: list@example.org' "
                          "--add-header 'X-Tag: 1' --add-header 'X-Tag: 2' --text x");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("Subject: b\r\n"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("Subject: a"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("To: list@example.org\r\n"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("bob@example.com"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("X-Tag: 1\r\nX-Tag: 2\r\n"), std::string::npos) << r.out;
    // Who gets it comes from --to, not from the replaced To.
    EXPECT_NE(r.err.find("would send from <ada@example.org> to <bob@example.com> via"),
              std::string::npos)
        << r.err;
}

TEST(CliMessages, HeaderFieldsMissiveWritesItself) {
    const auto dir = scratch();
    const Outcome r = run(dir,
                          "send --from ada@example.org --to bob@example.com --header "
                          "'Content-Type: text/html' --text '<p>hi'");
    EXPECT_EQ(r.status, 64);
    EXPECT_EQ(r.err,
              "missive: --header 'Content-Type: …': missive writes this field itself; for "
              "an HTML body use --html-file FILE (with --text for a plain-text "
              "alternative), for a file --attach FILE\n");
    const Outcome b = run(dir,
                          "send --from ada@example.org --to bob@example.com --header "
                          "'Bcc: carol@example.com'");
    EXPECT_EQ(b.status, 64);
    EXPECT_EQ(b.err, "missive: --header 'Bcc: …': a Bcc field is never written; use --bcc\n");
    const Outcome a = run(dir,
                          "send --from ada@example.org --to bob@example.com --add-header "
                          "'MIME-Version: 2.0'");
    EXPECT_EQ(a.status, 64);
    EXPECT_EQ(a.err.rfind("missive: --add-header 'MIME-Version: …': missive writes this field "
                          "itself",
                          0),
              0U)
        << a.err;
}

TEST(CliMessages, JsonForEveryFailure) {
    const auto dir = scratch();
    const std::string failed = R"({"status":"failed","server":"","reply":null,"queue_id":"",)"
                               R"("recipients":[],"error":)";
    const Outcome address = run(dir, "send --json --from ada@example.org --to 'Bob bob@x.org'");
    EXPECT_EQ(address.status, 65);
    EXPECT_EQ(address.out, failed + R"({"kind":"invalid_input","message":"To: address \"Bob )"
                                    R"(bob@x.org\": missing @ at offset 0; did you mean 'Bob )"
                                    R"(<bob@x.org>'?","exit":65}})"
                                    "\n");
    const Outcome config = run(dir, "send --json --config nope.toml" + message);
    EXPECT_EQ(config.status, 78);
    EXPECT_EQ(config.out, failed + R"({"kind":"config","message":"--config 'nope.toml' cannot )"
                                   R"(be read: No such file or directory","exit":78}})"
                                   "\n");
    const Outcome flag = run(dir, "send --json --form ada@example.org");
    EXPECT_EQ(flag.status, 64);
    EXPECT_EQ(flag.out, failed + R"({"kind":"usage","message":"unknown option '--form'; did )"
                                 R"(you mean '--from'?","exit":64}})"
                                 "\n");
    const Outcome usage = run(dir, "send --json --to bob@example.com");
    EXPECT_EQ(usage.status, 64);
    EXPECT_EQ(usage.out, failed +
                             R"x({"kind":"usage","message":"--from is required (or `from` in )x"
                             R"x(the account)","exit":64}})x"
                             "\n");
}

TEST(CliMessages, AFileThatCannotBeReadIs66WithTheReason) {
    const auto dir = scratch();
    for (const std::string flag : {"--attach", "--text-file", "--html-file", "--inline"}) {
        const Outcome r =
            run(dir, "send --from ada@example.org --to bob@example.com " + flag + " nope.pdf");
        EXPECT_EQ(r.status, 66) << flag << r.err;
        EXPECT_EQ(r.err, "missive: " + flag +
                             " 'nope.pdf' cannot be read: No such file or directory; nothing was "
                             "sent\n");
    }
}

TEST(CliMessages, AMissingConfigFileIsAnError) {
    const Outcome r = run(scratch(), "send --config nope.toml" + message);
    EXPECT_EQ(r.status, 78);
    EXPECT_EQ(r.err, "missive: --config 'nope.toml' cannot be read: No such file or directory\n");
}

TEST(CliMessages, CaptureNamesTheBusyAddressAndTheMissingFile) {
    const auto dir = scratch();
    Server taken(plain_smtp);
    const std::string port = std::to_string(taken.port());
    const Outcome busy = run(dir, "capture --listen 127.0.0.1:" + port);
    EXPECT_EQ(busy.status, 78);
    EXPECT_EQ(busy.err, "missive capture: cannot listen on 127.0.0.1:" + port +
                            ": Address already in use (another program listens there: pick "
                            "another port, or port 0 for a free one)\n");
    const Outcome cert = run(dir, "capture --listen 127.0.0.1:0 --tls-cert nope.pem");
    EXPECT_EQ(cert.status, 78);
    EXPECT_EQ(cert.err,
              "missive capture: --tls-cert 'nope.pem' cannot be read: No such file or directory\n");
}
