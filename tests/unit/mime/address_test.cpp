#include <missive/mime/address.hpp>

#include "support/throws.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

using missive::errc;
using missive::mime::Address;
using missive::mime::envelope_address;
using missive::mime::flatten;
using missive::mime::format_address_list;
using missive::mime::format_mailbox;
using missive::mime::Group;
using missive::mime::Mailbox;
using missive::mime::needs_smtputf8;
using missive::mime::parse_address_list;
using missive::mime::parse_mailbox;
using missive::mime::to_ascii_domain;
using missive::test::throws;

namespace missive::mime {

bool operator==(const Mailbox& a, const Mailbox& b) {
    return a.name == b.name && a.address == b.address;
}

bool operator==(const Group& a, const Group& b) {
    return a.name == b.name && a.members == b.members;
}

void PrintTo(const Mailbox& m, std::ostream* os) {
    *os << "Mailbox{\"" << m.name << "\", \"" << m.address << "\"}";
}

void PrintTo(const Group& g, std::ostream* os) {
    *os << "Group{\"" << g.name << "\", " << g.members.size() << " members}";
}

}  // namespace missive::mime

namespace {

// RFC 5322 leaves folds in its examples; the parser takes unfolded text (2.2.3).
std::string unfold(std::string s) {
    for (std::size_t i; (i = s.find("\r\n")) != std::string::npos;) {
        s.erase(i, 2);
    }
    return s;
}

std::vector<Address> list(std::initializer_list<Address> items) {
    return {items};
}

}  // namespace

// RFC 5322 A.1.1: addressing.
TEST(AddressParse, Rfc5322A11) {
    EXPECT_EQ(parse_mailbox("John Doe <jdoe@machine.example>"),
              (Mailbox{"John Doe", "jdoe@machine.example"}));
    EXPECT_EQ(parse_mailbox("Michael Jones <mjones@machine.example>"),
              (Mailbox{"Michael Jones", "mjones@machine.example"}));
    EXPECT_EQ(parse_address_list("Mary Smith <mary@example.net>"),
              list({Mailbox{"Mary Smith", "mary@example.net"}}));
}

// RFC 5322 A.1.2: different types of mailboxes.
TEST(AddressParse, Rfc5322A12) {
    EXPECT_EQ(parse_mailbox("\"Joe Q. Public\" <john.q.public@example.com>"),
              (Mailbox{"Joe Q. Public", "john.q.public@example.com"}));
    EXPECT_EQ(parse_address_list("Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>"),
              list({Mailbox{"Mary Smith", "mary@x.test"}, Mailbox{"", "jdoe@example.org"},
                    Mailbox{"Who?", "one@y.test"}}));
    EXPECT_EQ(
        parse_address_list("<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>"),
        list({Mailbox{"", "boss@nil.test"},
              Mailbox{"Giant; \"Big\" Box", "sysservices@example.net"}}));
}

// RFC 5322 A.1.3: group addresses.
TEST(AddressParse, Rfc5322A13) {
    EXPECT_EQ(parse_mailbox("Pete <pete@silly.example>"), (Mailbox{"Pete", "pete@silly.example"}));
    EXPECT_EQ(
        parse_address_list("A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;"),
        list({Group{
            "A Group",
            {{"Ed Jones", "c@a.test"}, {"", "joe@where.test"}, {"John", "jdoe@one.test"}}}}));
    EXPECT_EQ(parse_address_list("Undisclosed recipients:;"),
              list({Group{"Undisclosed recipients", {}}}));
}

// RFC 5322 A.5: white space, comments and other oddities.
TEST(AddressParse, Rfc5322A5) {
    EXPECT_EQ(parse_mailbox("Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>"),
              (Mailbox{"Pete", "pete@silly.test"}));
    EXPECT_EQ(parse_address_list(unfold("A Group(Some people)\r\n"
                                        "     :Chris Jones <c@(Chris's host.)public.example>,\r\n"
                                        "         joe@example.org,\r\n"
                                        "  John <jdoe@one.test> (my dear friend); (the end of "
                                        "the group)")),
              list({Group{"A Group",
                          {{"Chris Jones", "c@public.example"},
                           {"", "joe@example.org"},
                           {"John", "jdoe@one.test"}}}}));
    EXPECT_EQ(parse_address_list("(Empty list)(start)Hidden recipients  :(nobody(that I know))  ;"),
              list({Group{"Hidden recipients", {}}}));
}

// RFC 5322 A.6.1 and A.6.3: obsolete forms.
TEST(AddressParse, Rfc5322A6) {
    EXPECT_EQ(parse_mailbox("Joe Q. Public <john.q.public@example.com>"),
              (Mailbox{"Joe Q. Public", "john.q.public@example.com"}));
    EXPECT_EQ(
        parse_address_list("Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example"),
        list({Mailbox{"Mary Smith", "mary@example.net"}, Mailbox{"", "jdoe@test.example"}}));
    EXPECT_EQ(parse_mailbox("John Doe <jdoe@machine(comment).  example>"),
              (Mailbox{"John Doe", "jdoe@machine.example"}));
    EXPECT_EQ(parse_mailbox(unfold("Mary Smith\r\n  \r\n          <mary@example.net>")),
              (Mailbox{"Mary Smith", "mary@example.net"}));
}

TEST(AddressParse, ObsoleteForms) {
    EXPECT_EQ(parse_mailbox("<@x.test,@y.test:a@b.test>"), (Mailbox{"", "a@b.test"}));
    EXPECT_EQ(parse_mailbox("<,@x.test, ,@y.test:a@b.test>"), (Mailbox{"", "a@b.test"}));
    EXPECT_EQ(parse_address_list(",, a@b ,, c@d ,"),
              list({Mailbox{"", "a@b"}, Mailbox{"", "c@d"}}));
    EXPECT_EQ(parse_mailbox("john . q . public @ example . com"),
              (Mailbox{"", "john.q.public@example.com"}));
    EXPECT_EQ(parse_mailbox("\"john\".\"q\".public@example.com"),
              (Mailbox{"", "john.q.public@example.com"}));
    EXPECT_EQ(parse_mailbox("a..b@docomo.ne.jp"), (Mailbox{"", "a..b@docomo.ne.jp"}));
    EXPECT_EQ(parse_address_list("G: , a@b, ,;"), list({Group{"G", {{"", "a@b"}}}}));
}

TEST(AddressParse, SimpleForms) {
    EXPECT_EQ(parse_mailbox("a@b"), (Mailbox{"", "a@b"}));
    EXPECT_EQ(parse_mailbox("  a@b  "), (Mailbox{"", "a@b"}));
    EXPECT_EQ(parse_mailbox("\"Q, N\" <a@b>"), (Mailbox{"Q, N", "a@b"}));
    EXPECT_EQ(parse_mailbox("a@b (Comment)"), (Mailbox{"", "a@b"}));  // comments carry nothing
    EXPECT_EQ(parse_mailbox("<a@b>"), (Mailbox{"", "a@b"}));
    EXPECT_EQ(parse_mailbox("\"john doe\"@example.com"), (Mailbox{"", "john doe@example.com"}));
    EXPECT_EQ(parse_mailbox("\"a@b\\\"c\"@example.com"), (Mailbox{"", "a@b\"c@example.com"}));
    EXPECT_EQ(parse_mailbox("x@[192.0.2.1]"), (Mailbox{"", "x@[192.0.2.1]"}));
    EXPECT_EQ(parse_mailbox("x@[ IPv6:2001:db8::1 ]"), (Mailbox{"", "x@[IPv6:2001:db8::1]"}));
    EXPECT_EQ(parse_address_list(""), list({}));
    EXPECT_EQ(parse_address_list(" (just a comment) "), list({}));
}

TEST(AddressParse, CommentsNestAndQuote) {
    EXPECT_EQ(parse_mailbox("(a (b (c) \\( ) d)Name(x)<a@b>(y (z))"), (Mailbox{"Name", "a@b"}));
    std::string deep = "a@b ";
    deep.append(100, '(');
    deep.append(100, ')');
    EXPECT_EQ(parse_mailbox(deep), (Mailbox{"", "a@b"}));
}

TEST(AddressParse, DisplayNamesAreDecoded) {
    EXPECT_EQ(parse_mailbox("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>"),
              (Mailbox{"Keld Jørn Simonsen", "keld@dkuug.dk"}));
    EXPECT_EQ(parse_mailbox("=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>"),
              (Mailbox{"André Pirard", "PIRARD@vm1.ulg.ac.be"}));
    EXPECT_EQ(parse_mailbox("=?UTF-8?B?5pel5pys?= =?UTF-8?B?6Kqe?= <a@b>"),
              (Mailbox{"日本語", "a@b"}));
    EXPECT_EQ(parse_address_list("=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=: a@b;"),
              list({Group{"Grüße", {{"", "a@b"}}}}));
    // Leniently also inside a quoted-string, as many writers put them.
    EXPECT_EQ(parse_mailbox("\"=?UTF-8?Q?J=C3=B6rg?=\" <a@b>"), (Mailbox{"Jörg", "a@b"}));
}

TEST(AddressParse, Rfc6532Utf8) {
    EXPECT_EQ(parse_mailbox("Jörg Müller <jörg@bücher.example>"),
              (Mailbox{"Jörg Müller", "jörg@bücher.example"}));
    EXPECT_EQ(parse_mailbox("山田太郎 <山田@例え.テスト>"),
              (Mailbox{"山田太郎", "山田@例え.テスト"}));
    EXPECT_EQ(parse_mailbox("\"Ünïcödé, Name\" <u@x>"), (Mailbox{"Ünïcödé, Name", "u@x"}));
}

TEST(AddressParse, Flatten) {
    const auto parsed = parse_address_list("a@b, G: c@d, e@f;, H:;, g@h");
    EXPECT_EQ(flatten(parsed),
              (std::vector<Mailbox>{{"", "a@b"}, {"", "c@d"}, {"", "e@f"}, {"", "g@h"}}));
}

TEST(AddressParse, Errors) {
    struct Case {
        std::string input;
        std::string what;
    };

    const std::vector<Case> cases = {
        {"a@b\r\n", "address \"a@b\\r\\n\": contains a line break at offset 3"},
        {"a@b\nc", "address \"a@b\\nc\": contains a line break at offset 3"},
        {std::string("a\0@b", 4), "address \"a\\x00@b\": contains a NUL byte at offset 1"},
        {"J\xFF <a@b>", "address \"J\xEF\xBF\xBD <a@b>\": is not valid UTF-8 at offset 1"},
        {"john", "address \"john\": missing @ at offset 0"},
        {"Name <john>", "address \"Name <john>\": missing @ at offset 6"},
        {"john doe@x", "address \"john doe@x\": missing @ at offset 0"},
        {"@x", "address \"@x\": empty local part at offset 0"},
        {"\"\"@x", "address \"\"\"@x\": empty local part at offset 2"},
        {"a@", "address \"a@\": empty domain at offset 2"},
        {"a@ (c)", "address \"a@ (c)\": empty domain at offset 2"},
        {"a@.b", "address \"a@.b\": empty domain at offset 2"},
        {"a@b..c", "address \"a@b..c\": empty label in the domain at offset 4"},
        {"a@b.", "address \"a@b.\": empty label in the domain at offset 3"},
        {"\"a@b", "address \"\"a@b\": unbalanced quote at offset 0"},
        {"Name <a@b", "address \"Name <a@b\": unbalanced angle bracket at offset 5"},
        {"a@b>", "address \"a@b>\": unbalanced angle bracket at offset 3"},
        {">", "address \">\": unbalanced angle bracket at offset 0"},
        {"<>", "address \"<>\": empty address in angle brackets at offset 0"},
        {"a@[1.2.3.4", "address \"a@[1.2.3.4\": unbalanced bracket at offset 2"},
        {"a@[1[2]", "address \"a@[1[2]\": unbalanced bracket at offset 2"},
        {"a@b]", "address \"a@b]\": unbalanced bracket at offset 3"},
        {"a@b (c", "address \"a@b (c\": unbalanced parenthesis at offset 4"},
        {"a@b (c))", "address \"a@b (c))\": unbalanced parenthesis at offset 7"},
        {"a@b c@d", "address \"a@b c@d\": garbage after the address at offset 4"},
        {"Name <a@b> x", "address \"Name <a@b> x\": garbage after the address at offset 11"},
        {"<a@b c>", "address \"<a@b c>\": garbage after the address at offset 5"},
        {"a@b; c@d", "address \"a@b; c@d\": garbage after the address at offset 3"},
        {"a\\b@c", "address \"a\\b@c\": unexpected character '\\' at offset 1"},
        {"a\x01@b", "address \"a\\x01@b\": unexpected character '\\x01' at offset 1"},
        {"\"a\x7F\"@b", "address \"\"a\\x7f\"@b\": unexpected character '\\x7f' at offset 2"},
        {"\"a\tb\"@c", "address \"\"a\\tb\"@c\": tab in the local part at offset 0"},
        {": a@b;", "address \": a@b;\": group without a name at offset 0"},
        {"G: a@b", "address \"G: a@b\": group without its ';' at offset 1"},
        {"G: a@b,", "address \"G: a@b,\": group without its ';' at offset 1"},
        {"G: H: a@b;;", "address \"G: H: a@b;;\": group inside a group at offset 4"},
        {"<@x a@b>", "address \"<@x a@b>\": malformed route at offset 4"},
        {";", "address \";\": unexpected ';' at offset 0"},
        {"[1.2.3.4]", "address \"[1.2.3.4]\": unexpected '[1.2.3.4]' at offset 0"},
    };
    for (const Case& c : cases) {
        EXPECT_TRUE(throws([&] { (void)parse_address_list(c.input); }, errc::invalid_input, c.what))
            << c.input;
    }
}

TEST(AddressParse, MailboxErrors) {
    EXPECT_TRUE(throws([] { (void)parse_mailbox(""); }, errc::invalid_input,
                       "address \"\": no address at offset 0"));
    EXPECT_TRUE(throws([] { (void)parse_mailbox(" (c) "); }, errc::invalid_input,
                       "address \" (c) \": no address at offset 5"));
    EXPECT_TRUE(throws([] { (void)parse_mailbox("G: a@b;"); }, errc::invalid_input,
                       "address \"G: a@b;\": expected one mailbox, found a group at offset 0"));
    EXPECT_TRUE(throws([] { (void)parse_mailbox("a@b, c@d"); }, errc::invalid_input,
                       "address \"a@b, c@d\": garbage after the address at offset 3"));
}

TEST(AddressParse, Limits) {
    std::string at_limit = "a@b (";
    at_limit.append(missive::mime::max_address_input - at_limit.size() - 1, 'x');
    at_limit += ')';
    EXPECT_EQ(parse_mailbox(at_limit), (Mailbox{"", "a@b"}));
    EXPECT_TRUE(
        throws([&] { (void)parse_mailbox(at_limit + " "); }, errc::invalid_input,
               "address \"a@b (" + std::string(75, 'x') + "...\": is longer than 65536 bytes"));
    std::string deep = "a@b ";
    deep.append(101, '(');
    deep.append(101, ')');
    EXPECT_TRUE(throws([&] { (void)parse_mailbox(deep); }, errc::invalid_input,
                       "address \"a@b " + std::string(76, '(') +
                           "...\": comments nested deeper than 100 at offset 104"));
    // Many small comments, each shallow, are fine however many there are.
    std::string wide = "a@b";
    for (int i = 0; i < 5000; ++i) {
        wide += "((x))";
    }
    EXPECT_EQ(parse_mailbox(wide), (Mailbox{"", "a@b"}));
}

TEST(AddressFormat, Mailboxes) {
    EXPECT_EQ(format_mailbox({"", "a@b.example"}), "a@b.example");
    EXPECT_EQ(format_mailbox({"John Doe", "jdoe@machine.example"}),
              "John Doe <jdoe@machine.example>");
    EXPECT_EQ(format_mailbox({"Joe Q. Public", "john.q.public@example.com"}),
              "\"Joe Q. Public\" <john.q.public@example.com>");
    EXPECT_EQ(format_mailbox({"Jörg", "j@x.example"}), "=?UTF-8?B?SsO2cmc=?= <j@x.example>");
    EXPECT_EQ(format_mailbox({"Jörg", "j@x.example"}, true), "Jörg <j@x.example>");
    EXPECT_EQ(format_mailbox({"", "john doe@example.com"}), "\"john doe\"@example.com");
    EXPECT_EQ(format_mailbox({"", "a@b\"c@example.com"}), "\"a@b\\\"c\"@example.com");
    EXPECT_EQ(format_mailbox({"", "a..b@example.com"}), "\"a..b\"@example.com");
    EXPECT_EQ(format_mailbox({"", ".a@example.com"}), "\".a\"@example.com");
    EXPECT_EQ(format_mailbox({"", "x@[192.0.2.1]"}), "x@[192.0.2.1]");
    EXPECT_EQ(format_mailbox({"", "x@[a@b]"}), "x@[a@b]");
}

TEST(AddressFormat, Idna) {
    EXPECT_EQ(to_ascii_domain("bücher.example"), "xn--bcher-kva.example");
    EXPECT_EQ(to_ascii_domain("Bücher.Example"), "xn--bcher-kva.example");  // UTS #46 maps
    EXPECT_EQ(to_ascii_domain("faß.de"), "xn--fa-hia.de");                  // non-transitional
    EXPECT_EQ(to_ascii_domain("例え.テスト"), "xn--r8jz45g.xn--zckzah");
    EXPECT_EQ(to_ascii_domain("Example.COM"), "Example.COM");  // ASCII is left as it is
    EXPECT_EQ(to_ascii_domain("[192.0.2.1]"), "[192.0.2.1]");
    EXPECT_EQ(to_ascii_domain("[IPv6:2001:db8::1]"), "[IPv6:2001:db8::1]");
    EXPECT_EQ(format_mailbox({"", "user@bücher.example"}), "user@xn--bcher-kva.example");
    EXPECT_EQ(format_mailbox({"", "user@bücher.example"}, true), "user@bücher.example");
    EXPECT_EQ(envelope_address({"", "user@bücher.example"}, false), "user@xn--bcher-kva.example");
    EXPECT_EQ(envelope_address({"", "user@bücher.example"}, true), "user@xn--bcher-kva.example");
}

TEST(AddressFormat, IdnaErrors) {
    // U+037E GREEK QUESTION MARK normalises to ';' (found by address_fuzz).
    EXPECT_TRUE(throws([] { (void)to_ascii_domain("\xCD\xBE"); }, errc::invalid_input,
                       "domain \"\xCD\xBE\": becomes \";\" in IDNA, which is not a domain"));
    EXPECT_THROW((void)format_address_list(parse_address_list("ascii@\xCD\xBE"), false),
                 missive::Error);
    EXPECT_TRUE(
        throws([] { (void)to_ascii_domain(""); }, errc::invalid_input, "domain \"\": is empty"));
    EXPECT_TRUE(throws([] { (void)to_ascii_domain("a..b"); }, errc::invalid_input,
                       "domain \"a..b\": has an empty label"));
    EXPECT_TRUE(throws([] { (void)to_ascii_domain("a b.example"); }, errc::invalid_input,
                       "domain \"a b.example\": has a character a domain may not have"));
    EXPECT_TRUE(throws([] { (void)to_ascii_domain("[1.2.3.4"); }, errc::invalid_input,
                       "domain \"[1.2.3.4\": is an invalid address literal"));
    EXPECT_TRUE(throws([] { (void)to_ascii_domain("x\r\n.example"); }, errc::invalid_input,
                       "domain \"x\\r\\n.example\": contains a line break at offset 1"));
    // U+2488 DIGIT ONE FULL STOP is disallowed by UTS #46.
    EXPECT_TRUE(throws([] { (void)to_ascii_domain("a\xE2\x92\x88.example"); }, errc::invalid_input,
                       "domain \"a\xE2\x92\x88.example\": cannot be converted to IDNA A-labels: "
                       "string contains a disallowed character"));
}

TEST(AddressFormat, Smtputf8) {
    EXPECT_TRUE(needs_smtputf8({"", "jörg@example.com"}));
    EXPECT_TRUE(needs_smtputf8({"", "山田@例え.テスト"}));
    EXPECT_FALSE(needs_smtputf8({"", "joerg@bücher.example"}));
    EXPECT_FALSE(needs_smtputf8({"Jörg", "joerg@example.com"}));
    EXPECT_EQ(envelope_address({"", "jörg@bücher.example"}, true), "jörg@xn--bcher-kva.example");
    EXPECT_EQ(envelope_address({"Name", "john doe@example.com"}, false),
              "\"john doe\"@example.com");
    EXPECT_TRUE(throws(
        [] {
            (void)envelope_address({"", "jörg@example.com"}, false);
        },
        errc::invalid_input,
        "address \"jörg@example.com\": has a non-ASCII local part; the server "
        "must offer SMTPUTF8 (RFC 6531)"));
    EXPECT_TRUE(throws(
        [] {
            (void)format_mailbox({"", "jörg@example.com"});
        },
        errc::invalid_input,
        "address \"jörg@example.com\": has a non-ASCII local part, which needs "
        "UTF-8 headers (RFC 6532)"));
    EXPECT_EQ(format_mailbox({"", "jörg@example.com"}, true), "jörg@example.com");
}

TEST(AddressFormat, Errors) {
    struct Case {
        Mailbox m;
        std::string what;
    };

    const std::vector<Case> cases = {
        {{"", "ab"}, "address \"ab\": has no @"},
        {{"", "@b"}, "address \"@b\": has an empty local part"},
        {{"", "a@"}, "address \"a@\": has an empty domain"},
        {{"", "a@b\r\nRCPT TO:<x@y>"},
         "address \"a@b\\r\\nRCPT TO:<x@y>\": contains a line break at offset 3"},
        {{"", std::string("a\0@b", 4)}, "address \"a\\x00@b\": contains a NUL byte at offset 1"},
        {{"", "a\x01@b"}, "address \"a\\x01@b\": has a control character in the local part"},
        {{"", "a@b c"}, "domain \"b c\": has a character a domain may not have"},
        {{"", "a@[b"}, "address \"a@[b\": has an invalid domain literal"},
        {{"Eve\nBcc: x", "a@b"},
         "display name \"Eve\\nBcc: x\": contains a line break at offset 3"},
    };
    for (const Case& c : cases) {
        EXPECT_TRUE(throws([&] { (void)format_mailbox(c.m); }, errc::invalid_input, c.what))
            << c.m.address;
    }
    EXPECT_TRUE(throws(
        [] {
            (void)envelope_address({"", "ab"}, true);
        },
        errc::invalid_input, "address \"ab\": has no @"));
    EXPECT_TRUE(throws(
        [] {
            (void)format_address_list({Group{"", {}}});
        },
        errc::invalid_input, "group without a name"));
}

TEST(AddressFormat, Lists) {
    EXPECT_EQ(
        format_address_list({Mailbox{"Mary Smith", "mary@x.test"}, Mailbox{"", "jdoe@example.org"},
                             Group{"A Group", {{"Ed Jones", "c@a.test"}, {"", "joe@where.test"}}},
                             Group{"Undisclosed recipients", {}}}),
        "Mary Smith <mary@x.test>, jdoe@example.org, A Group: Ed Jones <c@a.test>, "
        "joe@where.test;, Undisclosed recipients:;");
    EXPECT_EQ(format_address_list({}), "");
}

TEST(AddressFormat, FormatThenParseGivesTheSameList) {
    const std::vector<Address> lists[] = {
        {Mailbox{"Giant; \"Big\" Box", "sysservices@example.net"}, Mailbox{"", "a@b"}},
        {Mailbox{"日本語 テキスト", "山田@例え.テスト"}, Mailbox{"مرحبا بالعالم", "x@y"}},
        {Group{"Grüße, Team", {{"😀 emoji", "e@x"}, {"  spaced  out  ", "s@x"}}}},
        {Mailbox{"=?UTF-8?Q?x?=", "q@x"}, Mailbox{std::string(300, 'w'), "l@x"}},
        {Mailbox{"back\\slash (paren) \"quote\"", "\"odd local\"@x"}},
        {Mailbox{"a..b", "a..b@x"}, Mailbox{"a\tb", "t@[192.0.2.1]"}},
        // Found by encoded_word_fuzz: atoms in raw UTF-8 with a double space, the last word too
        // long to quote (77 + 1), must become encoded words.
        {Mailbox{"日本語 anj 😀  é=" + std::string(65, '8') + "?q-1252?", "x@y"}},
    };
    for (const auto& l : lists) {
        for (const bool utf8 : {false, true}) {
            if (!utf8 && l == lists[1]) {
                continue;  // a non-ASCII local part needs UTF-8 headers
            }
            const std::string text = format_address_list(l, utf8);
            EXPECT_EQ(parse_address_list(text), l) << text;
        }
    }
}
