#pragma once

// A message on its way out (private to the client): prepared once (DKIM fields computed, SIZE
// measured, BODY and SMTPUTF8 chosen), then pulled piece by piece by the engine as the
// session asks for data, so that memory does not grow with the message.

#include <missive/client/options.hpp>
#include <missive/mime/message.hpp>
#include <missive/smtp/capabilities.hpp>
#include <missive/smtp/envelope.hpp>

#include <istream>
#include <memory>
#include <string_view>

namespace missive::client::detail {

class Outgoing {
public:
    Outgoing() = default;
    Outgoing(const Outgoing&) = delete;
    Outgoing& operator=(const Outgoing&) = delete;
    Outgoing(Outgoing&&) = delete;
    Outgoing& operator=(Outgoing&&) = delete;
    virtual ~Outgoing() = default;

    /** @return the next piece of the message (DKIM fields first); empty at its end.
     * @throws std::exception when the source fails half way (a file that cannot be read) */
    virtual std::string_view next() = 0;
};

/**
 * Each prepares a message as `options` say (DKIM signers) and completes `envelope` (SIZE=,
 * BODY=8BITMIME, SMTPUTF8) unless the caller set those. The message must outlive the result.
 * @throws Error errc::invalid_input (a message that cannot be written, a non-ASCII address the
 * server cannot take, a stream that fails while it is hashed)
 */
std::unique_ptr<Outgoing> outgoing_text(std::string_view message, const Options& options,
                                        const smtp::Capabilities& server, smtp::Envelope& envelope);
std::unique_ptr<Outgoing> outgoing_stream(std::istream& message, const Options& options,
                                          const smtp::Capabilities& server,
                                          smtp::Envelope& envelope);
std::unique_ptr<Outgoing> outgoing_message(const mime::Message& message, const Options& options,
                                           const smtp::Capabilities& server,
                                           smtp::Envelope& envelope);

}  // namespace missive::client::detail
