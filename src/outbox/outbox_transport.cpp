#include <missive/client/prepare.hpp>
#include <missive/outbox/outbox_transport.hpp>

#include <string>

namespace missive::outbox {

namespace {

// What a send through the outbox reports: the outbox took it for every recipient.
smtp::SendResult queued(const smtp::Envelope& envelope, const Enqueued& job) {
    const std::string id = std::to_string(job.id);
    smtp::SendResult result;
    result.mail_reply = smtp::Reply{250, smtp::EnhancedCode{2, 1, 0}, {"OK"}};
    for (const smtp::Recipient& r : envelope.to) {
        result.recipients.push_back({r.address, true, {250, smtp::EnhancedCode{2, 1, 5}, {"OK"}}});
    }
    result.data_reply =
        smtp::Reply{250, smtp::EnhancedCode{2, 0, 0}, {"queued as " + id + " in the outbox"}};
    result.queue_id = id;
    result.message_sent = true;
    return result;
}

}  // namespace

OutboxTransport::OutboxTransport(Store& store)
    : outbox_(store) {}

smtp::SendResult OutboxTransport::send_text(const smtp::Envelope& envelope,
                                            std::string_view message) {
    return queued(envelope, outbox_.enqueue(envelope, message));
}

smtp::SendResult OutboxTransport::send_message(const mime::Message& message) {
    const smtp::Envelope envelope = client::envelope_of(message);
    return queued(envelope, outbox_.enqueue(message, envelope));
}

}  // namespace missive::outbox
