#pragma once

#include <missive/smtp/capabilities.hpp>
#include <missive/smtp/envelope.hpp>

#include <string>
#include <string_view>

namespace missive::smtp::detail {

/**
 * Throws Error(errc::invalid_input) when `value` contains CR, LF or NUL, naming `what`: such a
 * byte would end the command early and let the rest be read as a second command.
 */
void check_line(std::string_view what, std::string_view value);

/** As check_line, and also refuses other control characters and '<' '>' in a path. */
void check_address(std::string_view what, std::string_view address);

/** @return true when `s` holds a byte outside ASCII. */
bool has_non_ascii(std::string_view s);

/** @return `s` as RFC 3461 xtext ("+" and "=" and bytes outside 33..126 as "+XX"). */
std::string xtext(std::string_view s);

/**
 * @return "MAIL FROM:<from>" with the parameters the server supports.
 * @param needs_utf8 true when an address of the transaction is not ASCII
 * @throws Error errc::invalid_input when a requested parameter is not offered,
 * errc::message_too_large when `params.size` exceeds the server's SIZE
 */
std::string mail_command(std::string_view from, const MailParams& params, const Capabilities& caps,
                         bool needs_utf8, bool chunking);

/** @return "RCPT TO:<to>" with NOTIFY/ORCPT. @throws Error errc::invalid_input */
std::string rcpt_command(std::string_view to, const RcptParams& params, const Capabilities& caps);

/** @return the queue id from a final reply ("queued as X", "id=X"), or "". */
std::string queue_id(std::string_view text);

}  // namespace missive::smtp::detail
