#include "client/driver.hpp"

#include <missive/error.hpp>

#include <asio/post.hpp>

#include <functional>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <system_error>
#include <utility>

namespace missive::client::detail {

Driver::Driver(asio::any_io_executor ex, Options options)
    : executor(std::move(ex))
    , engine(std::move(options))
    , stream(executor)
    , timer_(executor) {}

Peer Driver::peer() const {
    return {stream.remote_endpoint(), stream.remote_is_local(), stream.local_address_literal()};
}

// The deadline of one step: when it passes first, the step is cancelled. One timer watches
// every step of an operation, and is set again only when a step's deadline comes before the
// time it is set for: each step's deadline is later than the last one's (they are counted from
// the step's start), so a stream of steps costs no timer system call. When the timer fires
// early, it waits again until the deadline of the step then in progress.
void Driver::arm(net::Deadline deadline) {
    timed_out_ = false;
    in_step_ = true;
    step_deadline_ = deadline;
    if (!waiting_ || deadline < expiry_) {
        watch(deadline);
    }
}

void Driver::watch(net::Deadline until) {
    expiry_ = until;
    waiting_ = true;
    timer_.expires_at(until);  // a wait in progress ends with operation_aborted
    timer_.async_wait([weak = weak_from_this()](const std::error_code& ec) {
        const auto self = weak.lock();
        if (ec || !self) {
            return;  // replaced by a newer wait, or stopped
        }
        self->waiting_ = false;
        if (!self->in_step_) {
            return;
        }
        if (net::Clock::now() >= self->step_deadline_) {
            self->timed_out_ = true;
            self->stream.cancel();
        } else {
            self->watch(self->step_deadline_);
        }
    });
}

void Driver::disarm() {
    in_step_ = false;
}

// The operation is over: no timer outlives it (an io_context with nothing else to do returns).
void Driver::unwatch() noexcept {
    in_step_ = false;
    if (waiting_) {
        waiting_ = false;
        try {
            timer_.cancel();
        } catch (const std::system_error&) {  // NOLINT(bugprone-empty-catch)
            // The timer cannot be cancelled: its wait ends on its own and finds no step.
        }
    }
}

void Driver::close() noexcept {
    stream.close();
    engine.closed();
}

asio::awaitable<void> Driver::drive() {
    // Options::stop may fire on any thread: it is handed to the executor.
    stopped_ = false;
    std::optional<std::stop_callback<std::function<void()>>> on_stop;
    on_stop.emplace(engine.options().stop,
                    std::function<void()>([weak = weak_from_this(), ex = executor] {
                        asio::post(ex, [weak] {
                            if (const auto self = weak.lock()) {
                                self->stopped_ = true;
                                self->stream.cancel();
                            }
                        });
                    }));

    // However the operation ends, no timer outlives it.
    struct Unwatch {
        Driver& d;

        explicit Unwatch(Driver& driver)
            : d(driver) {}

        Unwatch(const Unwatch&) = delete;
        Unwatch& operator=(const Unwatch&) = delete;
        Unwatch(Unwatch&&) = delete;
        Unwatch& operator=(Unwatch&&) = delete;

        ~Unwatch() { d.unwatch(); }
    } const unwatch(*this);

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
            if (stopped_ || engine.options().stop.stop_requested()) {
                stopped_ = true;
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
                                                 ? buffer_.size()
                                                 : std::min(buffer_.size(), need.read_max);
                    got = co_await stream.read_some(std::span<char>(buffer_.data(), room));
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
            if (timed_out_) {
                stream.close();
                engine.failed(Error(errc::timeout, "timed out"));
            } else if (stopped_) {
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
                engine.received(std::string_view(buffer_.data(), got));
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

}  // namespace missive::client::detail
