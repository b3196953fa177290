// --password-command and password_command: run without a shell of ours, bounded in time and
// output, stdin from /dev/null, and never quoted in errors.
#include <missive/error.hpp>

#include "config.hpp"
#include "deliver.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

using missive::Error;
using missive::cli::CommandLimits;
using missive::cli::PasswordSource;
using missive::cli::read_password;

namespace {

PasswordSource command(const std::string& text) {
    return {PasswordSource::Kind::command, text};
}

std::string failure(const std::string& text, const CommandLimits& limits = {}) {
    try {
        (void)read_password(command(text), limits);
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), missive::errc::config) << text;
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST(PasswordCommand, FirstLineOfItsOutput) {
    EXPECT_EQ(read_password(command("printf 's3cret\\r\\nsecond line\\n'")).reveal(), "s3cret");
}

TEST(PasswordCommand, StdinIsDevNull) {
    // A command that reads stdin gets an immediate end of file (it would eat the message).
    EXPECT_EQ(read_password(command("if read x; then echo got-$x; else echo eof; fi")).reveal(),
              "eof");
}

TEST(PasswordCommand, ErrorsNeverQuoteTheCommand) {
    EXPECT_EQ(failure("echo SECRET-TOKEN >/dev/null; exit 3"),
              "the password command failed with exit status 3");
    EXPECT_EQ(failure("true SECRET-TOKEN"), "the password command printed nothing");
    EXPECT_EQ(failure("kill -TERM $$ # SECRET-TOKEN"),
              "the password command was killed by signal 15");
}

TEST(PasswordCommand, KilledAfterItsTimeLimit) {
    const auto start = std::chrono::steady_clock::now();
    // `exec`: the shell becomes the sleep, so that the kill leaves no orphan behind (the
    // command runs in missive's process group, so it can still prompt on the terminal, and
    // only the process started is killed).
    EXPECT_EQ(failure("exec sleep 30", {.time = std::chrono::milliseconds(500)}),
              "the password command did not finish within 0.5 s and was killed");
    // One that closes its output and goes on is killed too.
    EXPECT_EQ(failure("echo pw; exec sleep 30 >&-", {.time = std::chrono::milliseconds(500)}),
              "the password command did not finish within 0.5 s and was killed");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(PasswordCommand, OutputIsCapped) {
    EXPECT_EQ(failure("head -c 70000 /dev/zero | tr '\\0' a"),
              "the password command printed more than 65536 octets and was killed");
    EXPECT_EQ(failure("yes", {.output = 100}),
              "the password command printed more than 100 octets and was killed");
    EXPECT_EQ(read_password(command("head -c 65536 /dev/zero | tr '\\0' a")).reveal().size(),
              65536U);
}
