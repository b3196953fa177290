// End-to-end tests of the `missive` binary: exit statuses against the in-process
// testing::Server, the outbox default, --json, --dry-run, and real delivery through Postfix
// (send, sendmail -t with Bcc). A real mail program (bsd-mailx) using missive as its sendmail
// is tested by tests/integration/check/sendmail_mailx.sh.
#include <missive/testing/server.hpp>

#include "support.hpp"
#include "support/answering.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#ifndef MISSIVE_CLI
#error "MISSIVE_CLI (the path of the missive binary) must be defined"
#endif

namespace fs = std::filesystem;
using namespace missive::integration;
using missive::test::answering;
using missive::test::answering_with;
using missive::testing::Conversation;
using missive::testing::Server;

namespace {

struct Outcome {
    int status = -1;
    std::string out;
    std::string err;
};

fs::path scratch() {
    const fs::path dir = fs::temp_directory_path() / ("missive-cli-" + unique_token());
    fs::create_directories(dir / "xdg");
    return dir;
}

std::string quoted(const std::string& s) {
    std::string out = "'";
    for (const char c : s) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

// Runs the binary in `dir` with a clean environment (no MISSIVE_* and an empty config home)
// plus `env`, `input` on stdin.
Outcome run(const fs::path& dir, const std::string& args, const std::string& input = "",
            const std::string& env = "", const std::string& program = MISSIVE_CLI) {
    std::ofstream(dir / "stdin", std::ios::binary) << input;
    const std::string cmd = "cd " + quoted(dir.string()) +
                            " && env -u MISSIVE_SERVER -u MISSIVE_PASSWORD -u MISSIVE_CONFIG "
                            "-u MISSIVE_OUTBOX XDG_CONFIG_HOME=" +
                            quoted((dir / "xdg").string()) +
                            " XDG_STATE_HOME=" + quoted((dir / "state").string()) + " " + env +
                            " " + quoted(program) + " " + args + " <stdin >stdout 2>stderr";
    const int rc = std::system(cmd.c_str());  // NOLINT(concurrency-mt-unsafe,cert-env33-c)
    Outcome r;
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    r.out = read_file(dir / "stdout");
    r.err = read_file(dir / "stderr");
    return r;
}

std::string send_args(std::uint16_t port, const std::string& extra = "") {
    return "send --server smtp://127.0.0.1:" + std::to_string(port) +
           " --from ada@example.org --to bob@example.com --subject hi --text body --tls none " +
           extra;
}

}  // namespace

TEST(Cli, WithoutAServerTheMessageGoesToTheOutbox) {
    const fs::path dir = scratch();
    const Outcome r = run(dir,
                          "send --from 'Ada <ada@example.org>' --to bob@example.com "
                          "--bcc hidden@example.com --subject 'Grüße' --text 'Hello'");
    EXPECT_EQ(r.status, 0) << r.err;
    const fs::path db = dir / "state" / "missive" / "outbox.db";
    EXPECT_EQ(r.out, "queued as 1 in " + db.string() +
                         " (no server configured: `missive deliver --server URL` sends it)\n");
    EXPECT_FALSE(fs::exists(dir / "outbox")) << "never in the working directory";
    // The stored message: encoded, dated, identified, without Bcc; the Bcc in the envelope.
    const Outcome eml = run(dir, "queue export 1");
    EXPECT_EQ(eml.status, 0) << eml.err;
    EXPECT_NE(eml.out.find("Subject: =?UTF-8?"), std::string::npos) << eml.out;
    EXPECT_NE(eml.out.find("Date: "), std::string::npos);
    EXPECT_NE(eml.out.find("Message-ID: <"), std::string::npos);
    EXPECT_EQ(eml.out.find("hidden@example.com"), std::string::npos) << "Bcc in the stored text";
    const Outcome list = run(dir, "queue --json");
    EXPECT_NE(list.out.find("\"address\":\"hidden@example.com\",\"state\":\"pending\""),
              std::string::npos)
        << list.out;
    const Outcome json = run(dir, "send --from ada@example.org --to bob@example.com --json");
    EXPECT_EQ(json.status, 0);
    EXPECT_EQ(json.out, "{\"status\":\"queued\",\"id\":2,\"created\":true,\"outbox\":\"" +
                            db.string() + "\"}\n");
}

TEST(Cli, SentReportsTheReplyAndJson) {
    Server server(answering({}));
    const fs::path dir = scratch();
    const Outcome r = run(dir, send_args(server.port()));
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("250 2.0.0 queued as ABC123"), std::string::npos) << r.out;
    Server again(answering(
        {{"EHLO", "250-mx.test\r\n250 ENHANCEDSTATUSCODES"}, {"RCPT", "550 5.1.1 no such user"}}));
    const Outcome j =
        run(dir, "send --server smtp://127.0.0.1:" + std::to_string(again.port()) +
                     " --from ada@example.org --to bob@example.com --to carol@example.com"
                     " --tls none --json");
    EXPECT_EQ(j.status, 69) << j.err;  // every recipient refused
    EXPECT_NE(j.out.find("\"status\":\"failed\""), std::string::npos) << j.out;
    EXPECT_NE(j.out.find("\"kind\":\"all_recipients_refused\""), std::string::npos) << j.out;
    EXPECT_NE(j.out.find("{\"address\":\"bob@example.com\",\"accepted\":false,\"code\":550,"
                         "\"enhanced\":\"5.1.1\",\"text\":\"no such user\"}"),
              std::string::npos)
        << j.out;
}

TEST(Cli, PartialSuccessExitsZeroAndListsTheRefused) {
    Server server(
        answering_with([rcpt = 0](const std::string& line) mutable -> std::optional<std::string> {
            if (line.rfind("RCPT", 0) == 0) {
                return rcpt++ == 0 ? "250 2.1.5 ok" : "550 5.1.1 unknown user";
            }
            return line == "." ? std::optional<std::string>("250 2.0.0 queued as Q1")
                               : std::nullopt;
        }));
    const fs::path dir = scratch();
    const Outcome r = run(dir, send_args(server.port(), "--to carol@example.com --json"));
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("\"status\":\"partial\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"queue_id\":\"Q1\""), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("carol@example.com refused: 550 5.1.1 unknown user"), std::string::npos)
        << r.err;
}

TEST(Cli, ExitStatusFollowsSysexits) {
    const fs::path dir = scratch();

    struct Case {
        const char* what;
        std::map<std::string, std::string> answers;
        std::string greeting;
        int status;
    };

    const std::vector<Case> cases{
        {"greeting 421", {}, "421 4.3.2 busy", 75},
        {"greeting 554", {}, "554 5.7.1 go away", 69},
        {"MAIL 451", {{"MAIL", "451 4.3.0 try later"}}, "220 mx", 75},
        {"MAIL 553", {{"MAIL", "553 5.1.8 bad sender"}}, "220 mx", 69},
        {"RCPT 450", {{"RCPT", "450 4.2.0 greylisted"}}, "220 mx", 75},
        {"DATA 554", {{"DATA", "554 5.6.0 no"}}, "220 mx", 69},
        {"end of data 452", {{".", "452 4.3.1 full"}}, "220 mx", 75},
        {"end of data 552", {{".", "552 5.3.4 too big"}}, "220 mx", 69},
        {"garbage", {{"MAIL", "hello?"}}, "220 mx", 76},
    };
    for (const Case& c : cases) {
        Server server(answering(c.answers, c.greeting));
        const Outcome r = run(dir, send_args(server.port()));
        EXPECT_EQ(r.status, c.status) << c.what << ": " << r.err;
        EXPECT_NE(r.err.find("smtp://127.0.0.1:" + std::to_string(server.port())),
                  std::string::npos)
            << c.what << ": the message names the server: " << r.err;
    }
    // Authentication refused: 77.
    Server auth(
        answering({{"EHLO", "250-mx\r\n250 AUTH PLAIN"}, {"AUTH", "535 5.7.8 bad credentials"}}));
    const Outcome a = run(dir, send_args(auth.port(), "--user ada"), "", "MISSIVE_PASSWORD=secret");
    EXPECT_EQ(a.status, 77) << a.err;
    EXPECT_EQ(a.err.find("secret"), std::string::npos) << "the password is never printed";
    // Nobody listening: 75.
    std::uint16_t closed = 0;
    {
        Server gone(answering({}));
        closed = gone.port();
    }
    EXPECT_EQ(run(dir, send_args(closed, "--timeout 5")).status, 75);
    // A name that does not resolve: 68.
    EXPECT_EQ(run(dir,
                  "send --server smtp://nonexistent.invalid --timeout 5 --from a@example.org "
                  "--to b@example.org --text x")
                  .status,
              68);
    // A bad address: 65. A header injection: 65. A bad flag: 64. Unknown account: 78.
    EXPECT_EQ(run(dir, "send --from 'not an address' --to bob@example.com").status, 65);
    EXPECT_EQ(run(dir,
                  "send --from a@example.org --to b@example.org --header \"$(printf 'X-A: "
                  "1\\r\\nBcc: x@y.z')\"")
                  .status,
              65);
    EXPECT_EQ(run(dir, "send --no-such-flag").status, 64);
    EXPECT_EQ(run(dir, "send --account nope --from a@example.org --to b@example.org").status, 78);
    EXPECT_EQ(run(dir, "send --message missing.eml").status, 66);
}

TEST(Cli, DryRunPrintsTheMessageAndSendsNothing) {
    const fs::path dir = scratch();
    const Outcome r = run(dir,
                          "send --server smtp://127.0.0.1:1 --dry-run --from ada@example.org "
                          "--to bob@example.com --bcc carol@example.com --subject hi --text body");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("Subject: hi\r\n"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("carol"), std::string::npos);
    EXPECT_NE(r.err.find("would send from <ada@example.org> to <bob@example.com> "
                         "<carol@example.com>"),
              std::string::npos)
        << r.err;
}

// The dry run prints the envelope a send would use: one function makes both (IDNA A-labels for
// Unicode domains, each recipient once).
TEST(Cli, DryRunEnvelopeIsTheSendsEnvelope) {
    const fs::path dir = scratch();
    const Outcome r = run(dir,
                          "send --server smtp://127.0.0.1:1 --dry-run --from ada@bücher.example "
                          "--to bob@münchen.example --cc bob@münchen.example --text body");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("would send from <ada@xn--bcher-kva.example> to "
                         "<bob@xn--mnchen-3ya.example> via"),
              std::string::npos)
        << r.err;
}

TEST(Cli, HelpForEverySubcommand) {
    const fs::path dir = scratch();
    for (const char* sub : {"", "send ", "sendmail ", "capture "}) {
        const Outcome r = run(dir, std::string(sub) + "--help");
        EXPECT_EQ(r.status, 0) << sub << r.err;
        EXPECT_GT(r.out.size(), 200U) << sub;
    }
}

TEST(CliPostfix, SendAndSendmailDeliver) {
    const std::uint16_t port = port_of("MISSIVE_TEST_POSTFIX_PORT");
    REQUIRE_SERVER(port);
    const fs::path dir = scratch();
    const std::string token = unique_token();
    const std::string server = "MISSIVE_SERVER=smtp://127.0.0.1:" + std::to_string(port) +
                               "?ca=" + setting("MISSIVE_TEST_CA_FILE");
    std::ofstream(dir / "report.txt") << "quarterly figures " << token << "\n";
    const Outcome s =
        run(dir,
            "send --from 'Ada <ada@example.org>' --to bob@example.com --subject 'Report " + token +
                "' --text 'See attached.' --attach report.txt --json",
            "", server);
    EXPECT_EQ(s.status, 0) << s.err;
    EXPECT_NE(s.out.find("\"status\":\"sent\""), std::string::npos) << s.out;
    const auto sent = find_delivered(setting("MISSIVE_TEST_DIR") + "/mail", token, 1);
    ASSERT_EQ(sent.size(), 1U);
    EXPECT_NE(read_file(sent[0]).find("filename=report.txt"), std::string::npos);

    // sendmail -t: recipients from To, Cc and Bcc; Bcc removed from what is delivered.
    const std::string token2 = unique_token();
    const std::string message =
        "From: Ada <ada@example.org>\nTo: bob@example.com\n"
        "Bcc: carol@example.com\nSubject: piped " +
        token2 + "\n\nBody line\n.\nafter a dot line\n";
    const Outcome m = run(dir, "sendmail -t -i", message, server);
    EXPECT_EQ(m.status, 0) << m.err;
    const auto piped = find_delivered(setting("MISSIVE_TEST_DIR") + "/mail", token2, 2);
    ASSERT_EQ(piped.size(), 2U);  // bob and carol
    for (const auto& f : piped) {
        const std::string text = read_file(f);
        EXPECT_EQ(text.find("\nBcc:"), std::string::npos) << text;
        EXPECT_NE(text.find("Body line\n.\nafter a dot line"), std::string::npos) << text;
    }
}

TEST(Cli, AccountsFromTheConfigFile) {
    Server server([](Conversation& c) {
        c.send_line("220 mx.test");
        for (;;) {
            const std::string line = c.read_line();
            if (line.rfind("EHLO", 0) == 0) {
                c.send_line("250-mx.test\r\n250 AUTH PLAIN");
            } else if (line.rfind("AUTH PLAIN", 0) == 0) {
                // "\0ada\0s3cret" in base64: the password came from the command.
                c.send_line(line == "AUTH PLAIN AGFkYQBzM2NyZXQ=" ? "235 ok" : "535 no");
            } else if (line == "DATA") {
                c.send_line("354 go");
                (void)c.read_data();
                c.send_line("250 queued");
            } else if (line == "QUIT") {
                c.send_line("221 bye");
                return;
            } else {
                c.send_line("250 ok");
            }
        }
    });
    const fs::path dir = scratch();
    fs::create_directories(dir / "xdg" / "missive");
    const fs::path config = dir / "xdg" / "missive" / "config.toml";
    std::ofstream(config) << "default = \"dev\"\n[accounts.dev]\nserver = \"smtp://127.0.0.1:"
                          << server.port()
                          << "\"\nuser = \"ada\"\npassword_command = \"echo s3cret\"\n"
                             "from = \"Ada <ada@example.org>\"\ntls = \"none\"\n";
    fs::permissions(config, fs::perms::owner_read | fs::perms::owner_write);
    const Outcome r = run(dir, "send --to bob@example.com --subject hi --text body");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("250 queued"), std::string::npos) << r.out;

    // An unknown account: 78, naming it.
    const Outcome w = run(dir, "send --account other --to b@example.org --from a@example.org");
    EXPECT_EQ(w.status, 78);
    EXPECT_NE(w.err.find("no account 'other'"), std::string::npos) << w.err;
    // A syntax error names the file, line and column.
    std::ofstream(config) << "[accounts.dev]\nserver = \n";
    const Outcome s = run(dir, "send --to b@example.org --from a@example.org");
    EXPECT_EQ(s.status, 78);
    EXPECT_NE(s.err.find(config.string() + ":2:"), std::string::npos) << s.err;
}

TEST(CliDovecot, SubmissionWithPasswordFileAndCommand) {
    const std::uint16_t port = port_of("MISSIVE_TEST_DOVECOT_SUBMISSION_PORT");
    REQUIRE_SERVER(port);
    const fs::path dir = scratch();
    std::ofstream(dir / "password") << "Secret-456\n";
    const std::string server = "--server 'submission://127.0.0.1:" + std::to_string(port) +
                               "?ca=" + setting("MISSIVE_TEST_CA_FILE") +
                               "' --user bob@example.com";
    const std::string token = unique_token();
    const Outcome file = run(dir, "send " + server +
                                      " --password-file password --from bob@example.com --to "
                                      "carol@example.org --subject " +
                                      token + " --text hi --trace");
    EXPECT_EQ(file.status, 0) << file.err;
    EXPECT_NE(file.err.find("AUTH "), std::string::npos) << "logged in: " << file.err;
    EXPECT_EQ(file.err.find("Secret-456"), std::string::npos) << "no password in the trace";
    EXPECT_EQ(find_delivered(setting("MISSIVE_TEST_DIR") + "/sink", token, 1).size(), 1U);
    const Outcome wrong = run(dir, "send " + server +
                                       " --password-command 'echo wrong' --from bob@example.com "
                                       "--to carol@example.org --text hi");
    EXPECT_EQ(wrong.status, 77) << wrong.err;
    EXPECT_NE(wrong.err.find("submission://127.0.0.1:" + std::to_string(port)), std::string::npos)
        << wrong.err;
}

// ---- TLS flags: --tls and the account's tls set the mode; the scheme is only the default ----

namespace {

std::string plain_args(std::uint16_t port, const std::string& tls) {
    return "send --server smtp://127.0.0.1:" + std::to_string(port) +
           " --from ada@example.org --to bob@example.com --subject hi --text body --tls " + tls;
}

// The lines a client sent, without their CRLF.
std::vector<std::string> lines_of(const std::string& received) {
    std::vector<std::string> out;
    std::size_t at = 0;
    while (at < received.size()) {
        const std::size_t end = received.find("\r\n", at);
        out.push_back(received.substr(at, end == std::string::npos ? end : end - at));
        at = end == std::string::npos ? received.size() : end + 2;
    }
    return out;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST(CliTls, RequiredWithoutStarttlsSendsOnlyEhloAndQuit) {
    Server server(answering({}));  // EHLO: no STARTTLS
    const fs::path dir = scratch();
    const Outcome r = run(dir, plain_args(server.port(), "required"));
    EXPECT_EQ(r.status, 75) << r.err;  // as Postfix defers it: the server may offer it later
    EXPECT_NE(r.err.find("does not offer STARTTLS"), std::string::npos) << r.err;
    ASSERT_TRUE(server.wait_for(1));
    const std::vector<std::string> sent = lines_of(server.received());
    ASSERT_EQ(sent.size(), 2U) << server.received();
    EXPECT_EQ(sent[0].rfind("EHLO ", 0), 0U) << sent[0];
    EXPECT_EQ(sent[1], "QUIT");

    // The account's tls does the same.
    fs::create_directories(dir / "xdg" / "missive");
    std::ofstream(dir / "xdg" / "missive" / "config.toml")
        << "[accounts.a]\nserver = \"smtp://127.0.0.1:" << server.port()
        << "\"\ntls = \"required\"\n";
    const Outcome a = run(dir, "send --from ada@example.org --to bob@example.com --text x");
    EXPECT_EQ(a.status, 75) << a.err;
    ASSERT_TRUE(server.wait_for(2));
    EXPECT_EQ(lines_of(server.received(1)).size(), 2U) << server.received(1);
}

TEST(CliTls, StarttlsRefusedIsTemporaryWith4xxPermanentWith5xx) {
    for (const auto& [reply, status] : std::vector<std::pair<std::string, int>>{
             {"454 4.7.0 TLS not available", 75}, {"554 5.7.0 no TLS for you", 69}}) {
        Server server(answering({{"EHLO", "250-mx.test\r\n250 STARTTLS"}, {"STARTTLS", reply}}));
        const fs::path dir = scratch();
        const Outcome r = run(dir, plain_args(server.port(), "required"));
        EXPECT_EQ(r.status, status) << reply << ": " << r.err;
        ASSERT_TRUE(server.wait_for(1));
        EXPECT_EQ(server.received().find("MAIL"), std::string::npos) << server.received();
    }
}

TEST(CliTls, NoneNeverSendsStarttls) {
    Server server(answering({{"EHLO", "250-mx.test\r\n250 STARTTLS"}}));
    const fs::path dir = scratch();
    const Outcome r = run(dir, plain_args(server.port(), "none"));
    EXPECT_EQ(r.status, 0) << r.err;
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_EQ(server.received().find("STARTTLS"), std::string::npos) << server.received();
    EXPECT_NE(server.received().find("MAIL FROM:<ada@example.org>"), std::string::npos);
}

TEST(CliTls, ImplicitAgainstAPlainServerSendsNothingInClear) {
    Server server(answering({}));
    const fs::path dir = scratch();
    const Outcome r = run(dir, plain_args(server.port(), "implicit") + " --timeout 5");
    EXPECT_EQ(r.status, 75) << r.err;  // a TLS failure is temporary
    ASSERT_TRUE(server.wait_for(1));
    const std::string got = server.received();
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got[0], '\x16') << "a TLS handshake record comes first";
    for (const char* clear : {"EHLO", "HELO", "MAIL", "RCPT", "DATA", "body"}) {
        EXPECT_EQ(got.find(clear), std::string::npos) << clear;
    }
}

TEST(CliTls, AModeThatContradictsTheSchemeIsAConfigError) {
    Server server(answering({}));
    const fs::path dir = scratch();
    const Outcome r = run(dir, "send --server smtps://127.0.0.1:" + std::to_string(server.port()) +
                                   " --tls opportunistic --from a@example.org --to b@example.org "
                                   "--text x");
    EXPECT_EQ(r.status, 78) << r.err;
    EXPECT_NE(r.err.find("TLS mode 'opportunistic' contradicts smtps://"), std::string::npos)
        << r.err;
    EXPECT_EQ(server.connections(), 0U);
}

// ---- Outcome unknown: 74, "unknown" in JSON, and what to do in words ----

TEST(CliOutcome, LostAfterTheEndOfTheDataIsUnknown) {
    const auto dropping = [](Conversation& c) {
        c.send_line("220 mx.test");
        for (;;) {
            const std::string line = c.read_line();
            if (line == "DATA") {
                c.send_line("354 go");
                (void)c.read_data();
                c.close();  // the message may have been queued: nobody knows
                return;
            }
            c.send_line(line.rfind("EHLO", 0) == 0 ? "250 mx.test" : "250 ok");
        }
    };
    Server server(dropping);
    const fs::path dir = scratch();
    const Outcome r = run(dir, send_args(server.port()));
    EXPECT_EQ(r.status, 74) << r.err;
    EXPECT_NE(r.err.find("the server may have accepted the message; check before sending it "
                         "again"),
              std::string::npos)
        << r.err;
    const Outcome j = run(dir, send_args(server.port(), "--json"));
    EXPECT_EQ(j.status, 74) << j.err;
    EXPECT_EQ(j.out.rfind("{\"status\":\"unknown\"", 0), 0U) << j.out;
    EXPECT_NE(j.out.find("\"kind\":\"outcome_unknown\""), std::string::npos) << j.out;
    EXPECT_NE(j.out.find("\"exit\":74"), std::string::npos) << j.out;
}

// ---- No secrets in output: a proxy's password in the server URL ----

namespace {

constexpr const char* proxy_secret = "PW-s3cret-77";

// A SOCKS5 proxy (RFC 1928/1929) that is also the mail server behind it. `accept` says
// whether it takes the user and password.
Server::Handler socks5_then_smtp(bool accept) {
    return [accept](Conversation& c) {
        if (c.read_exact(3) != std::string("\x05\x01\x02", 3)) {
            return;
        }
        c.send_raw(std::string("\x05\x02", 2));
        const std::string head = c.read_exact(2);
        const std::string user = c.read_exact(static_cast<unsigned char>(head[1]));
        const std::string length = c.read_exact(1);
        const std::string password = c.read_exact(static_cast<unsigned char>(length[0]));
        if (!accept || password != proxy_secret) {
            c.send_raw(std::string("\x01\x01", 2));
            return;
        }
        c.send_raw(std::string("\x01\x00", 2));
        const std::string request = c.read_exact(5);
        (void)c.read_exact(static_cast<unsigned char>(request[4]) + 2U);
        c.send_raw(std::string("\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x19", 10));
        answering({})(c);
    };
}

}  // namespace

TEST(CliSecrets, AProxyPasswordIsPrintedNowhere) {
    Server good(socks5_then_smtp(true));
    Server refusing(socks5_then_smtp(false));
    const fs::path dir = scratch();
    const auto server = [](std::uint16_t proxy_port, bool encoded) {
        const std::string proxy = encoded ? "socks5%3A%2F%2Fada%3A" + std::string(proxy_secret) +
                                                "%40127.0.0.1%3A" + std::to_string(proxy_port)
                                          : "socks5://ada:" + std::string(proxy_secret) +
                                                "@127.0.0.1:" + std::to_string(proxy_port);
        return "--server 'smtp://mx.test?proxy=" + proxy + "'";
    };
    std::uint16_t nobody = 0;
    {
        Server gone(answering({}));
        nobody = gone.port();
    }
    const std::string message = " --from ada@example.org --to bob@example.com --text x --tls none";

    struct Case {
        std::string args;
        int status;
    };

    for (const bool encoded : {false, true}) {
        for (const Case& c :
             std::vector<Case>{{server(good.port(), encoded) + message, 0},
                               {server(good.port(), encoded) + message + " --json", 0},
                               {server(good.port(), encoded) + message + " --trace", 0},
                               {server(refusing.port(), encoded) + message, 75},
                               {server(refusing.port(), encoded) + message + " --json --trace", 75},
                               {server(nobody, encoded) + message + " --json", 75},
                               {server(good.port(), encoded) + message + " --dry-run", 0}}) {
            const Outcome r = run(dir, "send " + c.args);
            EXPECT_EQ(r.status, c.status) << c.args << "\n" << r.err;
            EXPECT_EQ(r.out.find(proxy_secret), std::string::npos) << c.args << "\n" << r.out;
            EXPECT_EQ(r.err.find(proxy_secret), std::string::npos) << c.args << "\n" << r.err;
            EXPECT_TRUE(r.out.find(":***@127.0.0.1") != std::string::npos ||
                        r.err.find(":***@127.0.0.1") != std::string::npos)
                << c.args << "\n"
                << r.out << r.err;
        }
    }
    EXPECT_GE(good.connections(), 6U);  // the sends really went through the proxy
}

// ---- Server text is escaped before it is printed ----

namespace {

constexpr const char* hostile =
    "\x1b]0;pwned\x07\x1b[2J\xc2\x9b"
    "31m\xff\r";

void expect_no_raw_controls(const std::string& text, const std::string& what) {
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        EXPECT_FALSE((u < 0x20 && c != '\n') || u == 0x7f || u == 0xff)
            << what << ": raw byte " << static_cast<int>(u) << " in: " << text;
    }
    EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos) << what << ": raw C1 control";
}

bool python_accepts_json(const fs::path& file) {
    const std::string cmd =
        "python3 -c 'import json,sys; json.loads(open(sys.argv[1], \"rb\")"
        ".read())' " +
        quoted(file.string()) + " 2>/dev/null";
    return std::system(cmd.c_str()) == 0;  // NOLINT(concurrency-mt-unsafe,cert-env33-c)
}

}  // namespace

TEST(CliEscaping, ServerTextNeverReachesTheTerminalRaw) {
    const std::string evil = hostile;
    Server server(answering({{"EHLO", "250-mx.test " + evil + "\r\n250 8BITMIME"},
                             {"RCPT", "250 ok"},
                             {".", "250 2.0.0 queued " + evil}}));
    Server refusing(answering({{"RCPT", "550 5.1.1 no " + evil}}));
    Server partial([&](Conversation& c) {
        c.send_line("220 mx.test");
        int rcpt = 0;
        for (;;) {
            const std::string line = c.read_line();
            if (line.rfind("RCPT", 0) == 0) {
                c.send_line(rcpt++ == 0 ? "250 ok" : "550 5.1.1 gone " + evil);
            } else if (line == "DATA") {
                c.send_line("354 go");
                (void)c.read_data();
                c.send_line("250 queued " + evil);
            } else if (line == "QUIT") {
                c.send_line("221 bye");
                return;
            } else {
                c.send_line("250 ok");
            }
        }
    });
    const fs::path dir = scratch();
    for (const auto& [port, status] : std::vector<std::pair<std::uint16_t, int>>{
             {server.port(), 0}, {refusing.port(), 69}, {partial.port(), 0}}) {
        for (const std::string extra : {"", "--trace", "--json", "--json --trace"}) {
            const std::string what = std::to_string(port) + " " + extra;
            const Outcome r = run(dir, send_args(port, "--to carol@example.com " + extra));
            EXPECT_EQ(r.status, status) << what << ": " << r.err;
            expect_no_raw_controls(r.err, what + " stderr");
            if (extra.find("--json") != std::string::npos) {
                EXPECT_TRUE(python_accepts_json(dir / "stdout")) << what << ": " << r.out;
                expect_no_raw_controls(r.out, what + " stdout");
            } else {
                expect_no_raw_controls(r.out, what + " stdout");
            }
            // Shown, escaped: for the terminal (stderr, and stdout without --json) as \x1b, in
            // JSON as \u001b, invalid UTF-8 as U+FFFD.
            const bool on_terminal =
                (r.out + r.err).find("\\x1b]0;pwned\\x07\\x1b[2J\\u009b31m\\xff") !=
                std::string::npos;
            const bool in_json = r.out.find("\\u001b]0;pwned\\u0007\\u001b[2J\\u009b31m\\ufffd") !=
                                 std::string::npos;
            EXPECT_TRUE(on_terminal || (extra == "--json" && in_json))
                << what << ": the text is shown, escaped: " << r.out << r.err;
        }
    }
}

// ---- --password-command: stdin from /dev/null, bounded, never quoted ----

TEST(CliPasswordCommand, DoesNotEatTheMessageOnStdin) {
    std::string auth;
    Server server([&auth](Conversation& c) {
        c.send_line("220 mx.test");
        for (;;) {
            const std::string line = c.read_line();
            if (line.rfind("EHLO", 0) == 0) {
                c.send_line("250-mx.test\r\n250 AUTH PLAIN");
            } else if (line.rfind("AUTH", 0) == 0) {
                auth = line;
                c.send_line("235 ok");
            } else if (line == "DATA") {
                c.send_line("354 go");
                (void)c.read_data();
                c.send_line("250 queued");
            } else if (line == "QUIT") {
                c.send_line("221 bye");
                return;
            } else {
                c.send_line("250 ok");
            }
        }
    });
    const fs::path dir = scratch();
    const std::string message =
        "From: ada@example.org\r\nTo: bob@example.com\r\nSubject: stdin\r\n\r\nthe whole body\r\n";
    const Outcome r = run(dir,
                          "send --server smtp://127.0.0.1:" + std::to_string(server.port()) +
                              " --tls none --user ada --message - --password-command "
                              "'cat >/dev/null; echo s3cret'",
                          message);
    EXPECT_EQ(r.status, 0) << r.err;
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_EQ(auth, "AUTH PLAIN AGFkYQBzM2NyZXQ=");  // "\0ada\0s3cret"
    EXPECT_NE(server.received().find("Subject: stdin\r\n\r\nthe whole body\r\n"), std::string::npos)
        << server.received();
}

TEST(CliPasswordCommand, FailuresNeverQuoteTheCommand) {
    const fs::path dir = scratch();
    const std::string args =
        "send --server smtp://127.0.0.1:1 --user ada --from a@example.org --to b@example.org "
        "--text x --password-command ";
    const Outcome failed = run(dir, args + "'echo TOKEN-9 >/dev/null; exit 3'");
    EXPECT_EQ(failed.status, 78) << failed.err;
    EXPECT_NE(failed.err.find("the password command failed with exit status 3"), std::string::npos)
        << failed.err;
    EXPECT_EQ(failed.err.find("TOKEN-9"), std::string::npos) << failed.err;
    const Outcome endless = run(dir, args + "'yes TOKEN-9 | head -c 100000'");
    EXPECT_EQ(endless.status, 78) << endless.err;
    EXPECT_NE(endless.err.find("printed more than 65536 octets and was killed"), std::string::npos)
        << endless.err;
    EXPECT_EQ(endless.err.find("TOKEN-9"), std::string::npos) << endless.err;
}

// ---- The config file must be 0600 when it holds a password or a password command ----

TEST(CliConfig, ASecretInAFileOthersCanReachIsRefused) {
    Server server(answering({{"EHLO", "250-mx.test\r\n250 AUTH PLAIN"}, {"AUTH", "235 ok"}}));
    const fs::path dir = scratch();
    fs::create_directories(dir / "xdg" / "missive");
    const fs::path config = dir / "xdg" / "missive" / "config.toml";
    const std::string server_line =
        "server = \"smtp://127.0.0.1:" + std::to_string(server.port()) + "\"\ntls = \"none\"\n";
    const std::string send = "send --from a@example.org --to b@example.org --text x";

    struct Case {
        std::string secret;
        fs::perms mode;
    };

    const auto rw = fs::perms::owner_read | fs::perms::owner_write;
    for (const Case& c : std::vector<Case>{
             {"password = \"x\"\nuser = \"u\"\n", rw | fs::perms::others_read},
             {"password = \"x\"\nuser = \"u\"\n", rw | fs::perms::group_read},
             {"password_command = \"echo x\"\nuser = \"u\"\n", rw | fs::perms::group_write},
             {"password_command = \"echo x\"\nuser = \"u\"\n", rw | fs::perms::others_write}}) {
        std::ofstream(config) << "[accounts.a]\n" << server_line << c.secret;
        fs::permissions(config, c.mode);
        const Outcome r = run(dir, send);
        EXPECT_EQ(r.status, 78) << c.secret << r.err;
        EXPECT_NE(r.err.find("chmod 600 " + config.string()), std::string::npos) << r.err;
    }
    // 0600: accepted. Without a secret, the mode does not matter.
    fs::permissions(config, rw);
    EXPECT_EQ(run(dir, send).status, 0);
    std::ofstream(config) << "[accounts.a]\n" << server_line;
    fs::permissions(config, rw | fs::perms::others_read);
    EXPECT_EQ(run(dir, send).status, 0);
    // Someone else's file (only root can make one here).
    if (::geteuid() == 0) {
        std::ofstream(config) << "[accounts.a]\n"
                              << server_line << "password = \"x\"\nuser = \"u\"\n";
        fs::permissions(config, rw);
        ASSERT_EQ(::chown(config.c_str(), 65534, 65534), 0);
        const Outcome r = run(dir, send);
        EXPECT_EQ(r.status, 78) << r.err;
        EXPECT_NE(r.err.find("belongs to another user"), std::string::npos) << r.err;
    }
}

// ---- Time limits ----

TEST(CliTimeouts, OutOfRangeIsAUsageError) {
    const fs::path dir = scratch();
    for (const char* bad : {"1e300", "inf", "nan", "0", "-1", "0.0001", "86401", "3s"}) {
        for (const char* flag : {"--timeout", "--max-time"}) {
            const Outcome r = run(dir, std::string("send --from a@example.org --to b@example.org "
                                                   "--text x ") +
                                           flag + " " + bad);
            EXPECT_EQ(r.status, 64) << flag << " " << bad << ": " << r.err;
            EXPECT_NE(r.err.find(flag), std::string::npos) << r.err;
            EXPECT_NE(r.err.find("0.001 to 86400"), std::string::npos) << r.err;
        }
    }
    fs::create_directories(dir / "xdg" / "missive");
    for (const char* bad : {"inf", "nan", "0", "-5", "1e300", "0.0001"}) {
        std::ofstream(dir / "xdg" / "missive" / "config.toml")
            << "[accounts.a]\nserver = \"smtp://127.0.0.1:1\"\ntimeout = " << bad << "\n";
        const Outcome r = run(dir, "send --from a@example.org --to b@example.org --text x");
        EXPECT_EQ(r.status, 78) << bad << ": " << r.err;
        EXPECT_NE(r.err.find("accounts.a.timeout' must be a number of seconds from 0.001 to "
                             "86400"),
                  std::string::npos)
            << r.err;
    }
}

TEST(CliTimeouts, AServerThatStopsReadingMidMessage) {
    Server server([](Conversation& c) {
        c.send_line("220 mx.test");
        for (;;) {
            const std::string line = c.read_line();
            if (line == "DATA") {
                c.send_line("354 go");
                c.delay(std::chrono::seconds(60));  // reads nothing more
                return;
            }
            c.send_line(line.rfind("EHLO", 0) == 0 ? "250 mx.test" : "250 ok");
        }
    });
    const fs::path dir = scratch();
    {
        std::ofstream big(dir / "big.bin", std::ios::binary);
        const std::string mib(std::size_t{1} << 20U, '\x5a');
        for (int i = 0; i < 20; ++i) {
            big << mib;
        }
    }
    const auto start = std::chrono::steady_clock::now();
    const Outcome r = run(dir, send_args(server.port(), "--attach big.bin --timeout 3"));
    const double took = seconds_since(start);
    EXPECT_EQ(r.status, 75) << r.err;
    EXPECT_LT(took, 10.0) << r.err;
    EXPECT_GT(took, 2.5) << r.err;
    EXPECT_NE(r.err.find("timed out after 3 s (data_block_timeout)"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--timeout 3 s for each wait"), std::string::npos) << r.err;
}

TEST(CliTimeouts, NoReplyToTheFinalDotIsAnUnknownOutcome) {
    Server server([](Conversation& c) {
        c.send_line("220 mx.test");
        for (;;) {
            const std::string line = c.read_line();
            if (line == "DATA") {
                c.send_line("354 go");
                (void)c.read_data();
                c.delay(std::chrono::seconds(60));  // never answers the final dot
                return;
            }
            c.send_line(line.rfind("EHLO", 0) == 0 ? "250 mx.test" : "250 ok");
        }
    });
    const fs::path dir = scratch();
    const auto start = std::chrono::steady_clock::now();
    const Outcome r = run(dir, send_args(server.port(), "--timeout 3"));
    const double took = seconds_since(start);
    // The server may have queued it and be slow to say so: a retry could deliver it twice, so
    // this is 74 (outcome unknown), not 75.
    EXPECT_EQ(r.status, 74) << r.err;
    EXPECT_LT(took, 10.0) << r.err;
    EXPECT_NE(r.err.find("timed out after 3 s (final_reply_timeout)"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("check before sending it again"), std::string::npos) << r.err;
}

TEST(CliTimeouts, MaxTimeBoundsTheWholeRun) {
    Server server([](Conversation& c) {
        c.send_line("220 mx.test");
        for (;;) {
            const std::string line = c.read_line();
            c.delay(std::chrono::milliseconds(1500));  // each answer within any --timeout
            if (line == "DATA") {
                c.send_line("354 go");
                (void)c.read_data();
                c.delay(std::chrono::milliseconds(1500));
                c.send_line("250 queued");
            } else if (line == "QUIT") {
                c.send_line("221 bye");
                return;
            } else {
                c.send_line(line.rfind("EHLO", 0) == 0 ? "250 mx.test" : "250 ok");
            }
        }
    });
    const fs::path dir = scratch();
    const auto start = std::chrono::steady_clock::now();
    const Outcome r = run(dir, "send --server smtp://127.0.0.1:" + std::to_string(server.port()) +
                                   " --tls none --from a@example.org --to b@example.org --text x "
                                   "--timeout 10 --max-time 2");
    const double took = seconds_since(start);
    EXPECT_EQ(r.status, 75) << r.err;
    EXPECT_LT(took, 4.0) << r.err;
    EXPECT_NE(r.err.find("--max-time 2 s for the whole run"), std::string::npos) << r.err;
}

// ---- SIZE (RFC 1870): a message larger than the server's limit is never sent ----

TEST(CliSize, ATooLargeMessageIsRefusedBeforeMail) {
    const fs::path dir = scratch();
    const std::string body(5000, 'b');
    std::ofstream(dir / "big.eml", std::ios::binary)
        << "From: ada@example.org\r\nTo: bob@example.com\r\nSubject: big\r\n\r\n"
        << body << "\r\n";

    struct Case {
        std::string args;
        std::string input;
    };

    const std::string message_text = read_file(dir / "big.eml");
    for (const Case& c :
         std::vector<Case>{{"send --message big.eml", ""},
                           {"send --from ada@example.org --to bob@example.com --text " + body, ""},
                           {"sendmail -i bob@example.com", message_text},
                           {"sendmail bob@example.com", message_text}}) {
        Server server(answering({{"EHLO", "250-mx.test\r\n250 SIZE 1000"}}));
        const std::string env = "MISSIVE_SERVER=smtp://127.0.0.1:" + std::to_string(server.port());
        // The server's own tls: opportunistic, and it offers no STARTTLS.
        const Outcome r = run(dir, c.args, c.input, env);
        EXPECT_EQ(r.status, 69) << c.args << ": " << r.err;
        EXPECT_NE(r.err.find("1000"), std::string::npos) << c.args << ": " << r.err;
        server.stop();
        EXPECT_EQ(server.received().find("MAIL"), std::string::npos)
            << c.args << ": " << server.received();
        EXPECT_EQ(server.received().find("bbbbbbbb"), std::string::npos) << c.args;
    }
}

// ---- A message that cannot be read is an input error (66), and nothing is sent ----

TEST(CliInput, AReadErrorIsExit66AndNothingIsSent) {
    Server server(answering({}));
    const fs::path dir = scratch();
    fs::create_directories(dir / "not-a-file");
    const Outcome r = run(dir, "send --server smtp://127.0.0.1:" + std::to_string(server.port()) +
                                   " --tls none --message not-a-file");
    EXPECT_EQ(r.status, 66) << r.err;
    EXPECT_NE(r.err.find("reading 'not-a-file' failed: Is a directory"), std::string::npos)
        << r.err;
    EXPECT_EQ(server.received().find("MAIL"), std::string::npos);
}
