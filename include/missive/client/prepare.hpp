#pragma once

// How a built message is prepared for sending: its envelope and how it is written. One place,
// used by Client::send and by the missive command (its dry run and its outbox too), so that what
// a dry run prints is what a send uses.

#include <missive/mime/message.hpp>
#include <missive/mime/serializer.hpp>
#include <missive/smtp/envelope.hpp>

namespace missive::client {

/**
 * @return the envelope of `message`: the sender from Sender, else From; the recipients from To,
 * Cc and Bcc, each once, in that order. Domains are written as IDNA A-labels; local parts as they
 * are (a non-ASCII one needs SMTPUTF8, see mime::Message::needs_smtputf8).
 * @throws Error errc::invalid_input when the message has no sender or no recipient
 */
smtp::Envelope envelope_of(const mime::Message& message);

/**
 * @return how to write `message`: 8bit text when `eight_bit_mime` (the server offers 8BITMIME),
 * UTF-8 addresses when the message needs SMTPUTF8, the Date now and a new Message-ID from the
 * sender's domain (used only where the message has none).
 */
mime::SerializeOptions serialize_options_for(const mime::Message& message, bool eight_bit_mime);

}  // namespace missive::client
