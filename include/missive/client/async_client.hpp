#pragma once

// The asynchronous client, on standalone Asio (link missive::asio as well as missive::missive;
// this is the one public header that names Asio).

#include <missive/client/letter.hpp>
#include <missive/client/options.hpp>
#include <missive/error.hpp>
#include <missive/mime/message.hpp>
#include <missive/net/tls.hpp>
#include <missive/net/url.hpp>
#include <missive/smtp/capabilities.hpp>
#include <missive/smtp/envelope.hpp>
#include <missive/smtp/reply.hpp>
#include <missive/smtp/result.hpp>
#include <missive/smtp/session.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace missive::client {

/**
 * An SMTP (or LMTP) client whose operations complete asynchronously on an Asio executor (Nim's
 * `AsyncSmtp`, MailKit's `SendAsync`), with the behaviour of `Client` in every respect: the
 * same engine makes every decision (TLS, credentials, deadlines, errors), so the same
 * operations give the same results, errors, trace and observer events. Many AsyncClients run
 * on one `io_context` thread.
 *
 * Every `async_*` operation takes an Asio completion token: `asio::use_awaitable` in a
 * coroutine (errors are thrown as `missive::Error`), a callback `void(std::exception_ptr[, T])`,
 * `asio::use_future`, … They are started with `asio::co_spawn` on the client's executor.
 * Cancellation: a token with a cancellation slot (`asio::bind_cancellation_slot`, or an
 * awaitable operator such as `||`) cancels the operation in progress (terminal cancellation:
 * errc::cancelled, and the connection is closed), as `Options::stop` and the deadlines of
 * `Options` do.
 *
 * One operation at a time: start the next when the last has completed (a second one fails
 * with errc::invalid_input). References passed in (an istream, a mime::Message, a SASL
 * mechanism) must stay valid until the operation completes, as Asio's buffers must; the client
 * itself must outlive its operations. Not thread-safe: use it from its executor (a strand when
 * the io_context runs on several threads).
 */
class AsyncClient {
public:
    explicit AsyncClient(asio::any_io_executor executor, Options options = {});
    AsyncClient(AsyncClient&& other) noexcept;
    AsyncClient& operator=(AsyncClient&& other) noexcept;
    AsyncClient(const AsyncClient&) = delete;
    AsyncClient& operator=(const AsyncClient&) = delete;
    /** Closes the connection without QUIT. */
    ~AsyncClient();

    [[nodiscard]] asio::any_io_executor get_executor() const;

    /** As Client::connect(host, port). Completion: `void(std::exception_ptr)`. */
    template <typename Token>
    auto async_connect(std::string host, std::uint16_t port, Token&& token) {
        return spawn(do_connect(impl_, std::move(host), port), std::forward<Token>(token));
    }

    /** As Client::connect(url), `lmtp:///path` for a Unix socket included. */
    template <typename Token>
    auto async_connect(net::Url url, Token&& token) {
        return spawn(do_connect(impl_, std::move(url)), std::forward<Token>(token));
    }

    /**
     * Bring your own connection (as Client::adopt): takes over a connected socket, then
     * greeting, EHLO, TLS and AUTH as Options say. `server_name` is the name the certificate
     * must carry.
     */
    template <typename Token>
    auto async_adopt(asio::ip::tcp::socket socket, std::string server_name, Token&& token) {
        return spawn(do_adopt(impl_, std::move(socket), std::move(server_name)),
                     std::forward<Token>(token));
    }

    template <typename Token>
    auto async_adopt(asio::local::stream_protocol::socket socket, std::string server_name,
                     Token&& token) {
        return spawn(do_adopt(impl_, std::move(socket), std::move(server_name)),
                     std::forward<Token>(token));
    }

    /** EHLO/LHLO with HELO fallback ("" for Options::local_name). */
    template <typename Token>
    auto async_hello(std::string local_name, Token&& token) {
        return spawn(do_hello(impl_, std::move(local_name)), std::forward<Token>(token));
    }

    /** What the server offered (says EHLO first if needed). Completion:
     * `void(std::exception_ptr, smtp::Capabilities)`. */
    template <typename Token>
    auto async_capabilities(Token&& token) {
        return spawn(do_capabilities(impl_), std::forward<Token>(token));
    }

    /** AUTH with Options::credentials (connect does it by itself when they are set). */
    template <typename Token>
    auto async_authenticate(Token&& token) {
        return spawn(do_authenticate(impl_, nullptr), std::forward<Token>(token));
    }

    /** AUTH with a mechanism of the caller's. */
    template <typename Token>
    auto async_authenticate(sasl::Mechanism& mechanism, Token&& token) {
        return spawn(do_authenticate(impl_, &mechanism), std::forward<Token>(token));
    }

    /** As Client::send(envelope, message); the client keeps the message until it completes.
     * Completion: `void(std::exception_ptr, smtp::SendResult)`. */
    template <typename Token>
    auto async_send(smtp::Envelope envelope, std::string message, Token&& token) {
        return spawn(do_send(impl_, std::move(envelope), std::move(message)),
                     std::forward<Token>(token));
    }

    /** As Client::send(envelope, stream): read in pieces (bounded memory). */
    template <typename Token>
    auto async_send(smtp::Envelope envelope, std::istream& message, Token&& token) {
        return spawn(do_send(impl_, std::move(envelope), message), std::forward<Token>(token));
    }

    /** As Client::send(message): the envelope from its headers. */
    template <typename Token>
    auto async_send(const mime::Message& message, Token&& token) {
        return spawn(do_send(impl_, message), std::forward<Token>(token));
    }

    /** As Client::send(envelope, message) for a built message. */
    template <typename Token>
    auto async_send(smtp::Envelope envelope, const mime::Message& message, Token&& token) {
        return spawn(do_send(impl_, std::move(envelope), message), std::forward<Token>(token));
    }

    /** As Client::send_all; `letters` must stay valid until it completes, and `on_outcome` is
     * called on the client's executor. Completion: `void(std::exception_ptr)`. */
    template <typename Token>
    auto async_send_all(std::span<const Letter> letters, std::function<void(Outcome)> on_outcome,
                        Token&& token) {
        return spawn(do_send_all(impl_, letters, std::move(on_outcome)),
                     std::forward<Token>(token));
    }

    /** MAIL FROM alone. Completion: `void(std::exception_ptr, smtp::Reply)`, as the others
     * below. */
    template <typename Token>
    auto async_mail(std::string from, smtp::MailParams params, Token&& token) {
        return spawn(do_mail(impl_, std::move(from), std::move(params)),
                     std::forward<Token>(token));
    }

    template <typename Token>
    auto async_rcpt(std::string to, smtp::RcptParams params, Token&& token) {
        return spawn(do_rcpt(impl_, std::move(to), std::move(params)), std::forward<Token>(token));
    }

    /** DATA alone; after 354 write the message with async_write_body, end it with
     * async_end_body (which completes with the final reply). */
    template <typename Token>
    auto async_data(Token&& token) {
        return spawn(do_data(impl_), std::forward<Token>(token));
    }

    template <typename Token>
    auto async_write_body(std::string bytes, Token&& token) {
        return spawn(do_write_body(impl_, std::move(bytes)), std::forward<Token>(token));
    }

    template <typename Token>
    auto async_end_body(Token&& token) {
        return spawn(do_end_body(impl_), std::forward<Token>(token));
    }

    template <typename Token>
    auto async_noop(Token&& token) {
        return spawn(do_simple(impl_, Simple::noop, {}), std::forward<Token>(token));
    }

    template <typename Token>
    auto async_reset(Token&& token) {
        return spawn(do_simple(impl_, Simple::reset, {}), std::forward<Token>(token));
    }

    template <typename Token>
    auto async_verify(std::string address, Token&& token) {
        return spawn(do_simple(impl_, Simple::verify, std::move(address)),
                     std::forward<Token>(token));
    }

    template <typename Token>
    auto async_expand(std::string list, Token&& token) {
        return spawn(do_simple(impl_, Simple::expand, std::move(list)), std::forward<Token>(token));
    }

    template <typename Token>
    auto async_help(std::string topic, Token&& token) {
        return spawn(do_simple(impl_, Simple::help, std::move(topic)), std::forward<Token>(token));
    }

    /** Any command; `redacted_trace` is what the trace shows instead ("" shows it). */
    template <typename Token>
    auto async_command(std::string line, std::string redacted_trace, Token&& token) {
        return spawn(do_command(impl_, std::move(line), std::move(redacted_trace)),
                     std::forward<Token>(token));
    }

    /** QUIT, then close. Completion: `void(std::exception_ptr)`. */
    template <typename Token>
    auto async_quit(Token&& token) {
        return spawn(do_quit(impl_), std::forward<Token>(token));
    }

    /** As Client::set_deadline. */
    void set_deadline(std::optional<std::chrono::steady_clock::time_point> deadline);

    /** Closes the connection at once (cancel an operation in progress first). */
    void close() noexcept;

    [[nodiscard]] const net::TlsInfo* tls() const;
    [[nodiscard]] bool is_open() const;
    /**
     * Whether the server sent something or closed the connection while no operation was in
     * progress, checked without waiting (a zero-timeout poll, no round trip). On an idle SMTP
     * connection that means it is going away (a 421 or the end): don't send on it, close it.
     * False when closed.
     */
    [[nodiscard]] bool has_unsolicited_input() const;
    [[nodiscard]] const smtp::Session& session() const;

private:
    enum class Simple { noop, reset, verify, expand, help };
    struct Impl;

    template <typename T, typename Token>
    auto spawn(asio::awaitable<T> op, Token&& token) {
        return asio::co_spawn(get_executor(), std::move(op), std::forward<Token>(token));
    }

    static asio::awaitable<void> do_connect(std::shared_ptr<Impl> self, std::string host,
                                            std::uint16_t port);
    static asio::awaitable<void> do_connect(std::shared_ptr<Impl> self, net::Url url);
    static asio::awaitable<void> do_adopt(std::shared_ptr<Impl> self, asio::ip::tcp::socket socket,
                                          std::string server_name);
    static asio::awaitable<void> do_adopt(std::shared_ptr<Impl> self,
                                          asio::local::stream_protocol::socket socket,
                                          std::string server_name);
    static asio::awaitable<void> do_hello(std::shared_ptr<Impl> self, std::string local_name);
    static asio::awaitable<smtp::Capabilities> do_capabilities(std::shared_ptr<Impl> self);
    static asio::awaitable<void> do_authenticate(std::shared_ptr<Impl> self,
                                                 sasl::Mechanism* mechanism);
    static asio::awaitable<smtp::SendResult> do_send(std::shared_ptr<Impl> self,
                                                     smtp::Envelope envelope, std::string message);
    static asio::awaitable<smtp::SendResult> do_send(std::shared_ptr<Impl> self,
                                                     smtp::Envelope envelope,
                                                     std::istream& message);
    static asio::awaitable<smtp::SendResult> do_send(std::shared_ptr<Impl> self,
                                                     const mime::Message& message);
    static asio::awaitable<smtp::SendResult> do_send(std::shared_ptr<Impl> self,
                                                     smtp::Envelope envelope,
                                                     const mime::Message& message);
    static asio::awaitable<void> do_send_all(std::shared_ptr<Impl> self,
                                             std::span<const Letter> letters,
                                             std::function<void(Outcome)> on_outcome);
    static asio::awaitable<smtp::Reply> do_mail(std::shared_ptr<Impl> self, std::string from,
                                                smtp::MailParams params);
    static asio::awaitable<smtp::Reply> do_rcpt(std::shared_ptr<Impl> self, std::string to,
                                                smtp::RcptParams params);
    static asio::awaitable<void> do_data(std::shared_ptr<Impl> self);
    static asio::awaitable<void> do_write_body(std::shared_ptr<Impl> self, std::string bytes);
    static asio::awaitable<smtp::Reply> do_end_body(std::shared_ptr<Impl> self);
    static asio::awaitable<smtp::Reply> do_simple(std::shared_ptr<Impl> self, Simple which,
                                                  std::string argument);
    static asio::awaitable<smtp::Reply> do_command(std::shared_ptr<Impl> self, std::string line,
                                                   std::string redacted_trace);
    static asio::awaitable<void> do_quit(std::shared_ptr<Impl> self);

    std::shared_ptr<Impl> impl_;
};

}  // namespace missive::client
