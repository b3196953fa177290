// The asynchronous client: three messages over one connection from a coroutine, on Asio.
// Usage: send_async URL FROM TO      e.g. send_async smtp://127.0.0.1:2525 ada@example.org bob@…
#include <missive/client/async_client.hpp>
#include <missive/missive.hpp>

#include <asio.hpp>

#include <iostream>
#include <string>

namespace {

asio::awaitable<void> deliver(missive::client::AsyncClient& client, std::string url,
                              std::string from, std::string to) {
    co_await client.async_connect(missive::net::Url::parse(url), asio::use_awaitable);
    const missive::smtp::Envelope envelope{.from = from, .to = {to}, .params = {}};
    const std::string message = "From: <" + from + ">\r\nTo: <" + to +
                                ">\r\nSubject: Hello from the AsyncClient\r\n\r\nIt works.\r\n";
    for (int i = 0; i < 3; ++i) {
        const auto result = co_await client.async_send(envelope, message, asio::use_awaitable);
        std::cout << "message " << i + 1 << " queued as '" << result.queue_id << "'\n";
    }
    co_await client.async_quit(asio::use_awaitable);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: send_async URL FROM TO\n";
        return 64;
    }
    asio::io_context io;
    missive::client::AsyncClient client(io.get_executor());
    int status = 0;
    asio::co_spawn(io, deliver(client, argv[1], argv[2], argv[3]), [&](std::exception_ptr e) {
        if (!e) {
            return;
        }
        try {
            std::rethrow_exception(e);
        } catch (const missive::Error& error) {
            std::cerr << "send failed: " << error.what() << '\n';
            status = error.transient() ? 75 : 69;
        }
    });
    io.run();
    return status;
}
