#pragma once

#include <missive/client/options.hpp>
#include <missive/net/url.hpp>
#include <missive/transport/transport.hpp>

#include <string_view>

namespace missive::transport {

/**
 * A Transport that sends over SMTP with `client::Client`: one connection per message (connect,
 * send, QUIT). A built message goes as `Client::send(message)` does it (8bit when the server
 * offers 8BITMIME, SMTPUTF8 when needed, DKIM with `Options::dkim`).
 *
 * Thread-safe: each send has its own connection.
 */
class SmtpTransport final : public Transport {
public:
    /**
     * @param server a URL (`smtp://`, `smtps://`, `submission://` … see net::Url) or
     * `host[:port]` (net::Url::with_scheme: port 465 is implicit TLS)
     * @param options the client's settings (TLS, credentials, time limits …)
     * @throws Error errc::config when `server` does not parse
     */
    explicit SmtpTransport(std::string_view server, client::Options options = {});

private:
    smtp::SendResult send_text(const smtp::Envelope& envelope, std::string_view message) override;
    smtp::SendResult send_message(const mime::Message& message) override;

    net::Url server_;
    client::Options options_;
};

}  // namespace missive::transport
