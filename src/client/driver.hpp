#pragma once

// The one driver loop (private to the library): does what the engine says on an AsyncStream, as
// a coroutine, racing each step against its deadline, the operation's cancellation slot and
// Options::stop. AsyncClient runs it on the caller's executor; Client on a private io_context,
// one operation at a time.

#include <missive/client/options.hpp>

#include "client/engine.hpp"
#include "net/async_stream.hpp"

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace missive::client::detail {

class Driver : public std::enable_shared_from_this<Driver> {
public:
    Driver(asio::any_io_executor executor, Options options);

    /** Runs the operation just started on the engine to its end; throws its error. */
    asio::awaitable<void> drive();

    /** Closes the connection at once; never throws. */
    void close() noexcept;

    /** What the driver knows of the connection it holds. */
    [[nodiscard]] Peer peer() const;

    asio::any_io_executor executor;
    Engine engine;
    net::AsyncStream stream;

private:
    void arm(net::Deadline deadline);
    void watch(net::Deadline until);
    void disarm();
    void unwatch() noexcept;

    asio::steady_timer timer_;
    net::Deadline step_deadline_{};  // of the step in progress
    net::Deadline expiry_{};         // what the timer is set for
    bool waiting_ = false;           // a wait of the timer is in progress
    bool in_step_ = false;
    bool timed_out_ = false;
    bool stopped_ = false;
    std::array<char, std::size_t{16} * 1024> buffer_{};
};

}  // namespace missive::client::detail
