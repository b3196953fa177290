#pragma once

#include <missive/client/options.hpp>
#include <missive/mime/message.hpp>
#include <missive/smtp/envelope.hpp>
#include <missive/smtp/result.hpp>

#include <string_view>

namespace missive {

/**
 * Sends one message in one call (Go's `smtp.SendMail`): connect, EHLO, MAIL, RCPT…, DATA or
 * BDAT, QUIT.
 * @param server "host", "host:port", "[v6-address]:port" (port 25 by default; port 465 means
 * implicit TLS, as smtps://), or a URL such as "submission://mail.example.org" or
 * "lmtp:///run/dovecot/lmtp" (see net::Url and Client::connect(const net::Url&))
 * @param envelope sender and recipients (independent of the message's headers)
 * @param message the whole message, headers and body
 * @return each recipient's outcome; some refused is a result, none accepted an Error
 * @throws Error as client::Client::send does, and errc::invalid_input for a bad `server`
 */
[[nodiscard]] smtp::SendResult send(std::string_view server, const smtp::Envelope& envelope,
                                    std::string_view message, const client::Options& options = {});

/**
 * Sends a message built with `mime` in one call; the envelope comes from its headers (see
 * client::Client::send(const mime::Message&)).
 */
[[nodiscard]] smtp::SendResult send(std::string_view server, const mime::Message& message,
                                    const client::Options& options = {});

}  // namespace missive
