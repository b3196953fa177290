#pragma once

// The durable outbox: enqueue returns once the message is stored; a Deliverer sends it later.

#include <missive/mime/message.hpp>
#include <missive/outbox/store.hpp>
#include <missive/smtp/envelope.hpp>

#include <istream>
#include <string>
#include <string_view>

namespace missive::outbox {

/** Options of one enqueue. */
struct EnqueueOptions {
    /** A caller's retry with the same key returns the first id and stores nothing. */
    std::string idempotency_key{};
    /** First attempt not before this (default: at once). */
    TimePoint not_before{};
};

/**
 * Puts messages into a `Store`. A built message is serialized once, here: its Date and
 * Message-ID are fixed (added when missing) and every attempt sends the same octets; it is
 * written 7-bit (quoted-printable or base64 where needed: any server takes it), Bcc only in the
 * envelope. Ready text is stored as given. Text is streamed into the store in pieces.
 *
 * Thread-safe when its store is.
 */
class Outbox {
public:
    /** @param store must outlive the Outbox */
    explicit Outbox(Store& store);

    /**
     * Stores `message` with the envelope of its headers (client::envelope_of).
     * @return the job's id (the first one's for a known idempotency key)
     * @throws Error errc::invalid_input (no sender or recipient, an unreadable attachment),
     * errc::storage (nothing stored)
     */
    Enqueued enqueue(const mime::Message& message, const EnqueueOptions& options = {});

    /** As above with an explicit envelope. */
    Enqueued enqueue(const mime::Message& message, const smtp::Envelope& envelope,
                     const EnqueueOptions& options = {});

    /** Stores ready text (header and body; line ends are normalised when sent).
     * @throws Error errc::invalid_input (no recipient), errc::storage */
    Enqueued enqueue(const smtp::Envelope& envelope, std::string_view text,
                     const EnqueueOptions& options = {});

    /** Stores ready text read from `text` to its end, in pieces.
     * @throws Error errc::invalid_input (no recipient, a read error), errc::storage */
    Enqueued enqueue(const smtp::Envelope& envelope, std::istream& text,
                     const EnqueueOptions& options = {});

    [[nodiscard]] Store& store() const { return *store_; }

private:
    Store* store_;
};

}  // namespace missive::outbox
