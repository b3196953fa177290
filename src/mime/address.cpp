// Addresses (RFC 5322 3.4, obsolete forms of 4.4, RFC 6532 UTF-8). Parsing runs in two steps:
// the lexer turns the text into tokens (atoms, quoted-strings, domain literals, specials),
// dropping white space and comments but remembering where they stood, and a recursive descent
// over the tokens builds mailboxes and groups. Both steps are linear in the input, which is
// bounded (max_address_input), as is the nesting of comments (max_comment_nesting), the only
// recursion of the grammar besides a group's one level.
#include <missive/error.hpp>
#include <missive/mime/address.hpp>
#include <missive/mime/encoded_word.hpp>

#include "mime/utf8.hpp"

#include <idn2.h>

#include <algorithm>
#include <cstddef>
#include <utility>

namespace missive::mime {

namespace {

using detail::excerpt;
using detail::is_atext;
using detail::is_control;
using detail::is_non_ascii;

[[noreturn]] void fail(std::string_view what, std::string_view input, std::string_view why) {
    throw Error(errc::invalid_input,
                std::string(what) + " \"" + excerpt(input) + "\": " + std::string(why));
}

[[noreturn]] void fail_at(std::string_view input, std::string_view why, std::size_t offset) {
    fail("address", input, std::string(why) + " at offset " + std::to_string(offset));
}

// CR, LF and NUL would end or break the header line; invalid UTF-8 is no text (RFC 6532 3.1).
void check_bytes(std::string_view what, std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\r' || s[i] == '\n') {
            fail(what, s, "contains a line break at offset " + std::to_string(i));
        }
        if (s[i] == '\0') {
            fail(what, s, "contains a NUL byte at offset " + std::to_string(i));
        }
    }
    if (const std::size_t bad = detail::invalid_utf8_at(s); bad != std::string_view::npos) {
        fail(what, s, "is not valid UTF-8 at offset " + std::to_string(bad));
    }
}

// ---- Lexer

enum class Kind { atom, quoted, literal, special, end };

struct Token {
    Kind kind = Kind::end;
    std::string text{};  ///< atom text, quoted-string content, "[literal]", or the special
    std::size_t offset = 0;
    bool space_before = false;  ///< white space or a comment stood before it

    [[nodiscard]] bool is(char special) const {
        return kind == Kind::special && text[0] == special;
    }

    [[nodiscard]] bool is_word() const { return kind == Kind::atom || kind == Kind::quoted; }
};

bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}

std::string describe(char c) {
    return "unexpected character '" + excerpt(std::string_view(&c, 1)) + "'";
}

// @return the offset after the comment that opens at s[i] (RFC 5322 3.2.2).
std::size_t skip_comment(std::string_view s, std::size_t i) {
    int depth = 0;
    for (std::size_t j = i; j < s.size(); ++j) {
        if (s[j] == '(') {
            if (++depth > max_comment_nesting) {
                fail_at(s, "comments nested deeper than " + std::to_string(max_comment_nesting), j);
            }
        } else if (s[j] == ')') {
            if (--depth == 0) {
                return j + 1;
            }
        } else if (s[j] == '\\') {
            ++j;  // quoted-pair
        }
    }
    fail_at(s, "unbalanced parenthesis", i);
}

// @return the offset after the quoted-string that opens at s[i]; its content goes to `out`.
std::size_t read_quoted(std::string_view s, std::size_t i, std::string& out) {
    for (std::size_t j = i + 1; j < s.size(); ++j) {
        char c = s[j];
        if (c == '"') {
            return j + 1;
        }
        if (c == '\\') {
            if (++j == s.size()) {
                break;
            }
            c = s[j];
        }
        if (is_control(c) && c != '\t') {
            fail_at(s, describe(c), j);
        }
        out += c;
    }
    fail_at(s, "unbalanced quote", i);
}

bool is_dtext(char c) {  // RFC 5322 3.4.1, with RFC 6532's UTF-8
    const auto u = static_cast<unsigned char>(c);
    return (u >= 33 && u <= 90) || (u >= 94 && u <= 126) || u >= 0x80;
}

// @return the offset after the domain literal that opens at s[i]; "[text]" goes to `out`,
// without its white space.
std::size_t read_literal(std::string_view s, std::size_t i, std::string& out) {
    out = "[";
    for (std::size_t j = i + 1; j < s.size(); ++j) {
        char c = s[j];
        if (c == ']') {
            out += ']';
            return j + 1;
        }
        if (c == '[') {
            fail_at(s, "unbalanced bracket", i);
        }
        if (is_wsp(c)) {
            continue;
        }
        if (c == '\\' && j + 1 < s.size()) {  // obs-dtext: only what needs no escape
            c = s[++j];
        }
        if (!is_dtext(c)) {
            fail_at(s, describe(c), j);
        }
        out += c;
    }
    fail_at(s, "unbalanced bracket", i);
}

std::vector<Token> tokenize(std::string_view s) {
    static constexpr std::string_view specials = "<>@,;:.";
    std::vector<Token> tokens;
    bool space = false;
    for (std::size_t i = 0; i < s.size();) {
        const char c = s[i];
        if (is_wsp(c)) {
            space = true;
            ++i;
            continue;
        }
        if (c == '(') {
            i = skip_comment(s, i);
            space = true;
            continue;
        }
        Token t{Kind::atom, {}, i, space};
        space = false;
        if (c == '"') {
            t.kind = Kind::quoted;
            i = read_quoted(s, i, t.text);
        } else if (c == '[') {
            t.kind = Kind::literal;
            i = read_literal(s, i, t.text);
        } else if (is_atext(c) || is_non_ascii(c)) {
            const std::size_t start = i;
            while (i < s.size() && (is_atext(s[i]) || is_non_ascii(s[i]))) {
                ++i;
            }
            t.text = s.substr(start, i - start);
        } else if (specials.find(c) != std::string_view::npos) {
            t.kind = Kind::special;
            t.text = std::string(1, c);
            ++i;
        } else if (c == ')') {
            fail_at(s, "unbalanced parenthesis", i);
        } else if (c == ']') {
            fail_at(s, "unbalanced bracket", i);
        } else {
            fail_at(s, describe(c), i);
        }
        tokens.push_back(std::move(t));
    }
    tokens.push_back(Token{Kind::end, {}, s.size(), space});
    return tokens;
}

// ---- Parser

class Parser {
public:
    explicit Parser(std::string_view input)
        : input_(input) {
        if (input.size() > max_address_input) {
            fail("address", input,
                 "is longer than " + std::to_string(max_address_input) + " bytes");
        }
        check_bytes("address", input);
        tokens_ = tokenize(input);
    }

    std::vector<Address> list() {
        std::vector<Address> out;
        while (peek().kind != Kind::end) {
            if (peek().is(',')) {  // obs-addr-list: empty elements
                ++p_;
                continue;
            }
            out.push_back(address(false));
            if (peek().kind != Kind::end && !peek().is(',')) {
                garbage();
            }
        }
        return out;
    }

    Mailbox mailbox() {
        if (peek().kind == Kind::end) {
            fail_at(input_, "no address", peek().offset);
        }
        const std::size_t start = peek().offset;
        Address a = address(false);
        if (!std::holds_alternative<Mailbox>(a)) {
            fail_at(input_, "expected one mailbox, found a group", start);
        }
        if (peek().kind != Kind::end) {
            garbage();
        }
        return std::get<Mailbox>(std::move(a));
    }

private:
    [[nodiscard]] const Token& peek() const { return tokens_[p_]; }

    [[noreturn]] void garbage() const {
        if (peek().is('>')) {
            fail_at(input_, "unbalanced angle bracket", peek().offset);
        }
        fail_at(input_, "garbage after the address", peek().offset);
    }

    // address = mailbox / group; a phrase decides which, by what follows it.
    Address address(bool in_group) {
        const std::size_t start = p_;
        while (peek().is_word() || peek().is('.')) {  // obs-phrase allows dots
            ++p_;
        }
        const std::size_t phrase_end = p_;
        if (peek().is('<')) {
            std::string name = phrase(start, phrase_end);
            return Mailbox{std::move(name), angle_address()};
        }
        if (peek().is(':')) {
            if (in_group) {
                fail_at(input_, "group inside a group", peek().offset);
            }
            if (start == phrase_end) {
                fail_at(input_, "group without a name", peek().offset);
            }
            return group(phrase(start, phrase_end));
        }
        p_ = start;
        if (start == phrase_end && peek().kind != Kind::end && !peek().is('@')) {
            if (peek().is('>')) {
                fail_at(input_, "unbalanced angle bracket", peek().offset);
            }
            fail_at(input_, "unexpected '" + peek().text + "'", peek().offset);
        }
        return Mailbox{{}, addr_spec()};
    }

    // The display name: words joined by single spaces where white space or comments stood
    // (obs-phrase's dots kept as written), then RFC 2047-decoded.
    [[nodiscard]] std::string phrase(std::size_t from, std::size_t to) const {
        std::string raw;
        for (std::size_t k = from; k < to; ++k) {
            if (k > from && tokens_[k].space_before) {
                raw += ' ';
            }
            raw += tokens_[k].text;
        }
        return decode_header_text(raw);
    }

    // angle-addr / obs-angle-addr, at "<".
    std::string angle_address() {
        const std::size_t open = peek().offset;
        ++p_;
        if (peek().is('>')) {
            fail_at(input_, "empty address in angle brackets", open);
        }
        if (peek().is('@') || peek().is(',')) {
            route();
        }
        std::string a = addr_spec();
        if (peek().kind == Kind::end) {
            fail_at(input_, "unbalanced angle bracket", open);
        }
        if (!peek().is('>')) {
            fail_at(input_, "garbage after the address", peek().offset);
        }
        ++p_;
        return a;
    }

    // obs-route = obs-domain-list ":" (RFC 5322 4.4); read and dropped, as RFC 5321 C says.
    void route() {
        while (peek().is(',') || peek().is('@')) {
            if (peek().is('@')) {
                const std::size_t at = peek().offset;
                ++p_;
                (void)domain(at);
            } else {
                ++p_;
            }
        }
        if (!peek().is(':')) {
            fail_at(input_, "malformed route", peek().offset);
        }
        ++p_;
    }

    // group = display-name ":" [group-list] ";", at ":".
    Group group(std::string name) {
        const std::size_t colon = peek().offset;
        ++p_;
        Group g{std::move(name), {}};
        for (;;) {
            if (peek().is(';')) {
                ++p_;
                return g;
            }
            if (peek().is(',')) {  // obs-group-list, obs-mbox-list: empty elements
                ++p_;
                continue;
            }
            if (peek().kind == Kind::end) {
                fail_at(input_, "group without its ';'", colon);
            }
            g.members.push_back(std::get<Mailbox>(address(true)));
            if (peek().kind == Kind::end) {
                fail_at(input_, "group without its ';'", colon);
            }
            if (!peek().is(',') && !peek().is(';')) {
                garbage();
            }
        }
    }

    // addr-spec = local-part "@" domain, with obs-local-part (CFWS around dots, quoted words,
    // and leniently empty words: "a..b").
    std::string addr_spec() {
        const std::size_t begin = peek().offset;
        std::string local;
        bool after_word = false;
        for (;; ++p_) {
            const Token& t = peek();
            if (t.is_word() && !after_word) {
                if (t.kind == Kind::quoted && t.text.find('\t') != std::string::npos) {
                    fail_at(input_, "tab in the local part", t.offset);
                }
                local += t.text;
                after_word = true;
            } else if (t.is('.')) {
                local += '.';
                after_word = false;
            } else {
                break;
            }
        }
        if (!peek().is('@')) {
            fail_at(input_, "missing @", begin);
        }
        const std::size_t at = peek().offset;
        if (local.empty()) {
            fail_at(input_, "empty local part", at);
        }
        ++p_;
        return local + "@" + domain(at);
    }

    // domain = dot-atom / domain-literal / obs-domain (CFWS around dots).
    std::string domain(std::size_t at) {
        if (peek().kind == Kind::literal) {
            return tokens_[p_++].text;
        }
        std::string d;
        bool want_label = true;
        std::size_t dot = 0;
        for (;; ++p_) {
            const Token& t = peek();
            if (t.kind == Kind::atom && want_label) {
                d += t.text;
                want_label = false;
            } else if (t.is('.')) {
                if (want_label) {
                    fail_at(input_, d.empty() ? "empty domain" : "empty label in the domain",
                            t.offset);
                }
                d += '.';
                want_label = true;
                dot = t.offset;
            } else {
                break;
            }
        }
        if (d.empty()) {
            fail_at(input_, "empty domain", at + 1);
        }
        if (want_label) {
            fail_at(input_, "empty label in the domain", dot);
        }
        return d;
    }

    std::string_view input_;
    std::vector<Token> tokens_;
    std::size_t p_ = 0;
};

// ---- Formatting

bool is_dot_atom(std::string_view s, bool utf8) {
    if (s.empty() || s.front() == '.' || s.back() == '.' ||
        s.find("..") != std::string_view::npos) {
        return false;
    }
    return std::ranges::all_of(
        s, [&](char c) { return c == '.' || is_atext(c) || (utf8 && is_non_ascii(c)); });
}

std::string quote(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    out += '"';
    return out;
}

struct Parts {
    std::string_view local;
    std::string_view domain;
};

// @return the split at the "@" before the domain: the last one, or the one before a domain
// literal (which may hold "@" itself); npos when there is none.
std::size_t find_at(std::string_view address) {
    if (!address.empty() && address.back() == ']') {
        const std::size_t open = address.rfind('[');
        if (open != std::string_view::npos && open > 0 && address[open - 1] == '@') {
            return open - 1;
        }
    }
    return address.rfind('@');
}

Parts split(std::string_view address) {
    check_bytes("address", address);
    const std::size_t at = find_at(address);
    if (at == std::string_view::npos) {
        fail("address", address, "has no @");
    }
    const Parts p{address.substr(0, at), address.substr(at + 1)};
    if (p.local.empty()) {
        fail("address", address, "has an empty local part");
    }
    if (p.domain.empty()) {
        fail("address", address, "has an empty domain");
    }
    if (std::ranges::any_of(p.local, [](char c) { return is_control(c); })) {
        fail("address", address, "has a control character in the local part");
    }
    return p;
}

bool is_ascii(std::string_view s) {
    return std::ranges::none_of(s, [](char c) { return is_non_ascii(c); });
}

// A domain literal as the parser returns it: "[" *dtext "]", ASCII unless `utf8`.
bool is_domain_literal(std::string_view d, bool utf8) {
    return d.size() >= 2 && d.front() == '[' && d.back() == ']' &&
           std::ranges::all_of(d.substr(1, d.size() - 2),
                               [&](char c) { return is_dtext(c) && (utf8 || !is_non_ascii(c)); });
}

std::string format_domain(std::string_view address, std::string_view domain, bool utf8) {
    if (domain.front() == '[') {
        if (!is_domain_literal(domain, utf8)) {
            fail("address", address, "has an invalid domain literal");
        }
        return std::string(domain);
    }
    if (!utf8) {
        return to_ascii_domain(domain);
    }
    if (!is_dot_atom(domain, true)) {
        fail("address", address, "has an invalid domain");
    }
    return std::string(domain);
}

std::string format_address(std::string_view address, bool utf8) {
    const Parts p = split(address);
    if (!utf8 && !is_ascii(p.local)) {
        fail("address", address,
             "has a non-ASCII local part, which needs UTF-8 headers (RFC 6532)");
    }
    std::string local = is_dot_atom(p.local, utf8) ? std::string(p.local) : quote(p.local);
    return local + "@" + format_domain(address, p.domain, utf8);
}

}  // namespace

Mailbox parse_mailbox(std::string_view text) {
    return Parser(text).mailbox();
}

std::vector<Address> parse_address_list(std::string_view text) {
    return Parser(text).list();
}

std::vector<Mailbox> flatten(const std::vector<Address>& list) {
    std::vector<Mailbox> out;
    for (const Address& a : list) {
        if (const auto* m = std::get_if<Mailbox>(&a)) {
            out.push_back(*m);
        } else {
            const auto& members = std::get<Group>(a).members;
            out.insert(out.end(), members.begin(), members.end());
        }
    }
    return out;
}

std::string format_mailbox(const Mailbox& m, bool utf8) {
    std::string address = format_address(m.address, utf8);
    if (m.name.empty()) {
        return address;
    }
    return format_phrase(m.name, utf8) + " <" + address + ">";
}

std::string format_address_list(const std::vector<Address>& list, bool utf8) {
    std::string out;
    for (const Address& a : list) {
        if (!out.empty()) {
            out += ", ";
        }
        if (const auto* m = std::get_if<Mailbox>(&a)) {
            out += format_mailbox(*m, utf8);
            continue;
        }
        const auto& g = std::get<Group>(a);
        if (g.name.empty()) {
            throw Error(errc::invalid_input, "group without a name");
        }
        out += format_phrase(g.name, utf8) + ":";
        for (std::size_t i = 0; i < g.members.size(); ++i) {
            out += (i == 0 ? " " : ", ") + format_mailbox(g.members[i], utf8);
        }
        out += ";";
    }
    return out;
}

std::string envelope_address(const Mailbox& m, bool smtputf8) {
    const Parts p = split(m.address);
    if (!smtputf8 && !is_ascii(p.local)) {
        fail("address", m.address,
             "has a non-ASCII local part; the server must offer SMTPUTF8 (RFC 6531)");
    }
    // RFC 5321 4.1.2: Dot-string or Quoted-string; Atom is RFC 5322's atext.
    std::string local = is_dot_atom(p.local, smtputf8) ? std::string(p.local) : quote(p.local);
    const std::string domain = p.domain.front() == '[' ? format_domain(m.address, p.domain, false)
                                                       : to_ascii_domain(p.domain);
    return local + "@" + domain;
}

bool needs_smtputf8(const Mailbox& m) {
    const std::size_t at = find_at(m.address);
    return !is_ascii(std::string_view(m.address).substr(0, at));
}

std::string to_ascii_domain(std::string_view domain) {
    check_bytes("domain", domain);
    if (domain.empty()) {
        fail("domain", domain, "is empty");
    }
    if (domain.front() == '[') {  // RFC 5321 4.1.3 address literal
        if (!is_domain_literal(domain, false)) {
            fail("domain", domain, "is an invalid address literal");
        }
        return std::string(domain);
    }
    if (domain.front() == '.' || domain.back() == '.' ||
        domain.find("..") != std::string_view::npos) {
        fail("domain", domain, "has an empty label");
    }
    if (!is_dot_atom(domain, true)) {
        fail("domain", domain, "has a character a domain may not have");
    }
    if (is_ascii(domain)) {
        return std::string(domain);
    }
    char* out = nullptr;
    const int rc =
        idn2_to_ascii_8z(std::string(domain).c_str(), &out, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK) {
        fail("domain", domain,
             std::string("cannot be converted to IDNA A-labels: ") + idn2_strerror(rc));
    }
    std::string result(out);
    idn2_free(out);
    // Normalisation can turn a character into ASCII punctuation (U+037E GREEK QUESTION MARK is
    // canonically ';'), which libidn2 passes through: the result must still be a domain.
    if (result.empty() || result.front() == '.' || result.back() == '.' ||
        result.find("..") != std::string::npos || !is_dot_atom(result, false)) {
        fail("domain", domain, "becomes \"" + result + "\" in IDNA, which is not a domain");
    }
    return result;
}

}  // namespace missive::mime
