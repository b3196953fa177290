#pragma once

#include <missive/smtp/reply.hpp>

#include <optional>
#include <string>
#include <vector>

namespace missive::smtp {

/** What became of one envelope recipient. */
struct RecipientResult {
    std::string address{};  ///< as given to RCPT TO
    bool accepted = false;
    Reply reply{};  ///< the RCPT reply; for LMTP, the per-recipient reply after the data
};

/**
 * The outcome of one mail transaction, recipient by recipient. A send in which some recipients
 * were refused is still a result; it is an error only when nobody was accepted or the message
 * itself was refused. Errors carry the result as far as it got (`Error::report()`).
 */
struct SendResult {
    std::optional<Reply> mail_reply{};          ///< reply to MAIL FROM, once received
    std::vector<RecipientResult> recipients{};  ///< one per RCPT TO that got a reply, in order
    std::optional<Reply> data_reply{};          ///< final reply after the message data
    std::string queue_id{};                     ///< from the final reply ("queued as X"), or ""
    bool message_sent = false;                  ///< every byte of the message and its end went out

    /** @return the recipients whose RCPT (and, for LMTP, data reply) was positive. */
    [[nodiscard]] std::vector<std::string> accepted() const;

    /** @return the recipients that were refused. */
    [[nodiscard]] std::vector<std::string> refused() const;

    /** @return true when the message was accepted for every recipient. */
    [[nodiscard]] bool all_accepted() const;
};

}  // namespace missive::smtp
