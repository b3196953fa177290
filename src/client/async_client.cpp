#include <missive/client/async_client.hpp>
#include <missive/client/prepare.hpp>

#include "client/driver.hpp"

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <array>
#include <functional>
#include <span>
#include <stop_token>
#include <utility>

namespace missive::client {

// The asynchronous client: the shared driver loop on the caller's executor, one operation at a
// time.
struct AsyncClient::Impl {
    std::shared_ptr<detail::Driver> driver;
    detail::Engine& engine;
    net::AsyncStream& stream;
    bool busy = false;

    Impl(asio::any_io_executor ex, Options options)
        : driver(std::make_shared<detail::Driver>(std::move(ex), std::move(options)))
        , engine(driver->engine)
        , stream(driver->stream) {}

    // One operation at a time; the flag drops when the operation's coroutine ends.
    class Busy {
    public:
        explicit Busy(Impl& impl)
            : impl_(impl) {
            if (impl_.busy) {
                throw Error(errc::invalid_input,
                            "another operation of this AsyncClient is in progress: start the "
                            "next one when it has completed");
            }
            impl_.busy = true;
        }

        Busy(const Busy&) = delete;
        Busy& operator=(const Busy&) = delete;
        Busy(Busy&&) = delete;
        Busy& operator=(Busy&&) = delete;

        ~Busy() { impl_.busy = false; }

    private:
        Impl& impl_;
    };

    [[nodiscard]] detail::Peer peer() const { return driver->peer(); }

    void close() noexcept { driver->close(); }

    asio::awaitable<void> drive() { return driver->drive(); }
};

AsyncClient::AsyncClient(asio::any_io_executor executor, Options options)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options))) {}

AsyncClient::AsyncClient(AsyncClient&& other) noexcept = default;
AsyncClient& AsyncClient::operator=(AsyncClient&& other) noexcept = default;

AsyncClient::~AsyncClient() {
    if (impl_) {
        impl_->close();
    }
}

asio::any_io_executor AsyncClient::get_executor() const {
    return impl_->driver->executor;
}

asio::awaitable<void> AsyncClient::do_connect(std::shared_ptr<Impl> self, std::string host,
                                              std::uint16_t port) {
    const Impl::Busy busy(*self);
    self->engine.connect(host, port);
    co_await self->drive();
}

asio::awaitable<void> AsyncClient::do_connect(std::shared_ptr<Impl> self, net::Url url) {
    const Impl::Busy busy(*self);
    self->engine.connect(url);
    co_await self->drive();
}

asio::awaitable<void> AsyncClient::do_adopt(std::shared_ptr<Impl> self,
                                            asio::ip::tcp::socket socket, std::string server_name) {
    const Impl::Busy busy(*self);
    self->close();
    self->stream.adopt(std::move(socket));
    self->engine.adopt(server_name, self->peer());
    co_await self->drive();
}

asio::awaitable<void> AsyncClient::do_adopt(std::shared_ptr<Impl> self,
                                            asio::local::stream_protocol::socket socket,
                                            std::string server_name) {
    const Impl::Busy busy(*self);
    self->close();
    self->stream.adopt(std::move(socket));
    self->engine.adopt(server_name, self->peer());
    co_await self->drive();
}

asio::awaitable<void> AsyncClient::do_hello(std::shared_ptr<Impl> self, std::string local_name) {
    const Impl::Busy busy(*self);
    self->engine.hello(local_name);
    co_await self->drive();
}

asio::awaitable<smtp::Capabilities> AsyncClient::do_capabilities(std::shared_ptr<Impl> self) {
    const Impl::Busy busy(*self);
    self->engine.ensure_hello();
    co_await self->drive();
    co_return self->engine.session().capabilities();
}

asio::awaitable<void> AsyncClient::do_authenticate(std::shared_ptr<Impl> self,
                                                   sasl::Mechanism* mechanism) {
    const Impl::Busy busy(*self);
    self->engine.authenticate(mechanism);
    co_await self->drive();
}

asio::awaitable<smtp::SendResult> AsyncClient::do_send(std::shared_ptr<Impl> self,
                                                       smtp::Envelope envelope,
                                                       std::string message) {
    const Impl::Busy busy(*self);
    self->engine.send(envelope, std::string_view(message));
    co_await self->drive();
    co_return self->engine.session().result();
}

asio::awaitable<smtp::SendResult> AsyncClient::do_send(std::shared_ptr<Impl> self,
                                                       smtp::Envelope envelope,
                                                       std::istream& message) {
    const Impl::Busy busy(*self);
    self->engine.send(envelope, message);
    co_await self->drive();
    co_return self->engine.session().result();
}

asio::awaitable<smtp::SendResult> AsyncClient::do_send(std::shared_ptr<Impl> self,
                                                       const mime::Message& message) {
    const Impl::Busy busy(*self);
    const smtp::Envelope envelope = envelope_of(message);
    self->engine.send(envelope, message);
    co_await self->drive();
    co_return self->engine.session().result();
}

asio::awaitable<smtp::SendResult> AsyncClient::do_send(std::shared_ptr<Impl> self,
                                                       smtp::Envelope envelope,
                                                       const mime::Message& message) {
    const Impl::Busy busy(*self);
    self->engine.send(envelope, message);
    co_await self->drive();
    co_return self->engine.session().result();
}

asio::awaitable<void> AsyncClient::do_send_all(std::shared_ptr<Impl> self,
                                               std::span<const Letter> letters,
                                               std::function<void(Outcome)> on_outcome) {
    const Impl::Busy busy(*self);
    self->engine.send_all(letters, std::move(on_outcome));
    co_await self->drive();
}

asio::awaitable<smtp::Reply> AsyncClient::do_mail(std::shared_ptr<Impl> self, std::string from,
                                                  smtp::MailParams params) {
    const Impl::Busy busy(*self);
    self->engine.mail(from, params);
    co_await self->drive();
    co_return self->engine.session().reply();
}

asio::awaitable<smtp::Reply> AsyncClient::do_rcpt(std::shared_ptr<Impl> self, std::string to,
                                                  smtp::RcptParams params) {
    const Impl::Busy busy(*self);
    self->engine.rcpt(to, params);
    co_await self->drive();
    co_return self->engine.session().reply();
}

asio::awaitable<void> AsyncClient::do_data(std::shared_ptr<Impl> self) {
    const Impl::Busy busy(*self);
    self->engine.data();
    co_await self->drive();
}

asio::awaitable<void> AsyncClient::do_write_body(std::shared_ptr<Impl> self, std::string bytes) {
    const Impl::Busy busy(*self);
    self->engine.write_body(bytes);
    co_await self->drive();
}

asio::awaitable<smtp::Reply> AsyncClient::do_end_body(std::shared_ptr<Impl> self) {
    const Impl::Busy busy(*self);
    self->engine.end_body();
    co_await self->drive();
    co_return self->engine.session().reply();
}

asio::awaitable<smtp::Reply> AsyncClient::do_simple(std::shared_ptr<Impl> self, Simple which,
                                                    std::string argument) {
    const Impl::Busy busy(*self);
    switch (which) {
        case Simple::noop:
            self->engine.noop();
            break;
        case Simple::reset:
            self->engine.reset();
            break;
        case Simple::verify:
            self->engine.verify(argument);
            break;
        case Simple::expand:
            self->engine.expand(argument);
            break;
        case Simple::help:
            self->engine.help(argument);
            break;
    }
    co_await self->drive();
    co_return self->engine.session().reply();
}

asio::awaitable<smtp::Reply> AsyncClient::do_command(std::shared_ptr<Impl> self, std::string line,
                                                     std::string redacted_trace) {
    const Impl::Busy busy(*self);
    self->engine.command(line, redacted_trace);
    co_await self->drive();
    co_return self->engine.session().reply();
}

asio::awaitable<void> AsyncClient::do_quit(std::shared_ptr<Impl> self) {
    const Impl::Busy busy(*self);
    self->engine.quit();
    co_await self->drive();
}

void AsyncClient::set_deadline(std::optional<std::chrono::steady_clock::time_point> deadline) {
    impl_->engine.set_deadline(deadline);
}

void AsyncClient::close() noexcept {
    impl_->close();
}

const net::TlsInfo* AsyncClient::tls() const {
    return impl_->stream.tls();
}

bool AsyncClient::is_open() const {
    return impl_->stream.is_open() && impl_->engine.usable();
}

bool AsyncClient::has_unsolicited_input() const {
    return !impl_->busy && impl_->stream.has_unread_input();
}

const smtp::Session& AsyncClient::session() const {
    return impl_->engine.session();
}

}  // namespace missive::client
