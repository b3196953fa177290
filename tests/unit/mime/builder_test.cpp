#include <missive/error.hpp>
#include <missive/mime/builder.hpp>

#include "support/throws.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using missive::errc;
using missive::mime::Builder;
using missive::mime::Mailbox;
using missive::mime::Message;
using missive::mime::Part;
using missive::test::throws;

namespace {

// "multipart/mixed(text/plain,application/pdf)"
std::string shape(const Part& p) {
    std::string s = p.type.essence();
    if (p.is_multipart()) {
        s += '(';
        for (std::size_t i = 0; i < p.parts.size(); ++i) {
            s += (i ? "," : "") + shape(p.parts[i]);
        }
        s += ')';
    }
    return s;
}

Builder base() {
    return std::move(Builder().from("Ada <ada@example.org>").to("bob@example.com"));
}

}  // namespace

TEST(Builder, ShapesFollowWhatWasGiven) {
    EXPECT_EQ(shape(base().build().body), "text/plain");
    EXPECT_EQ(shape(base().text("t").build().body), "text/plain");
    EXPECT_EQ(shape(base().html("<p>h</p>").build().body), "text/html");
    EXPECT_EQ(shape(base().text("t").html("h").build().body),
              "multipart/alternative(text/plain,text/html)");
    EXPECT_EQ(
        shape(base().text("t").html("h").inline_data("PNG", "logo", "image/png").build().body),
        "multipart/alternative(text/plain,multipart/related(text/html,image/png))");
    EXPECT_EQ(shape(base().text("t").attach("%PDF", "r.pdf").build().body),
              "multipart/mixed(text/plain,application/pdf)");
    EXPECT_EQ(shape(base()
                        .text("t")
                        .html("h")
                        .inline_data("PNG", "logo", "image/png")
                        .attach("%PDF", "r.pdf")
                        .attach("a,b", "t.csv")
                        .build()
                        .body),
              "multipart/mixed(multipart/alternative(text/plain,multipart/related(text/html,"
              "image/png)),application/pdf,text/csv)");
    EXPECT_EQ(shape(base().attach("%PDF", "r.pdf").build().body),
              "multipart/mixed(application/pdf)");
    EXPECT_EQ(shape(base().text("t").inline_data("PNG", "logo", "image/png").build().body),
              "multipart/mixed(text/plain,image/png)");
}

TEST(Builder, PartsCarryTheirNamesAndIds) {
    const Message m = base()
                          .html("<img src=\"cid:logo\">")
                          .inline_data("PNG", "logo", "image/png")
                          .attach("data", "Bericht März.xyz", "application/x-custom")
                          .build();
    const Part& related = m.body.parts.at(0);
    EXPECT_EQ(related.type.essence(), "multipart/related");
    ASSERT_NE(related.type.param("type"), nullptr);
    EXPECT_EQ(*related.type.param("type"), "text/html");
    EXPECT_EQ(related.parts.at(1).content_id, "logo");
    EXPECT_EQ(related.parts.at(1).disposition, "inline");
    const Part& attachment = m.body.parts.at(1);
    EXPECT_EQ(attachment.filename, "Bericht März.xyz");
    EXPECT_EQ(attachment.disposition, "attachment");
    EXPECT_EQ(attachment.type.essence(), "application/x-custom");
}

TEST(Builder, AddressesAndReplyFields) {
    const Message m = Builder()
                          .from(Mailbox{"Ada Lovelace", "ada@example.org"})
                          .to("bob@example.com, Carol <carol@example.com>")
                          .to("dave@example.com")
                          .cc("erin@example.com")
                          .bcc("frank@example.com")
                          .reply_to("replies@example.org")
                          .subject("Re: plans")
                          .in_reply_to("<abc@example.org>")
                          .references("def@example.org")
                          .message_id("mine@example.org")
                          .header("X-Mailer", "missive")
                          .text("t")
                          .build();
    EXPECT_EQ(*m.headers.find("To"),
              "bob@example.com, Carol <carol@example.com>, dave@example.com");
    EXPECT_EQ(*m.headers.find("In-Reply-To"), "<abc@example.org>");
    EXPECT_EQ(*m.headers.find("References"), "<abc@example.org> <def@example.org>");
    EXPECT_EQ(*m.headers.find("Message-ID"), "<mine@example.org>");
    EXPECT_EQ(*m.headers.find("X-Mailer"), "missive");
    std::vector<std::string> rcpts;
    for (const Mailbox& r : m.recipients()) {
        rcpts.push_back(r.address);
    }
    EXPECT_EQ(rcpts,
              (std::vector<std::string>{"bob@example.com", "carol@example.com", "dave@example.com",
                                        "erin@example.com", "frank@example.com"}));
    ASSERT_TRUE(m.sender());
    EXPECT_EQ(m.sender()->address, "ada@example.org");
    EXPECT_EQ(m.sender()->name, "Ada Lovelace");
}

TEST(Builder, ErrorsNameTheField) {
    try {
        (void)Builder().to("bob@");
        FAIL();
    } catch (const missive::Error& e) {
        EXPECT_EQ(e.kind(), errc::invalid_input);
        EXPECT_EQ(std::string(e.what()).rfind("To: ", 0), 0U) << e.what();
    }
    EXPECT_TRUE(
        throws([] { (void)Builder().cc(""); }, errc::invalid_input, "Cc: no address in ''"));
    EXPECT_TRUE(throws([] { (void)Builder().subject("a\r\nBcc: x@example.com"); },
                       errc::invalid_input,
                       "header 'Subject' contains a line break (CR or LF); a field's value must "
                       "be one line"));
    EXPECT_THROW((void)Builder().header("X-A", "a\nb"), missive::Error);
    EXPECT_THROW((void)Builder().attach_file("/nonexistent/missive/file.pdf"), missive::Error);
    EXPECT_THROW((void)Builder().inline_data("x", "id\r\n", "image/png"), missive::Error);
    EXPECT_THROW((void)Builder().attach("x", "a.bin", "not a type"), missive::Error);
}

TEST(Builder, AttachFileNamesAndGuessesFromThePath) {
    const auto path = std::filesystem::temp_directory_path() / "missive-builder-test.png";
    std::ofstream(path, std::ios::binary) << "PNG";
    const Message m =
        base().text("t").attach_file(path).attach_file(path, {.filename = "b.jpg"}).build();
    std::filesystem::remove(path);
    EXPECT_EQ(m.body.parts.at(1).filename, "missive-builder-test.png");
    EXPECT_EQ(m.body.parts.at(1).type.essence(), "image/png");
    EXPECT_EQ(m.body.parts.at(2).filename, "b.jpg");
    EXPECT_EQ(m.body.parts.at(2).type.essence(), "image/jpeg");
}
