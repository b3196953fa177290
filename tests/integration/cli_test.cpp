// End-to-end tests of the `missive` binary: exit statuses against the in-process
// testing::Server, the outbox default, --json, --dry-run, and real delivery through Postfix
// (send, sendmail -t with Bcc). A real mail program (bsd-mailx) using missive as its sendmail
// is tested by tests/integration/check/sendmail_mailx.sh.
#include <missive/testing/server.hpp>

#include "support.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#ifndef MISSIVE_CLI
#error "MISSIVE_CLI (the path of the missive binary) must be defined"
#endif

namespace fs = std::filesystem;
using namespace missive::integration;
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
                            "XDG_CONFIG_HOME=" +
                            quoted((dir / "xdg").string()) + " " + env + " " + quoted(program) +
                            " " + args + " <stdin >stdout 2>stderr";
    const int rc = std::system(cmd.c_str());  // NOLINT(concurrency-mt-unsafe,cert-env33-c)
    Outcome r;
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    r.out = read_file(dir / "stdout");
    r.err = read_file(dir / "stderr");
    return r;
}

// A server that answers each command by its first word; EHLO gets a plain 250.
std::function<void(Conversation&)> answering(std::map<std::string, std::string> answers,
                                             std::string greeting = "220 mx.test") {
    return [answers = std::move(answers), greeting](Conversation& c) {
        c.send_line(greeting);
        if (greeting.rfind("220", 0) != 0) {
            return;
        }
        for (;;) {
            const std::string line = c.read_line();
            const std::string verb = line.substr(0, line.find_first_of(" :"));
            const auto it = answers.find(verb);
            std::string reply = it != answers.end() ? it->second
                                : verb == "EHLO"    ? "250 mx.test"
                                : verb == "QUIT"    ? "221 bye"
                                : verb == "DATA"    ? "354 go ahead"
                                                    : "250 ok";
            c.send_line(reply);
            if (verb == "DATA" && reply.rfind("354", 0) == 0) {
                (void)c.read_data();
                const auto end = answers.find(".");
                c.send_line(end != answers.end() ? end->second : "250 2.0.0 queued as ABC123");
            }
            if (verb == "QUIT") {
                return;
            }
        }
    };
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
    EXPECT_NE(r.out.find("saved to outbox/"), std::string::npos) << r.out;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir / "outbox")) {
        files.push_back(e.path());
    }
    ASSERT_EQ(files.size(), 1U);
    EXPECT_EQ(files[0].extension(), ".eml");
    const std::string eml = read_file(files[0]);
    EXPECT_NE(eml.find("Subject: =?UTF-8?"), std::string::npos) << eml;
    EXPECT_NE(eml.find("Date: "), std::string::npos);
    EXPECT_NE(eml.find("Message-ID: <"), std::string::npos);
    EXPECT_EQ(eml.find("hidden@example.com"), std::string::npos) << "Bcc in a saved file";
    const Outcome json = run(dir, "send --from ada@example.org --to bob@example.com --json");
    EXPECT_EQ(json.status, 0);
    EXPECT_EQ(json.out.rfind("{\"status\":\"saved\",\"file\":\"outbox/", 0), 0U) << json.out;
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
    Server server([](Conversation& c) {
        c.send_line("220 mx.test");
        int rcpt = 0;
        for (;;) {
            const std::string line = c.read_line();
            if (line.rfind("RCPT", 0) == 0) {
                c.send_line(rcpt++ == 0 ? "250 2.1.5 ok" : "550 5.1.1 unknown user");
            } else if (line == "DATA") {
                c.send_line("354 go");
                (void)c.read_data();
                c.send_line("250 2.0.0 queued as Q1");
            } else if (line == "QUIT") {
                c.send_line("221 bye");
                return;
            } else {
                c.send_line("250 ok");
            }
        }
    });
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
    const Outcome r = run(dir, "send --to bob@example.com --subject hi --text body");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("250 queued"), std::string::npos) << r.out;

    // A literal password in a file others can read: a warning (and the unknown account: 78).
    std::ofstream(config) << "[accounts.dev]\nserver = \"smtp://127.0.0.1:1\"\npassword = \"x\"\n";
    fs::permissions(config, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                fs::perms::others_read);
    const Outcome w = run(dir, "send --account other --to b@example.org --from a@example.org");
    EXPECT_EQ(w.status, 78);
    EXPECT_NE(w.err.find("holds a password and is readable by others; chmod 600"),
              std::string::npos)
        << w.err;
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
