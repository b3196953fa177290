#pragma once

// Both clients behind one interface, so that the client tests are written once and run
// against each (typed tests): `Client` itself, and `AsyncClient` driven to completion on a
// private io_context with the blocking signatures of `Client`.

#include <missive/client/async_client.hpp>
#include <missive/client/client.hpp>

#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <gtest/gtest.h>

#include <functional>
#include <future>
#include <istream>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace missive::test {

class AsyncFacade {
    asio::io_context io_;
    client::AsyncClient client_;

    // Starts the operation with asio::use_future and runs the io_context until it is done.
    template <typename Start>
    auto run(Start start) {
        auto future = start(asio::use_future);
        io_.restart();
        io_.run();
        return future.get();
    }

public:
    explicit AsyncFacade(client::Options options = {})
        : client_(io_.get_executor(), std::move(options)) {}

    class Writer {
    public:
        explicit Writer(AsyncFacade& f)
            : f_(&f) {}

        void write(std::string_view bytes) {
            f_->run([&](auto t) { return f_->client_.async_write_body(std::string(bytes), t); });
        }

        smtp::Reply finish() {
            return f_->run([&](auto t) { return f_->client_.async_end_body(t); });
        }

    private:
        AsyncFacade* f_;
    };

    void connect(std::string_view host, std::uint16_t port = 25) {
        run([&](auto t) { return client_.async_connect(std::string(host), port, t); });
    }

    void connect(const net::Url& url) {
        run([&](auto t) { return client_.async_connect(url, t); });
    }

    void adopt(asio::ip::tcp::socket socket, std::string_view name) {
        run([&](auto t) { return client_.async_adopt(std::move(socket), std::string(name), t); });
    }

    void set_deadline(std::optional<std::chrono::steady_clock::time_point> d) {
        client_.set_deadline(d);
    }

    void hello(std::string_view name = {}) {
        run([&](auto t) { return client_.async_hello(std::string(name), t); });
    }

    smtp::Capabilities capabilities() {
        return run([&](auto t) { return client_.async_capabilities(t); });
    }

    std::optional<std::string> extension(std::string_view name) {
        return capabilities().extension(name);
    }

    smtp::SendResult send(const smtp::Envelope& e, std::string_view message) {
        return run([&](auto t) { return client_.async_send(e, std::string(message), t); });
    }

    smtp::SendResult send(const smtp::Envelope& e, std::istream& message) {
        return run([&](auto t) { return client_.async_send(e, message, t); });
    }

    smtp::SendResult send(const mime::Message& message) {
        return run([&](auto t) { return client_.async_send(message, t); });
    }

    smtp::SendResult send(const smtp::Envelope& e, const mime::Message& message) {
        return run([&](auto t) { return client_.async_send(e, message, t); });
    }

    void authenticate() {
        run([&](auto t) { return client_.async_authenticate(t); });
    }

    void authenticate(sasl::Mechanism& m) {
        run([&](auto t) { return client_.async_authenticate(m, t); });
    }

    smtp::Reply mail(std::string_view from, const smtp::MailParams& p = {}) {
        return run([&](auto t) { return client_.async_mail(std::string(from), p, t); });
    }

    smtp::Reply rcpt(std::string_view to, const smtp::RcptParams& p = {}) {
        return run([&](auto t) { return client_.async_rcpt(std::string(to), p, t); });
    }

    Writer data() {
        run([&](auto t) { return client_.async_data(t); });
        return Writer(*this);
    }

    smtp::Reply noop() {
        return run([&](auto t) { return client_.async_noop(t); });
    }

    smtp::Reply reset() {
        return run([&](auto t) { return client_.async_reset(t); });
    }

    smtp::Reply verify(std::string_view a) {
        return run([&](auto t) { return client_.async_verify(std::string(a), t); });
    }

    smtp::Reply expand(std::string_view a) {
        return run([&](auto t) { return client_.async_expand(std::string(a), t); });
    }

    smtp::Reply help(std::string_view a = {}) {
        return run([&](auto t) { return client_.async_help(std::string(a), t); });
    }

    smtp::Reply command(std::string_view line, std::string_view redacted = {}) {
        return run([&](auto t) {
            return client_.async_command(std::string(line), std::string(redacted), t);
        });
    }

    void quit() {
        run([&](auto t) { return client_.async_quit(t); });
    }

    void send_all(std::span<const client::Letter> letters,
                  const std::function<void(client::Outcome)>& on_outcome) {
        run([&](auto t) { return client_.async_send_all(letters, on_outcome, t); });
    }

    void close() noexcept { client_.close(); }

    [[nodiscard]] const net::TlsInfo* tls() const { return client_.tls(); }

    [[nodiscard]] bool is_open() const { return client_.is_open(); }

    [[nodiscard]] const smtp::Session& session() const { return client_.session(); }
};

/** The name of each client in test names: ClientTest/0 is Client, /1 AsyncClient. */
struct ClientNames {
    template <typename T>
    static std::string GetName(int) {
        return std::is_same_v<T, client::Client> ? "Blocking" : "Async";
    }
};

using BothClients = ::testing::Types<client::Client, AsyncFacade>;

}  // namespace missive::test
