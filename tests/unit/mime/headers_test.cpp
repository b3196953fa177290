#include <missive/error.hpp>
#include <missive/mime/headers.hpp>

#include "mime/fold.hpp"
#include "support/throws.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using missive::errc;
using missive::mime::Headers;
using missive::test::throws;

TEST(Headers, AddSetRemoveFindIgnoreCase) {
    Headers h;
    h.add("Received", "one");
    h.add("Subject", "hi");
    h.add("received", "two");
    EXPECT_EQ(h.all("RECEIVED"), (std::vector<std::string>{"one", "two"}));
    ASSERT_NE(h.find("subject"), nullptr);
    EXPECT_EQ(*h.find("subject"), "hi");
    h.set("Received", "three");  // takes the first one's place, the others go
    ASSERT_EQ(h.size(), 2U);
    EXPECT_EQ(h.begin()->name, "Received");
    EXPECT_EQ(h.begin()->value, "three");
    EXPECT_EQ(h.remove("SUBJECT"), 1U);
    EXPECT_FALSE(h.contains("Subject"));
    h.set("X-New", "v");
    EXPECT_EQ(h.all("x-new"), std::vector<std::string>{"v"});
}

TEST(Headers, LineBreaksAndNulAreRefusedNamingTheField) {
    Headers h;
    EXPECT_TRUE(throws([&] { h.add("Subject", "a\r\nBcc: victim@example.com"); },
                       errc::invalid_input,
                       "header 'Subject' contains a line break (CR or LF); a field's value must "
                       "be one line"));
    EXPECT_TRUE(throws([&] { h.set("X-A", "a\nb"); }, errc::invalid_input,
                       "header 'X-A' contains a line break (CR or LF); a field's value must be "
                       "one line"));
    EXPECT_TRUE(throws([&] { h.add("X-A", std::string("a\0b", 3)); }, errc::invalid_input,
                       "header 'X-A' contains a NUL byte; a field's value must be one line"));
    EXPECT_TRUE(h.empty());
}

TEST(Headers, BadNamesAreRefused) {
    Headers h;
    for (const std::string& name :
         std::vector<std::string>{"", "Sub ject", "Sub:ject", "Süb", std::string(77, 'X')}) {
        EXPECT_THROW(h.add(name, "v"), missive::Error) << name;
    }
    EXPECT_NO_THROW(h.add(std::string(76, 'X'), "v"));
}

namespace {

std::string field(std::string_view name, std::string_view value) {
    std::string out;
    missive::mime::detail::append_field(out, name, value);
    return out;
}

std::string unfold(std::string s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\r' && i + 2 < s.size() && s[i + 1] == '\n' &&
            (s[i + 2] == ' ' || s[i + 2] == '\t')) {
            ++i;
            continue;
        }
        out += s[i];
    }
    return out;
}

std::vector<std::string> lines(const std::string& s) {
    std::vector<std::string> out;
    std::size_t at = 0;
    while (at < s.size()) {
        const std::size_t end = s.find("\r\n", at);
        out.push_back(s.substr(at, end - at));
        at = end + 2;
    }
    return out;
}

}  // namespace

TEST(Fold, ShortFieldIsOneLine) {
    EXPECT_EQ(field("Subject", "hello world"), "Subject: hello world\r\n");
    EXPECT_EQ(field("Subject", ""), "Subject:\r\n");
}

TEST(Fold, FoldsBeforeWhiteSpaceAt78AndUnfoldsBack) {
    std::string value;
    for (int i = 0; i < 40; ++i) {
        value += "word" + std::to_string(i) + (i % 3 == 0 ? "  " : " ");
    }
    value += "end";
    const std::string out = field("Subject", value);
    for (const std::string& l : lines(out)) {
        EXPECT_LE(l.size(), 78U) << l;
        EXPECT_FALSE(l.find_first_not_of(" \t") == std::string::npos) << "a line of only blanks";
    }
    EXPECT_GT(lines(out).size(), 3U);
    EXPECT_EQ(unfold(out), "Subject: " + value + "\r\n");
}

TEST(Fold, LongWordStaysWholeUpTo998) {
    const std::string word(990, 'a');
    const std::string out = field("X", "short " + word + " tail");
    EXPECT_EQ(out, "X: short\r\n " + word + "\r\n tail\r\n");
    EXPECT_TRUE(throws([&] { (void)field("X-Long", std::string(998, 'b')); }, errc::invalid_input,
                       "header 'X-Long' has a word that cannot be folded into lines of 998 "
                       "octets"));
    EXPECT_NO_THROW((void)field("X", std::string(995, 'b')));  // "X: " + 995 = 998
}
