#include <missive/client/async_client.hpp>
#include <missive/client/prepare.hpp>

#include "client/engine.hpp"
#include "net/async_stream.hpp"

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <array>
#include <functional>
#include <span>
#include <stop_token>
#include <utility>

namespace missive::client {

namespace {

constexpr std::size_t read_size = std::size_t{16} * 1024;

}  // namespace

// The asynchronous driver: the engine decides, this coroutine does what it says on an
// AsyncStream, racing each step against its deadline.
struct AsyncClient::Impl : std::enable_shared_from_this<Impl> {
    asio::any_io_executor executor;
    detail::Engine engine;
    net::AsyncStream stream;
    asio::steady_timer timer;
    std::uint64_t generation = 0;  // which step a timer belongs to
    bool timed_out = false;
    bool stopped = false;
    bool busy = false;
    std::array<char, read_size> buffer{};

    Impl(asio::any_io_executor ex, Options options)
        : executor(std::move(ex))
        , engine(std::move(options))
        , stream(executor)
        , timer(executor) {}

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

    detail::Peer peer() const {
        return {stream.remote_endpoint(), stream.remote_is_local(), stream.local_address_literal()};
    }

    // The deadline of one step: when it passes first, the step is cancelled.
    void arm(net::Deadline deadline) {
        timed_out = false;
        const std::uint64_t mine = ++generation;
        timer.expires_at(deadline);
        timer.async_wait([weak = weak_from_this(), mine](const std::error_code& ec) {
            if (ec) {
                return;
            }
            const auto self = weak.lock();
            if (self && self->generation == mine) {
                self->timed_out = true;
                self->stream.cancel();
            }
        });
    }

    void disarm() {
        ++generation;
        timer.cancel();
    }

    void close() noexcept {
        stream.close();
        engine.closed();
    }

    // Runs the operation just started on the engine to its end, and throws its error.
    asio::awaitable<void> drive() {
        // Options::stop may fire on any thread: it is handed to the executor.
        stopped = false;
        std::optional<std::stop_callback<std::function<void()>>> on_stop;
        on_stop.emplace(engine.options().stop,
                        std::function<void()>([weak = weak_from_this(), ex = executor] {
                            asio::post(ex, [weak] {
                                if (const auto self = weak.lock()) {
                                    self->stopped = true;
                                    self->stream.cancel();
                                }
                            });
                        }));
        for (;;) {
            const detail::Need need = engine.next();
            if (need.io == detail::Io::done) {
                engine.finish();
                co_return;
            }
            if (need.io == detail::Io::close) {
                close();
                continue;
            }
            std::optional<Error> failure;
            std::size_t got = 0;
            arm(need.deadline);
            try {
                if (stopped || engine.options().stop.stop_requested()) {
                    stopped = true;
                    throw Error(errc::cancelled, "cancelled (Options::stop)");
                }
                switch (need.io) {
                    case detail::Io::connect:
                        if (need.path.empty()) {
                            co_await stream.connect(std::string(need.host), need.port);
                        } else {
                            co_await stream.connect_local(std::string(need.path));
                        }
                        break;
                    case detail::Io::write:
                        co_await stream.write_all(need.bytes);
                        break;
                    case detail::Io::read: {
                        const std::size_t room = need.read_max == 0
                                                     ? buffer.size()
                                                     : std::min(buffer.size(), need.read_max);
                        got = co_await stream.read_some(std::span<char>(buffer.data(), room));
                        break;
                    }
                    case detail::Io::handshake:
                        co_await stream.start_tls(need.tls, std::string(need.tls_name));
                        break;
                    case detail::Io::close:
                    case detail::Io::done:
                        break;
                }
            } catch (const Error& e) {
                failure = e;
            } catch (const std::system_error& e) {
                // The operation's cancellation slot fired between two steps: Asio throws at
                // the next co_await, before any I/O starts.
                stream.close();
                failure = Error(errc::cancelled, std::string("cancelled: ") + e.what());
            }
            disarm();
            if (failure) {
                if (timed_out) {
                    stream.close();
                    engine.failed(Error(errc::timeout, "timed out"));
                } else if (stopped) {
                    stream.close();
                    engine.failed(Error(errc::cancelled, std::string("cancelled (Options::stop)")));
                } else {
                    engine.failed(*failure);
                }
                continue;
            }
            switch (need.io) {
                case detail::Io::connect:
                    engine.connected(peer());
                    break;
                case detail::Io::write:
                    engine.wrote(need.bytes.size());
                    break;
                case detail::Io::read:
                    engine.received(std::string_view(buffer.data(), got));
                    break;
                case detail::Io::handshake:
                    engine.handshake_done();
                    break;
                case detail::Io::close:
                case detail::Io::done:
                    break;
            }
        }
    }
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
    return impl_->executor;
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

const smtp::Session& AsyncClient::session() const {
    return impl_->engine.session();
}

}  // namespace missive::client
