#include <missive/testing/memory_transport.hpp>

namespace missive::testing {

std::vector<SentMessage> MemoryTransport::messages() const {
    const std::lock_guard lock(mutex_);
    return messages_;
}

void MemoryTransport::refuse(std::string address, smtp::Reply reply) {
    const std::lock_guard lock(mutex_);
    refused_.emplace_back(std::move(address), std::move(reply));
}

void MemoryTransport::fail_with(Error error) {
    const std::lock_guard lock(mutex_);
    failure_ = std::move(error);
}

void MemoryTransport::clear() {
    const std::lock_guard lock(mutex_);
    messages_.clear();
    refused_.clear();
    failure_.reset();
}

smtp::SendResult MemoryTransport::send_text(const smtp::Envelope& envelope,
                                            std::string_view message) {
    const std::lock_guard lock(mutex_);
    if (failure_) {
        throw Error(*failure_);  // a copy: the next send throws it again
    }
    smtp::SendResult result;
    result.mail_reply = smtp::Reply{250, smtp::EnhancedCode{2, 1, 0}, {"OK"}};
    for (const smtp::Recipient& r : envelope.to) {
        smtp::RecipientResult outcome{r.address, true, {250, smtp::EnhancedCode{2, 1, 5}, {"OK"}}};
        for (const auto& [address, reply] : refused_) {
            if (address == r.address) {
                outcome.accepted = false;
                outcome.reply = reply;
            }
        }
        result.recipients.push_back(std::move(outcome));
    }
    if (result.accepted().empty()) {
        // As the SMTP session words it: "all 2 recipients refused: <a>: 550 …; <b>: 550 …".
        std::string text = "all " + std::to_string(result.recipients.size()) +
                           (result.recipients.size() == 1 ? " recipient" : " recipients") +
                           " refused";
        for (std::size_t i = 0; i < result.recipients.size(); ++i) {
            const auto& r = result.recipients[i];
            text += (i == 0 ? ": <" : "; <") + r.address + ">: " + r.reply.to_string();
        }
        const smtp::Reply last = result.recipients.back().reply;
        throw Error(errc::all_recipients_refused, text,
                    {.reply = last, .report = result, .connection_usable = true});
    }
    const std::string id = "memory-" + std::to_string(messages_.size() + 1);
    result.data_reply = smtp::Reply{250, smtp::EnhancedCode{2, 0, 0}, {"queued as " + id}};
    result.queue_id = id;
    result.message_sent = true;
    messages_.push_back({envelope, std::string(message)});
    return result;
}

}  // namespace missive::testing
