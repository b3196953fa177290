#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace missive::mime {

/** One mailbox (RFC 5322 3.4): an optional display name and an address. */
struct Mailbox {
    std::string name{};     ///< display name, decoded UTF-8; empty when there is none
    std::string address{};  ///< "local@domain" as given, local part unquoted; UTF-8 allowed
};

/** A named group of mailboxes (RFC 5322 3.4), e.g. "Undisclosed recipients:;". */
struct Group {
    std::string name{};              ///< display name, decoded UTF-8; never empty when parsed
    std::vector<Mailbox> members{};  ///< may be empty
};

/** An element of an address list. */
using Address = std::variant<Mailbox, Group>;

/** The longest input the parsers accept, against hostile input. */
inline constexpr std::size_t max_address_input = std::size_t{64} * 1024;

/** How deeply comments may nest in parser input, against hostile input. */
inline constexpr int max_comment_nesting = 100;

/**
 * Parses exactly one mailbox: `a@b`, `Name <a@b>`, `"Q, N" <a@b>`, `a@b (Comment)`, with the
 * obsolete forms and RFC 6532 UTF-8 that `parse_address_list` reads. Comments carry no meaning
 * (RFC 5322 3.2.2): `a@b (Comment)` has no name.
 *
 * @param text a header field body without folds (unfold CRLF first)
 * @return the mailbox, its name decoded with `decode_header_text`
 * @throws Error errc::invalid_input as `parse_address_list` does; also when `text` holds no
 *         address, a group, or more than one mailbox
 */
Mailbox parse_mailbox(std::string_view text);

/**
 * Parses an address list (RFC 5322 3.4) such as the body of To or Cc: mailboxes and groups
 * (`Team: a@b, c@d;`, `Undisclosed recipients:;`). Reads leniently what RFC 5322 4.4 calls
 * obsolete: phrases with dots (`Joe Q. Public`), routes (`<@x,@y:a@b>`, dropped), empty list
 * elements (`a@b, , c@d`), CFWS around dots and at-signs, and nested comments; local parts with
 * empty atoms (`a..b`) are kept as written. Unquoted UTF-8 is accepted (RFC 6532). Display names
 * are decoded with `decode_header_text`, phrase words joined by single spaces.
 *
 * @param text a header field body without folds (unfold CRLF first); empty gives an empty list
 * @return the elements in order
 * @throws Error errc::invalid_input naming the problem and its byte offset: CR, LF or NUL
 *         anywhere, input over `max_address_input` bytes, invalid UTF-8, a missing @, an empty
 *         local part or domain, an empty domain label, unbalanced quotes, brackets, angle
 *         brackets or parentheses, comments nested deeper than `max_comment_nesting`, a group
 *         without a name or without its `;`, a group inside a group, a character that may not
 *         stand where it does, and anything after an address but a comma
 */
std::vector<Address> parse_address_list(std::string_view text);

/** @return the mailboxes of `list` in order, the members of each group in its place. */
std::vector<Mailbox> flatten(const std::vector<Address>& list);

/**
 * Writes a mailbox for a header field, strictly: the name with `format_phrase`, the local part
 * as a dot-atom when it is one and else as a quoted-string, the domain in IDNA A-labels
 * (`to_ascii_domain`) unless `utf8`. Without a name: `a@b`; with one: `Name <a@b>`.
 *
 * @param m the mailbox
 * @param utf8 true when the message goes out with RFC 6532 UTF-8 headers (the server offered
 *        SMTPUTF8): the name may then be written raw instead of as encoded words, the local
 *        part may be non-ASCII and the domain stays as given (it must still be a dot-atom)
 * @return the mailbox; every space in it is a place where the caller may fold
 * @throws Error errc::invalid_input when the name or address contains CR, LF or NUL, the name
 *         is not UTF-8, the address has no @, an empty local part or domain, a control
 *         character, a non-ASCII local part without `utf8`, or a domain that is neither a
 *         dot-atom nor a domain literal or cannot be converted to A-labels
 */
std::string format_mailbox(const Mailbox& m, bool utf8 = false);

/**
 * Writes an address list: `", "` between elements, a group as `Name: a@b, c@d;` (`Name:;` when
 * it is empty), each mailbox with `format_mailbox`.
 *
 * @param list the elements
 * @param utf8 as for `format_mailbox`
 * @return the list; each `", "` (and every other space) is a place where the caller may fold
 * @throws Error errc::invalid_input as `format_mailbox` does, and for a group without a name
 */
std::string format_address_list(const std::vector<Address>& list, bool utf8 = false);

/**
 * The address for MAIL FROM or RCPT TO (RFC 5321 4.1.2), without the angle brackets: the local
 * part as a dot-string or quoted-string, the domain in IDNA A-labels, also with SMTPUTF8 (every
 * server can route A-labels).
 *
 * @param m the mailbox; its name is ignored
 * @param smtputf8 whether the server offered SMTPUTF8 (RFC 6531) and it will be used
 * @return e.g. `user@xn--bcher-kva.example`
 * @throws Error errc::invalid_input when the local part is non-ASCII and `!smtputf8` (the
 *         server must offer SMTPUTF8), and for what `format_mailbox` refuses in an address
 */
std::string envelope_address(const Mailbox& m, bool smtputf8);

/**
 * @return true when the mailbox can only be sent with SMTPUTF8 (RFC 6531): its local part is
 *         non-ASCII. A non-ASCII domain does not count: it travels as A-labels.
 */
bool needs_smtputf8(const Mailbox& m);

/**
 * Converts a domain to IDNA A-labels (RFC 5890) with libidn2, UTS #46 non-transitional
 * processing after NFC (`IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL`, as browsers resolve names
 * today: `faß.de` is `xn--fa-hia.de`, not `fass.de`). That processing also lowercases. An
 * all-ASCII domain is returned unchanged after checking it is a dot-atom; an address literal
 * (`[192.0.2.1]`, `[IPv6:…]`) is passed through.
 *
 * @param domain the domain, UTF-8
 * @return the domain in ASCII
 * @throws Error errc::invalid_input naming the domain when it is empty, has an empty label or a
 *         character a domain may not have, or libidn2 refuses it (with libidn2's reason)
 */
std::string to_ascii_domain(std::string_view domain);

}  // namespace missive::mime
