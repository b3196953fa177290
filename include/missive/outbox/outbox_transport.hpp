#pragma once

// The outbox behind the Transport interface: code written against transport::Transport queues
// instead of sending, unchanged.

#include <missive/outbox/outbox.hpp>
#include <missive/transport/transport.hpp>

namespace missive::outbox {

/**
 * A `transport::Transport` that queues each message in an outbox (a `Deliverer` or `missive
 * deliver` sends it later). A send returns once the message is durably stored; every recipient
 * is "accepted" by the outbox with `250 2.0.0 queued as ID in the outbox`, and the result's
 * `queue_id` is the job's id. Built messages are serialized once, at enqueue (Outbox::enqueue).
 * Failures are the Outbox's: errc::storage (nothing stored), errc::invalid_input.
 *
 * Thread-safe when its store is.
 */
class OutboxTransport final : public transport::Transport {
public:
    /** @param store must outlive the transport */
    explicit OutboxTransport(Store& store);

private:
    smtp::SendResult send_text(const smtp::Envelope& envelope, std::string_view message) override;
    smtp::SendResult send_message(const mime::Message& message) override;

    Outbox outbox_;
};

}  // namespace missive::outbox
