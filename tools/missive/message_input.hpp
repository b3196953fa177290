#pragma once

#include <missive/smtp/envelope.hpp>

#include <istream>
#include <string>
#include <vector>

namespace missive::cli {

/** A ready-made message's header, rewritten for sending, and its envelope. */
struct ReadyMessage {
    std::string header{};  ///< the header block without Bcc/Resent-Bcc, CRLF, with the empty line
    smtp::Envelope envelope{};
    bool has_from = false;        ///< the header has a From field
    bool has_date = false;        ///< … a Date field
    bool has_message_id = false;  ///< … a Message-ID field
};

/**
 * Reads the header block of a message from `in` (up to the empty line; the body stays in `in`,
 * to be streamed) and makes its envelope: the recipients given, and every address of To, Cc and
 * Bcc when `from_headers` (sendmail -t) or when none is given; the sender given, or else Sender
 * or From, or else `fallback_sender`. Bcc is taken out of the header.
 * @throws Error errc::invalid_input when the header does not parse, names no recipient or no
 * sender, or is larger than mime::HeaderBlock::max_size
 */
ReadyMessage read_ready_message(std::istream& in, const std::vector<std::string>& recipients,
                                const std::string& sender, bool from_headers = false,
                                const std::string& fallback_sender = {});

}  // namespace missive::cli
