#include <missive/client/client.hpp>
#include <missive/error.hpp>
#include <missive/send.hpp>

#include <string>

namespace missive {

namespace {

// One reading of a server for every caller: the URL parser, after `host[:port]` got its
// scheme (465 is implicit TLS, RFC 8314), as the missive command reads --server.
net::Url server_url(std::string_view server) {
    const bool bare = server.find("://") == std::string_view::npos;
    try {
        return net::Url::parse(net::Url::with_scheme(server));
    } catch (const Error& e) {
        if (!bare) {
            throw;
        }
        throw Error(errc::invalid_input,
                    "server \"" + std::string(server) + "\" is not host[:port]: " + e.what());
    }
}

// Connects to `server`, sends with `send_with`, says QUIT.
template <typename Send>
smtp::SendResult send_to(std::string_view server, const client::Options& options,
                         Send&& send_with) {
    client::Client c(options);
    c.connect(server_url(server));
    smtp::SendResult result = send_with(c);
    try {
        c.quit();
    } catch (const Error&) {
        // The message is accepted; a QUIT that goes wrong changes nothing about it.
    }
    return result;
}

}  // namespace

smtp::SendResult send(std::string_view server, const smtp::Envelope& envelope,
                      std::string_view message, const client::Options& options) {
    return send_to(server, options, [&](client::Client& c) { return c.send(envelope, message); });
}

smtp::SendResult send(std::string_view server, const mime::Message& message,
                      const client::Options& options) {
    return send_to(server, options, [&](client::Client& c) { return c.send(message); });
}

}  // namespace missive
