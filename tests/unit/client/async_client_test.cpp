// What only the AsyncClient has: completion tokens, many clients on one thread, cancellation
// through slots at every step; and what both clients share that needs sockets of the test's
// own (bring your own connection, LMTP over a Unix-domain socket).

#include <missive/client/async_client.hpp>
#include <missive/client/client.hpp>
#include <missive/testing/server.hpp>

#include "support/client_options.hpp"
#include "support/clients.hpp"
#include "support/throws.hpp"

#include <asio.hpp>
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

using missive::errc;
using missive::Error;
using missive::client::AsyncClient;
using missive::client::Client;
using missive::client::Event;
using missive::client::EventKind;
using missive::client::Options;
using missive::smtp::Envelope;
using missive::test::kind_of;
using missive::testing::Server;
using namespace std::chrono_literals;

namespace {

Options options() {
    return missive::test::client_options();
}

Envelope envelope(std::vector<std::string> to = {"bob@example.org"}) {
    Envelope e;
    e.from = "alice@example.org";
    for (auto& t : to) {
        e.to.emplace_back(std::move(t));
    }
    return e;
}

const std::string message = "Subject: test\r\n\r\nHello.\r\n";

// Runs handlers until `done()` (the sink's accept loop never lets io_context::run return).
template <typename Done>
void run_until(asio::io_context& io, Done done) {
    io.restart();
    while (!done() && io.run_one_for(5s) > 0) {
    }
}

template <typename T>
bool ready(std::future<T>& f) {
    return f.wait_for(0s) == std::future_status::ready;
}

// A loopback SMTP sink on the test's own io_context: PIPELINING, every command accepted
// (RCPT to refused@ refused), messages counted. Lines are answered as they come; a connection
// the client drops is simply forgotten.
class Sink {
public:
    explicit Sink(asio::io_context& io)
        : acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}) {
        asio::co_spawn(io, accept(), asio::detached);
    }

    [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

    [[nodiscard]] int messages() const { return *messages_; }

    void stop() {
        std::error_code ignored;
        acceptor_.close(ignored);
    }

private:
    asio::awaitable<void> accept() {
        for (;;) {
            std::error_code ec;
            auto socket =
                co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
                co_return;
            }
            asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket), messages_),
                           asio::detached);
        }
    }

    static asio::awaitable<void> serve(asio::ip::tcp::socket s, std::shared_ptr<int> messages) {
        std::string in;
        bool in_data = false;
        std::error_code ec;
        co_await asio::async_write(s, asio::buffer(std::string("220 sink ESMTP\r\n")),
                                   asio::redirect_error(asio::use_awaitable, ec));
        while (!ec) {
            std::size_t n = co_await asio::async_read_until(
                s, asio::dynamic_buffer(in), "\r\n", asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
                co_return;
            }
            const std::string line = in.substr(0, n - 2);
            in.erase(0, n);
            std::string reply;
            if (in_data) {
                if (line == ".") {
                    in_data = false;
                    ++*messages;
                    reply = "250 2.0.0 queued as Q" + std::to_string(*messages) + "\r\n";
                }
            } else if (line.rfind("EHLO", 0) == 0) {
                reply = "250-sink\r\n250 PIPELINING\r\n";
            } else if (line == "DATA") {
                in_data = true;
                reply = "354 go\r\n";
            } else if (line == "QUIT") {
                co_await asio::async_write(s, asio::buffer(std::string("221 bye\r\n")),
                                           asio::redirect_error(asio::use_awaitable, ec));
                co_return;
            } else if (line.find("refused@") != std::string::npos) {
                reply = "550 5.1.1 no such user\r\n";
            } else {
                reply = "250 ok\r\n";
            }
            if (!reply.empty()) {
                co_await asio::async_write(s, asio::buffer(reply),
                                           asio::redirect_error(asio::use_awaitable, ec));
            }
        }
    }

    asio::ip::tcp::acceptor acceptor_;
    std::shared_ptr<int> messages_ = std::make_shared<int>(0);
};

}  // namespace

TEST(AsyncClient, HundredClientsOnOneThread) {
    asio::io_context io;
    Sink sink(io);
    constexpr int clients = 100;
    int done = 0;
    std::vector<std::string> errors;
    auto one = [&](int i) -> asio::awaitable<void> {
        AsyncClient c(io.get_executor(), options());
        try {
            co_await c.async_connect("127.0.0.1", sink.port(), asio::use_awaitable);
            // Named, not built inside co_await (GCC 12 mishandles such temporaries).
            const Envelope to_two =
                envelope({"bob" + std::to_string(i) + "@example.org", "refused@example.org"});
            for (int m = 0; m < 3; ++m) {
                const auto r = co_await c.async_send(to_two, message, asio::use_awaitable);
                EXPECT_EQ(r.accepted().size(), 1U);
                EXPECT_EQ(r.refused(), std::vector<std::string>{"refused@example.org"});
            }
            co_await c.async_quit(asio::use_awaitable);
        } catch (const Error& e) {
            errors.emplace_back(e.what());
        }
        ++done;
    };
    for (int i = 0; i < clients; ++i) {
        asio::co_spawn(io, one(i), asio::detached);
    }
    // One thread for the sink and all the clients: no client can block another.
    while (done < clients && io.run_one_for(10s) > 0) {
    }
    sink.stop();
    EXPECT_EQ(done, clients);
    EXPECT_EQ(errors, std::vector<std::string>{});
    EXPECT_EQ(sink.messages(), clients * 3);
}

TEST(AsyncClient, CallbackAndFutureTokens) {
    asio::io_context io;
    Sink sink(io);
    AsyncClient c(io.get_executor(), options());
    std::exception_ptr connect_error = std::make_exception_ptr(std::runtime_error("not called"));
    int calls = 0;
    c.async_connect("127.0.0.1", sink.port(), [&](std::exception_ptr e) {
        connect_error = e;
        ++calls;
    });
    run_until(io, [&] { return calls > 0; });
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(connect_error, nullptr);
    auto reply = c.async_noop(asio::use_future);
    run_until(io, [&] { return ready(reply); });
    EXPECT_EQ(reply.get().code, 250);
}

TEST(AsyncClient, OneOperationAtATime) {
    asio::io_context io;
    Sink sink(io);
    AsyncClient c(io.get_executor(), options());
    auto first = c.async_connect("127.0.0.1", sink.port(), asio::use_future);
    auto second = c.async_noop(asio::use_future);
    run_until(io, [&] { return ready(first) && ready(second); });
    EXPECT_NO_THROW(first.get());
    EXPECT_EQ(kind_of([&] { (void)second.get(); }), errc::invalid_input);
    // The refused second operation did not disturb the first connection.
    auto third = c.async_noop(asio::use_future);
    run_until(io, [&] { return ready(third); });
    EXPECT_EQ(third.get().code, 250);
}

// Cancellation through the completion token's slot, at every step of connect-send-quit: the
// operation ends at once with errc::cancelled (or completed before the cancellation came),
// the connection is closed, nothing is left running (ASan and the io_context running dry say
// so), and the same client connects and sends again afterwards.
TEST(AsyncClient, CancellationAtEveryStep) {
    // The events of one whole run, to know how many steps there are.
    std::size_t steps = 0;
    {
        asio::io_context io;
        Sink sink(io);
        Options o = options();
        o.observer = [&](const Event&) { ++steps; };
        AsyncClient c(io.get_executor(), o);
        auto run = [&]() -> asio::awaitable<void> {
            co_await c.async_connect("127.0.0.1", sink.port(), asio::use_awaitable);
            const Envelope to = envelope();
            (void)co_await c.async_send(to, message, asio::use_awaitable);
            co_await c.async_quit(asio::use_awaitable);
        };
        bool over = false;
        asio::co_spawn(io, run(), [&](std::exception_ptr) { over = true; });
        run_until(io, [&] { return over; });
    }
    ASSERT_GT(steps, 10U);
    int cancelled = 0;
    for (std::size_t at = 1; at <= steps; ++at) {
        asio::io_context io;
        Sink sink(io);
        asio::cancellation_signal signal;
        std::size_t seen = 0;
        Options o = options();
        o.observer = [&](const Event&) {
            if (++seen == at) {
                // Handed over: it lands while the client waits for its next step.
                asio::post(io, [&] { signal.emit(asio::cancellation_type::terminal); });
            }
        };
        AsyncClient c(io.get_executor(), o);
        std::optional<errc> failed;
        bool between = false;
        auto run = [&]() -> asio::awaitable<void> {
            co_await c.async_connect("127.0.0.1", sink.port(), asio::use_awaitable);
            const Envelope to = envelope();
            (void)co_await c.async_send(to, message, asio::use_awaitable);
            co_await c.async_quit(asio::use_awaitable);
        };
        bool finished = false;
        asio::co_spawn(io, run(),
                       asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e) {
                           finished = true;
                           if (e) {
                               try {
                                   std::rethrow_exception(e);
                               } catch (const Error& error) {
                                   failed = error.kind();
                               } catch (const std::system_error& error) {
                                   // Landed between two operations: the coroutine's next
                                   // co_await threw; the client itself was idle.
                                   between = error.code() == asio::error::operation_aborted;
                               }
                           }
                       }));
        run_until(io, [&] { return finished; });
        ASSERT_TRUE(finished) << "step " << at;
        if (between) {
            // Cancelled between operations: the connection is as the last one left it.
            EXPECT_TRUE(c.is_open()) << "step " << at;
        }
        if (failed) {
            // A cancellation after the end of the data cannot say whether the server took the
            // message.
            EXPECT_TRUE(*failed == errc::cancelled || *failed == errc::outcome_unknown)
                << "step " << at << ": " << static_cast<int>(*failed);
            EXPECT_FALSE(c.is_open()) << "step " << at;
            ++cancelled;
            // Nothing dangles: the client starts afresh on the same io_context.
            auto again = c.async_connect("127.0.0.1", sink.port(), asio::use_future);
            run_until(io, [&] { return ready(again); });
            EXPECT_NO_THROW(again.get()) << "step " << at;
            auto sent = c.async_send(envelope(), message, asio::use_future);
            run_until(io, [&] { return ready(sent); });
            EXPECT_TRUE(sent.get().all_accepted()) << "step " << at;
        }
        c.close();
        sink.stop();
        io.restart();
        io.run_for(2s);  // every handler runs dry: no operation left behind
        EXPECT_TRUE(io.stopped()) << "step " << at << " between " << between << " failed "
                                  << (failed ? static_cast<int>(*failed) : -1);
    }
    EXPECT_GT(cancelled, 0);
}

TEST(AsyncClient, DestroyedWithAnOperationInFlight) {
    // A server that never greets: the connect is waiting when the client goes away. The
    // operation then ends (errc::cancelled or connection lost) instead of touching freed memory.
    Server server(R"(
!delay 3000
)");
    asio::io_context io;
    std::optional<std::future<void>> connected;
    {
        AsyncClient c(io.get_executor(), options());
        connected = c.async_connect("127.0.0.1", server.port(), asio::use_future);
        io.run_for(100ms);
    }
    io.run_for(2s);
    ASSERT_EQ(connected->wait_for(0s), std::future_status::ready);
    EXPECT_THROW(connected->get(), Error);
}

// ---- bring your own connection, LMTP over a Unix-domain socket (both clients) --------------

template <typename T>
class BothClientsOwnConnection : public ::testing::Test {};

TYPED_TEST_SUITE(BothClientsOwnConnection, missive::test::BothClients, missive::test::ClientNames);

TYPED_TEST(BothClientsOwnConnection, AdoptsAConnectedSocket) {
    Server server(R"(
S: 220 mx.test ESMTP
C: EHLO client.test
S: 250 mx.test
C: NOOP
S: 250 2.0.0 Ok
)");
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), server.port()});
    TypeParam c(options());
    if constexpr (std::is_same_v<TypeParam, Client>) {
        c.adopt(socket.release(), "mx.test");
    } else {
        c.adopt(std::move(socket), "mx.test");
    }
    EXPECT_EQ(c.noop().code, 250);
    c.close();
    ASSERT_TRUE(server.wait_for(1));
    EXPECT_EQ(server.mismatches(), std::vector<std::string>{});
}

TEST(Client, AdoptRefusesWhatIsNotAConnectedSocket) {
    Client c(options());
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    EXPECT_EQ(kind_of([&] { c.adopt(fds[0], "mx.test"); }), errc::invalid_input);
    ::close(fds[0]);
    ::close(fds[1]);
    const int unconnected = ::socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_EQ(kind_of([&] { c.adopt(unconnected, "mx.test"); }), errc::invalid_input);
    ::close(unconnected);
}

namespace {

// An LMTP server on a Unix-domain socket, one connection, on a thread: LHLO, then per-recipient
// replies after the data (RFC 2033), and AUTH PLAIN accepted without TLS (a local socket).
class UnixLmtp {
public:
    UnixLmtp()
        : path_((std::filesystem::temp_directory_path() /
                 ("missive-lmtp-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++) +
                  ".sock"))
                    .string())
        , acceptor_(io_, asio::local::stream_protocol::endpoint(path_)) {
        thread_ = std::thread([this] { serve(); });
    }

    UnixLmtp(const UnixLmtp&) = delete;
    UnixLmtp& operator=(const UnixLmtp&) = delete;

    ~UnixLmtp() {
        thread_.join();
        std::filesystem::remove(path_);
    }

    [[nodiscard]] const std::string& path() const { return path_; }

    [[nodiscard]] const std::string& received() const { return received_; }

private:
    static int& counter() {
        static int n = 0;
        return n;
    }

    void serve() {
        asio::local::stream_protocol::socket s(io_);
        acceptor_.accept(s);
        std::string in;
        auto say = [&](const std::string& text) { asio::write(s, asio::buffer(text)); };
        auto line = [&]() {
            std::error_code ec;
            const std::size_t n = asio::read_until(s, asio::dynamic_buffer(in), "\r\n", ec);
            if (ec) {
                return std::string("<eof>");
            }
            std::string l = in.substr(0, n - 2);
            in.erase(0, n);
            received_ += l + "\n";
            return l;
        };
        say("220 lmtp.test LMTP\r\n");
        while (true) {
            const std::string l = line();
            if (l == "<eof>") {
                return;
            }
            if (l.rfind("LHLO", 0) == 0) {
                say("250-lmtp.test\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n");
            } else if (l.rfind("AUTH PLAIN", 0) == 0) {
                say("235 2.7.0 ok\r\n");
            } else if (l == "DATA") {
                say("354 go\r\n");
                while (line() != ".") {
                }
                say("250 2.0.0 <bob@example.org> saved\r\n452 4.2.2 <carol@example.org> over "
                    "quota\r\n");
            } else if (l == "QUIT") {
                say("221 bye\r\n");
                return;
            } else {
                say("250 ok\r\n");
            }
        }
    }

    std::string path_;
    asio::io_context io_;
    asio::local::stream_protocol::acceptor acceptor_;
    std::thread thread_;
    std::string received_;
};

}  // namespace

TYPED_TEST(BothClientsOwnConnection, LmtpOverAUnixSocket) {
    UnixLmtp server;
    Options o = options();
    o.credentials = missive::sasl::Credentials{"alice", "secret", {}};
    TypeParam c(o);
    // Credentials may go in clear over a local socket, as over loopback.
    c.connect(missive::net::Url::parse("lmtp://" + server.path()));
    const auto result = c.send(envelope({"bob@example.org", "carol@example.org"}), message);
    c.quit();
    ASSERT_EQ(result.recipients.size(), 2U);
    EXPECT_EQ(result.recipients[0].reply.code, 250);
    EXPECT_EQ(result.recipients[1].reply.code, 452);
    EXPECT_NE(server.received().find("LHLO client.test\n"), std::string::npos);
    EXPECT_NE(server.received().find("AUTH PLAIN"), std::string::npos);
}

TYPED_TEST(BothClientsOwnConnection, UnixSocketThatIsNotThereIsConnectFailed) {
    TypeParam c(options());
    std::string what;
    EXPECT_EQ(
        kind_of([&] { c.connect(missive::net::Url::parse("lmtp:///nonexistent/lmtp")); }, &what),
        errc::connect_failed);
    EXPECT_NE(what.find("unix:/nonexistent/lmtp"), std::string::npos) << what;
}
