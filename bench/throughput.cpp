// End-to-end throughput: sends N messages of SIZE octets over one connection with the blocking
// client (or, with "async", the AsyncClient on one io_context thread) and prints messages per
// second. Not a test: it prints figures and never fails on time.
// Usage: throughput HOST PORT N SIZE [nopipe|async]
#include <missive/client/async_client.hpp>
#include <missive/missive.hpp>

#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
    if (argc < 5) {
        std::cerr << "usage: throughput HOST PORT N SIZE [nopipe|async]\n";
        return 64;
    }
    const int n = std::stoi(argv[3]);
    const auto size = static_cast<std::size_t>(std::stoul(argv[4]));
    std::string message = "Subject: throughput\r\n\r\n";
    while (message.size() < size) {
        message += "The quick brown fox jumps over the lazy dog.\r\n";
    }
    missive::client::Options options;
    options.local_name = "bench.missive.test";
    options.pipelining = !(argc > 5 && std::string(argv[5]) == "nopipe");
    const missive::smtp::Envelope env{
        .from = "alice@example.org", .to = {"bob@example.org"}, .params = {}};
    const auto port = static_cast<std::uint16_t>(std::stoi(argv[2]));
    std::chrono::duration<double> took{};
    if (argc > 5 && std::string(argv[5]) == "async") {
        asio::io_context io;
        missive::client::AsyncClient c(io.get_executor(), options);
        auto run = [&]() -> asio::awaitable<void> {
            co_await c.async_connect(argv[1], port, asio::use_awaitable);
            const auto start = std::chrono::steady_clock::now();
            for (int i = 0; i < n; ++i) {
                (void)co_await c.async_send(env, message, asio::use_awaitable);
            }
            took = std::chrono::steady_clock::now() - start;
            co_await c.async_quit(asio::use_awaitable);
        };
        asio::co_spawn(io, run(), [](const std::exception_ptr& e) {
            if (e) {
                std::rethrow_exception(e);
            }
        });
        io.run();
    } else {
        missive::client::Client c(options);
        c.connect(argv[1], port);
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < n; ++i) {
            (void)c.send(env, message);
        }
        took = std::chrono::steady_clock::now() - start;
        c.quit();
    }
    std::cout << static_cast<double>(n) / took.count() << '\n';
}
