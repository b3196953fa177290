#include <missive/client/prepare.hpp>
#include <missive/mime/serializer.hpp>
#include <missive/outbox/outbox.hpp>

#include <sstream>
#include <streambuf>

namespace missive::outbox {

namespace {

// A built message as a stream, written by the serializer chunk by chunk (bounded memory).
class SerializerBuf final : public std::streambuf {
public:
    explicit SerializerBuf(mime::Serializer& writer)
        : writer_(&writer) {}

protected:
    int_type underflow() override {
        if (gptr() < egptr()) {
            return traits_type::to_int_type(*gptr());
        }
        chunk_ = std::string(writer_->next());
        if (chunk_.empty()) {
            return traits_type::eof();
        }
        char* begin = chunk_.data();
        setg(begin, begin, begin + chunk_.size());  // NOLINT: pointer arithmetic of streambuf
        return traits_type::to_int_type(*gptr());
    }

private:
    mime::Serializer* writer_;
    std::string chunk_;
};

NewJob new_job(const smtp::Envelope& envelope, const EnqueueOptions& options) {
    return NewJob{envelope, options.idempotency_key, options.not_before};
}

}  // namespace

Outbox::Outbox(Store& store)
    : store_(&store) {}

Enqueued Outbox::enqueue(const mime::Message& message, const EnqueueOptions& options) {
    return enqueue(message, client::envelope_of(message), options);
}

Enqueued Outbox::enqueue(const mime::Message& message, const smtp::Envelope& envelope,
                         const EnqueueOptions& options) {
    // 7-bit (no server capability is known yet, and 7-bit goes everywhere); Date and Message-ID
    // fixed now, so that every attempt sends these octets.
    mime::Serializer writer(message, client::serialize_options_for(message, false));
    SerializerBuf buf(writer);
    std::istream text(&buf);
    text.exceptions(std::ios::badbit);  // the serializer's own Error, not "reading failed"
    smtp::Envelope e = envelope;
    e.params.smtputf8 = e.params.smtputf8 || message.needs_smtputf8();
    return store_->enqueue(new_job(e, options), text, Clock::now());
}

Enqueued Outbox::enqueue(const smtp::Envelope& envelope, std::string_view text,
                         const EnqueueOptions& options) {
    std::istringstream in{std::string(text)};
    return store_->enqueue(new_job(envelope, options), in, Clock::now());
}

Enqueued Outbox::enqueue(const smtp::Envelope& envelope, std::istream& text,
                         const EnqueueOptions& options) {
    return store_->enqueue(new_job(envelope, options), text, Clock::now());
}

}  // namespace missive::outbox
