#include <missive/error.hpp>
#include <missive/mime/builder.hpp>
#include <missive/mime/serializer.hpp>
#include <missive/util/base64.hpp>

#include "support/throws.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

using missive::errc;
using missive::mime::Builder;
using missive::mime::Message;
using missive::mime::Part;
using missive::mime::SerializeOptions;
using missive::mime::Serializer;
using missive::mime::to_string;
using missive::test::throws;

namespace {

const auto fixed_time = std::chrono::system_clock::time_point(std::chrono::seconds(1790000000));

SerializeOptions fixed() {
    return {.date = fixed_time, .message_id = "<id@example.org>"};
}

Message simple(std::string body) {
    Message m;
    m.headers.add("From", "Ada <ada@example.org>");
    m.headers.add("To", "bob@example.com");
    m.headers.add("Subject", "Hello");
    m.body = Part::text(std::move(body));
    return m;
}

std::string head_of(const std::string& text) {
    return text.substr(0, text.find("\r\n\r\n") + 2);
}

std::string body_of(const std::string& text) {
    return text.substr(text.find("\r\n\r\n") + 4);
}

// A temporary file with `bytes`, removed at the end of the test.
struct TempFile {
    std::filesystem::path path;

    explicit TempFile(const std::string& bytes, const std::string& name = "missive-test.bin") {
        path = std::filesystem::temp_directory_path() /
               (std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" + name);
        std::ofstream(path, std::ios::binary) << bytes;
    }

    ~TempFile() { std::filesystem::remove(path); }

    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
};

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 gen(seed);
    std::string s(n, '\0');
    for (char& c : s) {
        c = static_cast<char>(gen() & 0xFF);
    }
    return s;
}

}  // namespace

TEST(Serializer, SimpleTextMessageExactly) {
    EXPECT_EQ(to_string(simple("Hi Bob\nBye"), fixed()),
              "Date: Mon, 21 Sep 2026 14:13:20 +0000\r\n"
              "From: Ada <ada@example.org>\r\n"
              "To: bob@example.com\r\n"
              "Subject: Hello\r\n"
              "Message-ID: <id@example.org>\r\n"
              "MIME-Version: 1.0\r\n"
              "Content-Type: text/plain; charset=utf-8\r\n"
              "Content-Transfer-Encoding: 7bit\r\n"
              "\r\n"
              "Hi Bob\r\n"
              "Bye\r\n");
}

TEST(Serializer, DateAndMessageIdOnlyWhenAbsentAndAsked) {
    Message m = simple("x");
    EXPECT_EQ(head_of(to_string(m)).find("Date:"), std::string::npos);
    EXPECT_EQ(head_of(to_string(m)).find("Message-ID:"), std::string::npos);
    m.headers.add("Date", "Tue, 1 Jan 2030 00:00:00 +0000");
    m.headers.add("Message-ID", "<mine@example.org>");
    const std::string head = head_of(to_string(m, fixed()));
    EXPECT_NE(head.find("Date: Tue, 1 Jan 2030 00:00:00 +0000\r\n"), std::string::npos);
    EXPECT_EQ(head.find("Date: Mon"), std::string::npos);
    EXPECT_NE(head.find("Message-ID: <mine@example.org>\r\n"), std::string::npos);
    EXPECT_EQ(head.find("<id@example.org>"), std::string::npos);
}

TEST(Serializer, BccIsNeverWritten) {
    Message m = simple("x");
    m.headers.add("Bcc", "secret@example.com");
    m.headers.add("Resent-Bcc", "hidden@example.com");
    const std::string text = to_string(m);
    EXPECT_EQ(text.find("secret@example.com"), std::string::npos);
    EXPECT_EQ(text.find("hidden@example.com"), std::string::npos);
    EXPECT_EQ(text.find("Bcc"), std::string::npos);
}

TEST(Serializer, TransferEncodingFitsTheContent) {
    const auto encoding = [](const std::string& body, bool allow_8bit) {
        const std::string text = to_string(simple(body), {.allow_8bit = allow_8bit});
        const std::string head = head_of(text);
        const auto at = head.find("Content-Transfer-Encoding: ");
        return head.substr(at + 27, head.find("\r\n", at) - at - 27);
    };
    EXPECT_EQ(encoding("plain ASCII", false), "7bit");
    const std::string german = "Grüße aus Köln, wir sehen uns morgen früh am Bahnhof.";
    EXPECT_EQ(encoding(german, false), "quoted-printable");
    EXPECT_EQ(encoding(german, true), "8bit");
    EXPECT_EQ(encoding("Grüße aus Köln", false), "base64");  // 8 of 18 bytes are escapes
    EXPECT_EQ(encoding("日本語のテキストです。日本語のテキストです。", false), "base64");
    EXPECT_EQ(encoding("日本語のテキストです。", true), "8bit");
    EXPECT_EQ(encoding(std::string(998, 'a'), false), "7bit");
    EXPECT_EQ(encoding(std::string(999, 'a'), false), "quoted-printable");
    EXPECT_EQ(encoding(std::string(999, 'a'), true), "quoted-printable");
    EXPECT_EQ(encoding(std::string("nul\0here", 8), true), "base64");
}

TEST(Serializer, EveryLineWithin998AndCrlfOnly) {
    for (const std::string& body :
         {std::string(999, 'a'), std::string(5000, 'b') + "\n" + std::string(3000, 'c'),
          "mixed\rline\nends\r\n\n" + std::string(2000, 'x'), random_bytes(10000, 1)}) {
        for (const bool allow_8bit : {false, true}) {
            const std::string text = to_string(simple(body), {.allow_8bit = allow_8bit});
            std::size_t at = 0;
            while (at < text.size()) {
                const std::size_t lf = text.find('\n', at);
                ASSERT_NE(lf, std::string::npos);
                ASSERT_GT(lf, 0U);
                EXPECT_EQ(text[lf - 1], '\r') << "bare LF at " << lf;
                EXPECT_LE(lf - 1 - at, 998U);
                at = lf + 1;
            }
            EXPECT_EQ(text.find('\r', 0) == std::string::npos, false);
        }
    }
}

TEST(Serializer, TextLineEndsBecomeCrlf) {
    EXPECT_EQ(body_of(to_string(simple("a\nb\rc\r\nd\n\ne"))), "a\r\nb\r\nc\r\nd\r\n\r\ne\r\n");
}

TEST(Serializer, BinaryIsBase64AndUnaltered) {
    const std::string data = random_bytes(1000, 7) + "\r\n\n\r";
    Message m = simple("");
    m.body = Part::bytes(data, {"application", "octet-stream", {}});
    const std::string text = to_string(m);
    EXPECT_NE(head_of(text).find("Content-Transfer-Encoding: base64\r\n"), std::string::npos);
    std::string b64;
    for (const char c : body_of(text)) {
        if (c != '\r' && c != '\n') {
            b64 += c;
        }
    }
    const auto decoded = missive::util::base64_decode(b64);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, data);
}

TEST(Serializer, MultipartStructureAndBoundaries) {
    const Message m = Builder()
                          .from("ada@example.org")
                          .to("bob@example.com")
                          .text("plain")
                          .html("<p>html</p>")
                          .attach("PDF", "r.pdf")
                          .build();
    const std::string text = to_string(m);
    const std::string head = head_of(text);
    const auto b = head.find("boundary=\"");
    ASSERT_NE(b, std::string::npos);
    const std::string outer = head.substr(b + 10, head.find('"', b + 10) - b - 10);
    EXPECT_EQ(outer.rfind("=_missive_", 0), 0U);
    EXPECT_NE(text.find("\r\n--" + outer + "--\r\n"), std::string::npos);
    EXPECT_NE(text.find("Content-Type: multipart/alternative;\r\n boundary="), std::string::npos);
    EXPECT_NE(text.find("Content-Disposition: attachment; filename=r.pdf"), std::string::npos);
    EXPECT_NE(text.find("Content-Type: application/pdf; name=r.pdf"), std::string::npos);
    // Two serializations use different boundaries.
    EXPECT_EQ(to_string(m).find(outer), std::string::npos);
}

TEST(Serializer, FileContentStreamsInBoundedChunksAndEqualsMemory) {
    const std::string data = random_bytes(3 * 1024 * 1024 + 11, 3);
    TempFile file(data);
    Message from_file = simple("");
    from_file.body = Part::file(file.path, {"application", "octet-stream", {}});
    Message from_memory = simple("");
    from_memory.body = Part::bytes(data, {"application", "octet-stream", {}});
    Serializer s(from_file);
    std::string all;
    std::size_t chunks = 0;
    for (auto chunk = s.next(); !chunk.empty(); chunk = s.next()) {
        EXPECT_LT(chunk.size(), 256U * 1024U);
        all.append(chunk);
        ++chunks;
    }
    EXPECT_GT(chunks, 20U);
    EXPECT_EQ(all, to_string(from_memory));
}

TEST(Serializer, TextFileIsScannedForItsEncoding) {
    TempFile file("Grüße\nline two is plain ASCII text\n", "notes.txt");
    Message m = simple("");
    m.body = Part::file(file.path, {"text", "plain", {}});
    const std::string text = to_string(m);
    EXPECT_NE(text.find("Content-Transfer-Encoding: quoted-printable"), std::string::npos);
    EXPECT_NE(text.find("Gr=C3=BC=C3=9Fe\r\nline two is plain ASCII text\r\n"), std::string::npos);
    Serializer eight(m, {.allow_8bit = true});
    EXPECT_TRUE(eight.uses_8bit());
    Serializer seven(simple("ascii"), {.allow_8bit = true});
    EXPECT_FALSE(seven.uses_8bit());
}

TEST(Serializer, EightBitChildMarksTheMultipart) {
    const Message m = Builder()
                          .from("a@example.org")
                          .to("b@example.org")
                          .text("Grüße")
                          .attach("x", "x.bin")
                          .build();
    const std::string text = to_string(m, {.allow_8bit = true});
    EXPECT_NE(head_of(text).find("Content-Transfer-Encoding: 8bit"), std::string::npos);
}

TEST(Serializer, RefusesWhatItCannotWrite) {
    Message m = simple("x");
    m.headers.add("Content-Type", "text/html");
    EXPECT_TRUE(throws([&] { (void)to_string(m); }, errc::invalid_input,
                       "header 'Content-Type' is written from the message's body (Message::body); "
                       "set the part's type, disposition or content id there"));
    Message empty = simple("x");
    empty.body = Part::multipart("mixed", {});
    EXPECT_TRUE(throws([&] { (void)to_string(empty); }, errc::invalid_input,
                       "a multipart/mixed part has no parts"));
    Message utf8 = simple("x");
    utf8.headers.set("To", "josé@example.com");
    EXPECT_TRUE(throws([&] { (void)to_string(utf8); }, errc::invalid_input,
                       "To: address 'josé@example.com' has a non-ASCII local part and can only be "
                       "written with SMTPUTF8 (RFC 6531)"));
    EXPECT_NO_THROW((void)to_string(utf8, {.allow_utf8 = true}));
    Message bad_to = simple("x");
    bad_to.headers.set("To", "not an address");
    EXPECT_THROW((void)to_string(bad_to), missive::Error);
}

TEST(Serializer, MissingFileFailsBeforeAnyByte) {
    const auto path = std::filesystem::temp_directory_path() / "missive-no-such-file.bin";
    EXPECT_TRUE(throws([&] { (void)Part::file(path, {}); }, errc::invalid_input,
                       "attachment '" + path.string() +
                           "' is not a readable regular file: No such file or directory"));
    TempFile file("x");
    Message m = simple("");
    m.body = Part::file(file.path, {});
    std::filesystem::remove(file.path);
    try {
        Serializer s(m);
        FAIL() << "constructed";
    } catch (const missive::Error& e) {
        EXPECT_EQ(e.kind(), errc::invalid_input);
        EXPECT_NE(std::string(e.what()).find("cannot be opened"), std::string::npos) << e.what();
    }
}

TEST(Serializer, NonAsciiSubjectIsEncodedAndFolded) {
    Message m = simple("x");
    m.headers.set(
        "Subject",
        "Привет, это длинная тема письма, которая должна быть свёрнута в несколько строк");
    const std::string head = head_of(to_string(m));
    EXPECT_NE(head.find("Subject: =?UTF-8?"), std::string::npos)
        << head;  // no fold after the colon
    std::size_t at = 0;
    while (at < head.size()) {
        const std::size_t end = head.find("\r\n", at);
        EXPECT_LE(end - at, 78U) << head.substr(at, end - at);
        at = end + 2;
    }
}

TEST(Serializer, StreamOperatorWritesTheSame) {
    std::ostringstream out;
    out << simple("body");
    EXPECT_EQ(out.str(), to_string(simple("body"), {.allow_8bit = true, .allow_utf8 = true}));
}

// size() measures in one streaming pass and starts over: what follows is exactly what was
// measured (same boundaries, same encodings), file contents included.
TEST(Serializer, SizeIsTheLengthOfWhatFollows) {
    const auto dir = std::filesystem::temp_directory_path() / "missive-serializer-size";
    std::filesystem::create_directories(dir);
    const auto file = dir / "report.bin";
    {
        std::ofstream out(file, std::ios::binary);
        std::mt19937 rng(7);
        for (int i = 0; i < 300000; ++i) {
            out.put(static_cast<char>(rng()));
        }
    }
    const Message m = Builder()
                          .from("Ada <ada@example.org>")
                          .to("bob@example.org")
                          .subject("Grüße")
                          .text("Hello\nWorld é\n")
                          .html("<p>Hello</p>")
                          .attach_file(file)
                          .build();
    const SerializeOptions options{.date = std::chrono::system_clock::time_point{},
                                   .message_id = "<id@example.org>"};
    Serializer s(m, options);
    const std::uint64_t size = s.size();
    EXPECT_EQ(s.size(), size);  // measured once
    std::string text;
    for (auto chunk = s.next(); !chunk.empty(); chunk = s.next()) {
        text.append(chunk);
    }
    EXPECT_EQ(text.size(), size);
    EXPECT_GT(size, 400000U);  // the file is in it, base64-encoded
    // The boundary of the measured pass is the one written.
    const auto b = text.find("boundary=\"");
    ASSERT_NE(b, std::string::npos);
    const std::string boundary = text.substr(b + 10, text.find('"', b + 10) - b - 10);
    EXPECT_NE(text.find("\r\n--" + boundary + "--\r\n"), std::string::npos);
    Serializer late(m, options);
    (void)late.next();
    EXPECT_TRUE(throws([&] { (void)late.size(); }, errc::invalid_input,
                       "Serializer::size() must come before next()"));
    std::filesystem::remove_all(dir);
}
