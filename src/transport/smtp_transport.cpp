#include <missive/client/client.hpp>
#include <missive/transport/smtp_transport.hpp>

#include <string>

namespace missive::transport {

namespace {

// One connection per message: connect, send, QUIT.
template <typename Send>
smtp::SendResult with_client(const net::Url& server, const client::Options& options, Send&& send) {
    client::Client c(options);
    c.connect(server);
    smtp::SendResult result = send(c);
    try {
        c.quit();
    } catch (const Error&) {
        // The message was accepted; a QUIT that goes wrong changes nothing about it.
    }
    return result;
}

}  // namespace

SmtpTransport::SmtpTransport(std::string_view server, client::Options options)
    : server_(net::Url::parse(net::Url::with_scheme(server)))
    , options_(std::move(options)) {}

smtp::SendResult SmtpTransport::send_text(const smtp::Envelope& envelope,
                                          std::string_view message) {
    return with_client(server_, options_,
                       [&](client::Client& c) { return c.send(envelope, message); });
}

smtp::SendResult SmtpTransport::send_message(const mime::Message& message) {
    return with_client(server_, options_, [&](client::Client& c) { return c.send(message); });
}

}  // namespace missive::transport
