#include <missive/error.hpp>
#include <missive/net/blocking_stream.hpp>

#include <asio.hpp>

#include <optional>
#include <stop_token>
#include <utility>

namespace missive::net {

namespace {

std::string describe(const asio::ip::tcp::endpoint& ep) {
    const auto addr = ep.address();
    return addr.is_v6() ? "[" + addr.to_string() + "]:" + std::to_string(ep.port())
                        : addr.to_string() + ":" + std::to_string(ep.port());
}

std::string seconds_of(Deadline start, Deadline deadline) {
    const auto ms = std::chrono::round<std::chrono::milliseconds>(deadline - start).count();
    if (ms % 1000 == 0) {
        return std::to_string(ms / 1000) + " s";
    }
    return std::to_string(ms) + " ms";
}

ErrorDetails cause_of(std::error_code ec) {
    ErrorDetails d;
    d.cause = ec;
    return d;
}

}  // namespace

struct BlockingStream::Impl {
    asio::io_context io;
    asio::ip::tcp::socket socket{io};
    asio::steady_timer timer{io};
    std::string peer;

    enum class Outcome { done, timed_out, cancelled };

    // Runs the asynchronous operation started by `start` until it completes, the deadline
    // passes or `stop` fires. In the latter two cases `abort` (by default: close the socket)
    // completes the operation with operation_aborted, so no handler outlives this call.
    template <typename Start>
    Outcome run(Start&& start, Deadline deadline, const std::stop_token& stop,
                const std::function<void()>& abort = {}) {
        const std::function<void()> stop_op = abort ? abort : [this] {
            std::error_code ignored;
            socket.close(ignored);
        };
        if (stop.stop_requested()) {
            return Outcome::cancelled;
        }
        bool finished = false;
        Outcome outcome = Outcome::done;
        io.restart();
        timer.expires_at(deadline);
        timer.async_wait([&](const std::error_code& ec) {
            if (!ec && !finished) {
                outcome = Outcome::timed_out;
                stop_op();
            }
        });
        // A stop request from another thread is handed to the io_context's thread.
        std::optional<std::stop_callback<std::function<void()>>> on_stop;
        on_stop.emplace(stop, std::function<void()>([this, &outcome, &finished, &stop_op] {
                            asio::post(io, [&outcome, &finished, &stop_op] {
                                if (!finished) {
                                    outcome = Outcome::cancelled;
                                    stop_op();
                                }
                            });
                        }));
        start([&] {
            finished = true;
            timer.cancel();
        });
        io.run();
        on_stop.reset();  // waits for a callback running on another thread
        io.restart();
        io.poll();  // run what the stop callback posted, now harmless
        return outcome;
    }

    // Turns a deadline or a stop request into its error; `waiting` and `doing` name the step.
    void raise_if(Outcome outcome, Deadline start, Deadline deadline, const char* waiting,
                  const char* doing) {
        if (outcome == Outcome::timed_out) {
            fail_timeout(start, deadline, waiting);
        }
        if (outcome == Outcome::cancelled) {
            fail_cancelled(doing);
        }
    }

    [[noreturn]] void fail_timeout(Deadline start, Deadline deadline, const char* doing) {
        close();
        throw Error(errc::timeout,
                    "timed out after " + seconds_of(start, deadline) + " " + doing + " " + peer);
    }

    [[noreturn]] void fail_cancelled(const char* doing) {
        close();
        throw Error(errc::cancelled, std::string("cancelled ") + doing + " " + peer);
    }

    void close() noexcept {
        std::error_code ignored;
        socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
    }
};

BlockingStream::BlockingStream()
    : impl_(std::make_unique<Impl>()) {}

BlockingStream::BlockingStream(BlockingStream&& other) noexcept = default;
BlockingStream& BlockingStream::operator=(BlockingStream&& other) noexcept = default;
BlockingStream::~BlockingStream() = default;

void BlockingStream::connect(std::string_view host, std::uint16_t port, Deadline deadline,
                             const std::stop_token& stop) {
    Impl& m = *impl_;
    m.close();
    const Deadline start = Clock::now();
    const std::string target =
        (std::string(host).find(':') != std::string::npos ? "[" + std::string(host) + "]"
                                                          : std::string(host)) +
        ":" + std::to_string(port);
    m.peer = target;

    asio::ip::tcp::resolver resolver(m.io);
    asio::ip::tcp::resolver::results_type endpoints;
    std::error_code ec;
    auto outcome = m.run(
        [&](auto done) {
            resolver.async_resolve(std::string(host), std::to_string(port),
                                   asio::ip::tcp::resolver::numeric_service,
                                   [&, done](const std::error_code& e, auto results) {
                                       done();
                                       ec = e;
                                       endpoints = std::move(results);
                                   });
        },
        deadline, stop, [&resolver] { resolver.cancel(); });
    // Asio resolves with getaddrinfo in a thread of its own: a cancelled lookup completes only
    // when getaddrinfo returns, so this deadline is as good as the system resolver's.
    m.raise_if(outcome, start, deadline, "resolving", "resolving");
    if (ec) {
        throw Error(errc::connect_failed,
                    "connect to " + target + " failed: cannot resolve host: " + ec.message(),
                    cause_of(ec));
    }

    // Try each address in turn (RFC 6724 order from getaddrinfo), as Go's dialer and
    // asio::async_connect do.
    asio::ip::tcp::endpoint reached;
    outcome = m.run(
        [&](auto done) {
            asio::async_connect(m.socket, endpoints,
                                [&, done](const std::error_code& e, const auto& ep) {
                                    done();
                                    ec = e;
                                    reached = ep;
                                });
        },
        deadline, stop);
    m.raise_if(outcome, start, deadline, "connecting to", "connecting to");
    if (ec) {
        m.close();
        throw Error(errc::connect_failed, "connect to " + target + " failed: " + ec.message(),
                    cause_of(ec));
    }
    // missive writes each pipelined group in one call; Nagle would only delay it.
    m.socket.set_option(asio::ip::tcp::no_delay(true), ec);
    m.peer = describe(reached);
}

std::size_t BlockingStream::read_some(std::span<char> buffer, Deadline deadline,
                                      const std::stop_token& stop) {
    Impl& m = *impl_;
    if (!m.socket.is_open()) {
        throw Error(errc::connection_lost, "read from a closed connection");
    }
    const Deadline start = Clock::now();
    std::error_code ec;
    std::size_t n = 0;
    const auto outcome = m.run(
        [&](auto done) {
            m.socket.async_read_some(asio::buffer(buffer.data(), buffer.size()),
                                     [&, done](const std::error_code& e, std::size_t got) {
                                         done();
                                         ec = e;
                                         n = got;
                                     });
        },
        deadline, stop);
    m.raise_if(outcome, start, deadline, "waiting to read from", "reading from");
    if (ec == asio::error::eof) {
        return 0;
    }
    if (ec) {
        m.close();
        throw Error(errc::connection_lost, "reading from " + m.peer + " failed: " + ec.message(),
                    cause_of(ec));
    }
    return n;
}

void BlockingStream::write_all(std::string_view bytes, Deadline deadline,
                               const std::stop_token& stop) {
    Impl& m = *impl_;
    if (!m.socket.is_open()) {
        throw Error(errc::connection_lost, "write to a closed connection");
    }
    const Deadline start = Clock::now();
    std::error_code ec;
    const auto outcome = m.run(
        [&](auto done) {
            asio::async_write(m.socket, asio::buffer(bytes.data(), bytes.size()),
                              [&, done](const std::error_code& e, std::size_t) {
                                  done();
                                  ec = e;
                              });
        },
        deadline, stop);
    m.raise_if(outcome, start, deadline, "waiting to write to", "writing to");
    if (ec) {
        m.close();
        throw Error(errc::connection_lost, "writing to " + m.peer + " failed: " + ec.message(),
                    cause_of(ec));
    }
}

void BlockingStream::close() noexcept {
    if (impl_) {
        impl_->close();
    }
}

bool BlockingStream::is_open() const {
    return impl_ && impl_->socket.is_open();
}

std::string BlockingStream::remote_endpoint() const {
    return is_open() ? impl_->peer : std::string();
}

}  // namespace missive::net
