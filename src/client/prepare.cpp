#include <missive/client/prepare.hpp>
#include <missive/error.hpp>
#include <missive/mime/address.hpp>

#include <algorithm>
#include <chrono>

namespace missive::client {

smtp::Envelope envelope_of(const mime::Message& message) {
    const bool smtputf8 = message.needs_smtputf8();
    const std::optional<mime::Mailbox> sender = message.sender();
    if (!sender) {
        throw Error(errc::invalid_input,
                    "the message has no From (or Sender) to take the envelope sender from");
    }
    smtp::Envelope envelope;
    envelope.from = mime::envelope_address(*sender, smtputf8);
    for (const mime::Mailbox& m : message.recipients()) {
        std::string address = mime::envelope_address(m, smtputf8);
        const bool seen =
            std::any_of(envelope.to.begin(), envelope.to.end(),
                        [&](const smtp::Recipient& r) { return r.address == address; });
        if (!seen) {
            envelope.to.emplace_back(std::move(address));
        }
    }
    if (envelope.to.empty()) {
        throw Error(errc::invalid_input, "the message has no recipient in To, Cc or Bcc");
    }
    return envelope;
}

mime::SerializeOptions serialize_options_for(const mime::Message& message, bool eight_bit_mime) {
    std::string domain;
    if (const auto sender = message.sender()) {
        const auto at = sender->address.rfind('@');
        if (at != std::string::npos) {
            domain = mime::to_ascii_domain(sender->address.substr(at + 1));
        }
    }
    return {.allow_8bit = eight_bit_mime,
            .allow_utf8 = message.needs_smtputf8(),
            .date = std::chrono::system_clock::now(),
            .message_id = mime::make_message_id(domain)};
}

}  // namespace missive::client
