#pragma once

#include <missive/transport/transport.hpp>

#include <filesystem>

namespace missive::transport {

/**
 * A Transport that writes each message to a directory instead of sending it (lettre's
 * `FileTransport`, Nodemailer's `jsonTransport`): `ID.eml` holds the message as it would have
 * been sent, and `ID.json` its envelope, `{"from":"…","to":["…",…]}`. ID is the UTC time and a
 * random part (`20261128T235959Z-1a2b3c4d`), and is the result's `queue_id`. Each file appears
 * whole (written under another name, then renamed). Every recipient is accepted.
 *
 * Thread-safe.
 */
class FileTransport final : public Transport {
public:
    /** @param directory made when missing */
    explicit FileTransport(std::filesystem::path directory);

private:
    smtp::SendResult send_text(const smtp::Envelope& envelope, std::string_view message) override;

    std::filesystem::path directory_;
};

}  // namespace missive::transport
