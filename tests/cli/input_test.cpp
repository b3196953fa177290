// The streams a ready message comes through (--message FILE|-, sendmail's stdin): a read
// error is an error all the way to the wire, never an end of file.
#include <missive/testing/server.hpp>

#include "deliver.hpp"
#include "exit_codes.hpp"
#include "message_input.hpp"
#include "support/failing_buf.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <istream>
#include <sstream>
#include <stdexcept>
#include <streambuf>
#include <string>

using missive::cli::InputBuf;
using missive::cli::InputError;
using missive::cli::PrefixedBuf;
using missive::test::FailingBuf;

TEST(PrefixedBuf, StreamsPrefixThenRest) {
    const std::string header = "Subject: hi\r\n\r\n";
    std::istringstream rest("body\n");
    PrefixedBuf buf(header, rest);
    EXPECT_EQ(buf.remaining_size(), header.size() + 5);
    std::istream in(&buf);
    std::ostringstream out;
    out << in.rdbuf();
    EXPECT_EQ(out.str(), header + "body\n");
    EXPECT_EQ(buf.error(), "");
}

TEST(PrefixedBuf, AReadErrorIsNeverAnEndOfFile) {
    // The rest throws on badbit (as the CLI sets it) or only sets badbit: either way the
    // stream on top goes bad, and error() says why.
    for (const bool throws : {true, false}) {
        for (const std::size_t good : {std::size_t{2500}, std::size_t{70000}}) {
            const std::string header = "Subject: hi\r\n\r\n";
            FailingBuf failing(good);
            std::istream rest(&failing);
            if (throws) {
                rest.exceptions(std::ios::badbit);
            }
            PrefixedBuf buf(header, rest);
            std::istream in(&buf);
            std::size_t got = 0;
            while (in.get() != std::char_traits<char>::eof()) {
                ++got;
            }
            EXPECT_TRUE(in.bad()) << throws;  // what Client::send checks: no final dot
            // Whole reads of 64 KiB pass; the octets of the failing read are dropped with it (the
            // message is abandoned anyway).
            EXPECT_EQ(got, header.size() + good / 65536 * 65536) << throws;
            EXPECT_NE(buf.error(), "") << throws;
            if (throws) {
                EXPECT_EQ(buf.error(), "Input/output error");
            }
            // Asked again, it fails again rather than ending.
            in.clear();
            EXPECT_EQ(in.get(), std::char_traits<char>::eof());
            EXPECT_TRUE(in.bad()) << throws;
        }
    }
}

TEST(InputBuf, AReadErrorThrowsWithTheReason) {
    // A directory opens but cannot be read: EISDIR, as a failing disk gives EIO.
    const int fd = ::open(std::filesystem::temp_directory_path().c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    InputBuf buf(fd, "'the file'");
    std::istream in(&buf);
    in.exceptions(std::ios::badbit);
    std::string line;
    try {
        std::getline(in, line);
        ADD_FAILURE() << "no error";
    } catch (const InputError& e) {
        EXPECT_EQ(std::string(e.what()), "reading 'the file' failed: Is a directory");
    }
    ::close(fd);
}

TEST(InputBuf, TellsTheSizeOfARegularFile) {
    const auto path = std::filesystem::temp_directory_path() / "missive-inputbuf-test.eml";
    std::ofstream(path, std::ios::binary) << "To: b@example.org\n\n" << std::string(5000, 'y');
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    InputBuf file(fd, "file");
    std::istream in(&file);
    std::string line;
    std::getline(in, line);
    std::getline(in, line);  // the header block has been read; the body is buffered
    PrefixedBuf buf("X: 1\r\n\r\n", in);
    EXPECT_EQ(buf.remaining_size(), 8U + 5000U);
    std::istream all(&buf);
    std::ostringstream out;
    out << all.rdbuf();
    EXPECT_EQ(out.str(), "X: 1\r\n\r\n" + std::string(5000, 'y'));  // the position was kept
    ::close(fd);
    std::filesystem::remove(path);
}

TEST(DeliverText, AReadErrorHalfWaySendsNothingOfTheMessage) {
    missive::testing::Server server([](missive::testing::Conversation& c) {
        c.send_line("220 mx.test");
        for (;;) {
            const std::string line = c.read_line();
            if (line == "DATA") {
                c.send_line("354 go");
                (void)c.read_data();  // never completes: the client must not send the dot
                c.send_line("250 delivered a truncated message");
            } else if (line == "QUIT") {
                c.send_line("221 bye");
                return;
            } else {
                c.send_line("250 ok");
            }
        }
    });
    missive::cli::Target target;
    target.server = "smtp://127.0.0.1:" + std::to_string(server.port());
    target.options.tls = missive::client::TlsMode::none_insecure;
    FailingBuf failing(200000);
    std::istream rest(&failing);
    rest.exceptions(std::ios::badbit);
    missive::smtp::Envelope envelope;
    envelope.from = "ada@example.org";
    envelope.to.emplace_back("bob@example.org");
    const int status = missive::cli::deliver_text(target, "Subject: hi\r\n\r\n", rest, envelope);
    EXPECT_EQ(status, missive::cli::exit_no_input);
    ASSERT_TRUE(server.wait_for(1));
    const std::string received = server.received();
    // The message is read once before MAIL (to find 8-bit octets), so the read error comes
    // before any of the transaction is sent.
    EXPECT_EQ(received.find("MAIL FROM"), std::string::npos) << received.substr(0, 200);
    EXPECT_EQ(received.find("\r\n.\r\n"), std::string::npos) << "the final dot was sent";
}
