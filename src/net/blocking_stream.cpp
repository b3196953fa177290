#include <missive/error.hpp>
#include <missive/net/blocking_stream.hpp>

#include "net/async_stream.hpp"

#include <asio.hpp>

#include <algorithm>
#include <exception>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>

namespace missive::net {

namespace {

// How long the caller allowed, as a log reader wants it: "30 s", "150 ms"; "0 ms" for a
// deadline that had passed before the call.
std::string seconds_of(Deadline start, Deadline deadline) {
    const auto ms = std::max<std::chrono::milliseconds::rep>(
        std::chrono::round<std::chrono::milliseconds>(deadline - start).count(), 0);
    if (ms >= 1000 && ms % 1000 == 0) {
        return std::to_string(ms / 1000) + " s";
    }
    return std::to_string(ms) + " ms";
}

// How a wait ended.
enum class Outcome { done, timed_out, cancelled };

}  // namespace

// The blocking stream is the asynchronous one run on a private io_context, one operation at a
// time, until it completes, the deadline passes or the stop token fires; in the last two cases
// the stream is cancelled (its socket closed), so no operation outlives the call.
struct BlockingStream::Impl {
    asio::io_context io;
    AsyncStream stream{io.get_executor()};
    asio::steady_timer timer{io};

    // Runs `op`; `waiting` and `doing` name the step, `peer` the other end, in a timeout's or
    // a cancellation's message.
    template <typename T>
    T run(asio::awaitable<T> op, Deadline deadline, const std::stop_token& stop,
          const char* waiting, const char* doing, const std::string& peer) {
        const Deadline start = Clock::now();
        if (stop.stop_requested()) {
            fail_cancelled(doing, peer);
        }
        bool finished = false;
        Outcome outcome = Outcome::done;
        std::exception_ptr error;
        std::optional<T> value;
        io.restart();
        timer.expires_at(deadline);
        timer.async_wait([&](const std::error_code& ec) {
            if (!ec && !finished) {
                outcome = Outcome::timed_out;
                stream.cancel();
            }
        });
        // A stop request from another thread is handed to the io_context's thread.
        std::optional<std::stop_callback<std::function<void()>>> on_stop;
        on_stop.emplace(stop, std::function<void()>([this, &outcome, &finished] {
                            asio::post(io, [this, &outcome, &finished] {
                                if (!finished) {
                                    outcome = Outcome::cancelled;
                                    stream.cancel();
                                }
                            });
                        }));
        asio::co_spawn(io, std::move(op), [&](std::exception_ptr e, T v) {
            finished = true;
            timer.cancel();
            error = std::move(e);
            value.emplace(std::move(v));
        });
        io.run();
        on_stop.reset();  // waits for a callback running on another thread
        io.restart();
        io.poll();  // run what the stop callback posted, now harmless
        if (outcome == Outcome::timed_out) {
            stream.close();
            throw Error(errc::timeout, "timed out after " + seconds_of(start, deadline) + " " +
                                           waiting + " " + peer);
        }
        if (outcome == Outcome::cancelled) {
            fail_cancelled(doing, peer);
        }
        if (error) {
            std::rethrow_exception(error);
        }
        return std::move(*value);
    }

    void run(asio::awaitable<void> op, Deadline deadline, const std::stop_token& stop,
             const char* waiting, const char* doing, const std::string& peer) {
        auto wrapped = [](asio::awaitable<void> inner) -> asio::awaitable<bool> {
            co_await std::move(inner);
            co_return true;
        };
        (void)run(wrapped(std::move(op)), deadline, stop, waiting, doing, peer);
    }

    [[noreturn]] void fail_cancelled(const char* doing, const std::string& peer) {
        stream.close();
        throw Error(errc::cancelled, std::string("cancelled ") + doing + " " + peer);
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
    m.stream.close();
    const std::string target =
        (host.find(':') != std::string_view::npos ? "[" + std::string(host) + "]"
                                                  : std::string(host)) +
        ":" + std::to_string(port);
    m.run(m.stream.connect(std::string(host), port), deadline, stop, "connecting to",
          "connecting to", target);
}

void BlockingStream::connect_local(std::string_view path, Deadline deadline,
                                   const std::stop_token& stop) {
    Impl& m = *impl_;
    m.stream.close();
    m.run(m.stream.connect_local(std::string(path)), deadline, stop, "connecting to",
          "connecting to", "unix:" + std::string(path));
}

void BlockingStream::adopt(int fd) {
    impl_->stream.adopt(fd);
}

std::size_t BlockingStream::read_some(std::span<char> buffer, Deadline deadline,
                                      const std::stop_token& stop) {
    Impl& m = *impl_;
    if (buffer.empty()) {
        throw Error(errc::invalid_input, "read_some needs room for at least one byte");
    }
    if (!m.stream.is_open()) {
        throw Error(errc::connection_lost, "read from a closed connection");
    }
    return m.run(m.stream.read_some(buffer), deadline, stop, "waiting to read from", "reading from",
                 m.stream.remote_endpoint());
}

void BlockingStream::write_all(std::string_view bytes, Deadline deadline,
                               const std::stop_token& stop) {
    Impl& m = *impl_;
    if (!m.stream.is_open()) {
        throw Error(errc::connection_lost, "write to a closed connection");
    }
    m.run(m.stream.write_all(bytes), deadline, stop, "waiting to write to", "writing to",
          m.stream.remote_endpoint());
}

void BlockingStream::start_tls(const std::shared_ptr<TlsContext>& context, std::string_view name,
                               Deadline deadline, const std::stop_token& stop) {
    Impl& m = *impl_;
    if (!m.stream.is_open()) {
        throw Error(errc::connection_lost, "TLS on a closed connection");
    }
    m.run(m.stream.start_tls(context, std::string(name)), deadline, stop,
          "in the TLS handshake with", "TLS handshake with", m.stream.remote_endpoint());
}

const TlsInfo* BlockingStream::tls() const {
    return impl_ ? impl_->stream.tls() : nullptr;
}

void BlockingStream::close() noexcept {
    if (impl_) {
        impl_->stream.close();
    }
}

bool BlockingStream::is_open() const {
    return impl_ && impl_->stream.is_open();
}

std::string BlockingStream::remote_endpoint() const {
    return impl_ ? impl_->stream.remote_endpoint() : std::string();
}

bool BlockingStream::remote_is_local() const {
    return impl_ && impl_->stream.remote_is_local();
}

std::string BlockingStream::local_address_literal() const {
    return impl_ ? impl_->stream.local_address_literal() : std::string();
}

}  // namespace missive::net
