#pragma once

#include <missive/mime/address.hpp>
#include <missive/mime/headers.hpp>
#include <missive/mime/part.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace missive::mime {

/**
 * A message: its header fields and the body, a tree of parts. Address fields (From, To, Cc,
 * Bcc, Reply-To, Sender, Resent-*) hold address lists as text, parsed when the message is
 * written or its recipients are asked for. Build one with `Builder`, `create`, or by hand.
 *
 * Bcc is written nowhere: its addresses are only envelope recipients. MIME-Version is always
 * written; Date and Message-ID come from `SerializeOptions` when the message has none (the send
 * path fills them in: time is an input of this layer, not something it reads).
 */
struct Message {
    Headers headers{};
    Part body = Part::text("");

    /**
     * The envelope recipients the headers name: every mailbox of To, Cc and Bcc (group members
     * included), duplicates (same address, any case) removed, in order.
     * @throws Error errc::invalid_input when one of those fields does not parse
     */
    [[nodiscard]] std::vector<Mailbox> recipients() const;

    /**
     * The envelope sender the headers name: Sender if present, else the first mailbox of From.
     * @throws Error errc::invalid_input when the field does not parse
     */
    [[nodiscard]] std::optional<Mailbox> sender() const;

    /** @return true when an address of the message has a non-ASCII local part (RFC 6531). */
    [[nodiscard]] bool needs_smtputf8() const;
};

/**
 * The simple form of Nim's `createMessage` and Racket's headers: a text/plain message.
 * @param to, cc addresses (each may be "Name <a@b>")
 * @param other_headers further fields; a Content-Type among them sets the body's type
 * @throws Error errc::invalid_input for a field with a line break or an address that does not parse
 */
Message create(std::string subject, std::string body, const std::vector<std::string>& to,
               const std::vector<std::string>& cc = {},
               const std::vector<Header>& other_headers = {});

/** @return `when` as an RFC 5322 3.3 date-time in UTC, e.g. "Mon, 23 Nov 2026 03:01:34 +0000". */
std::string format_date(std::chrono::system_clock::time_point when);

/**
 * @return a new Message-ID, "<" 32 random hex digits "@" domain ">" (RFC 5322 3.6.4)
 * @param domain the sender's domain (A-labels); "" gives "missive.invalid"
 */
std::string make_message_id(std::string_view domain);

/** @return true for the address fields (From, To, Cc, Bcc, Reply-To, Sender, Resent-*). */
bool is_address_field(std::string_view name);

}  // namespace missive::mime
