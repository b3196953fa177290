#include <missive/client/prepare.hpp>
#include <missive/error.hpp>
#include <missive/mime/serializer.hpp>
#include <missive/transport/transport.hpp>

namespace missive::transport {

namespace {

// What SMTP itself refuses before a byte is sent, refused by every transport alike: a test
// against MemoryTransport then fails where the real send would.
void check(const smtp::Envelope& envelope) {
    if (envelope.to.empty()) {
        throw Error(errc::invalid_input, "the envelope has no recipient");
    }
    const auto check_address = [](const std::string& address) {
        if (address.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
            throw Error(errc::invalid_input,
                        "an envelope address contains CR, LF or NUL (a command injection)");
        }
    };
    check_address(envelope.from);
    for (const smtp::Recipient& r : envelope.to) {
        check_address(r.address);
    }
}

}  // namespace

smtp::SendResult Transport::send(const smtp::Envelope& envelope, std::string_view message) {
    check(envelope);
    return send_text(envelope, message);
}

smtp::SendResult Transport::send(const mime::Message& message) {
    check(client::envelope_of(message));
    return send_message(message);
}

smtp::SendResult Transport::send_message(const mime::Message& message) {
    return send_text(client::envelope_of(message),
                     mime::to_string(message, client::serialize_options_for(message, false)));
}

}  // namespace missive::transport
