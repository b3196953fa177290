#include <missive/client/client.hpp>
#include <missive/client/prepare.hpp>

#include "client/driver.hpp"

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <exception>
#include <istream>
#include <memory>
#include <utility>

namespace missive::client {

// The blocking client: the same driver loop as the AsyncClient, run to its end on a private
// io_context for each operation.
struct Client::Impl {
    asio::io_context io{1};
    std::shared_ptr<detail::Driver> driver;
    detail::Engine& engine;

    explicit Impl(Options o)
        : driver(std::make_shared<detail::Driver>(io.get_executor(), std::move(o)))
        , engine(driver->engine) {}

    // Runs the operation just started on the engine to its end, and throws its error.
    void run() {
        std::exception_ptr error;
        bool finished = false;
        asio::co_spawn(io, driver->drive(), [&](std::exception_ptr e) {
            error = std::move(e);
            finished = true;
        });
        io.restart();
        io.run();
        if (!finished) {
            throw Error(errc::protocol, "internal error: the operation did not complete");
        }
        if (error) {
            std::rethrow_exception(error);
        }
    }

    void close() noexcept { driver->close(); }
};

Client::Client(Options options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

Client::Client(Client&& other) noexcept = default;
Client& Client::operator=(Client&& other) noexcept = default;

Client::~Client() {
    if (impl_) {
        impl_->close();
    }
}

void Client::connect(std::string_view host, std::uint16_t port) {
    impl_->engine.connect(host, port);
    impl_->run();
}

void Client::connect(const net::Url& url) {
    impl_->engine.connect(url);
    impl_->run();
}

void Client::adopt(int fd, std::string_view server_name) {
    Impl& m = *impl_;
    m.close();
    m.driver->stream.adopt(fd);
    m.engine.adopt(server_name, m.driver->peer());
    m.run();
}

void Client::set_deadline(std::optional<std::chrono::steady_clock::time_point> deadline) {
    impl_->engine.set_deadline(deadline);
}

void Client::authenticate() {
    impl_->engine.authenticate(nullptr);
    impl_->run();
}

void Client::authenticate(sasl::Mechanism& mechanism) {
    impl_->engine.authenticate(&mechanism);
    impl_->run();
}

void Client::hello(std::string_view local_name) {
    impl_->engine.hello(local_name);
    impl_->run();
}

const smtp::Capabilities& Client::capabilities() {
    impl_->engine.ensure_hello();
    impl_->run();
    return impl_->engine.session().capabilities();
}

std::optional<std::string> Client::extension(std::string_view name) {
    return capabilities().extension(name);
}

smtp::SendResult Client::send(const smtp::Envelope& envelope, std::string_view message) {
    impl_->engine.send(envelope, message);
    impl_->run();
    return impl_->engine.session().result();
}

smtp::SendResult Client::send(const smtp::Envelope& envelope, std::istream& message) {
    impl_->engine.send(envelope, message);
    impl_->run();
    return impl_->engine.session().result();
}

smtp::SendResult Client::send(const mime::Message& message) {
    return send(envelope_of(message), message);
}

smtp::SendResult Client::send(const smtp::Envelope& envelope, const mime::Message& message) {
    impl_->engine.send(envelope, message);
    impl_->run();
    return impl_->engine.session().result();
}

void Client::send_all(std::span<const Letter> letters,
                      const std::function<void(Outcome)>& on_outcome) {
    impl_->engine.send_all(letters, on_outcome);
    impl_->run();
}

smtp::Reply Client::mail(std::string_view from, const smtp::MailParams& params) {
    impl_->engine.mail(from, params);
    impl_->run();
    return impl_->engine.session().reply();
}

smtp::Reply Client::rcpt(std::string_view to, const smtp::RcptParams& params) {
    impl_->engine.rcpt(to, params);
    impl_->run();
    return impl_->engine.session().reply();
}

DataWriter Client::data() {
    impl_->engine.data();
    impl_->run();
    return DataWriter(*this);
}

void DataWriter::write(std::string_view bytes) {
    client_->impl_->engine.write_body(bytes);
    client_->impl_->run();
}

smtp::Reply DataWriter::finish() {
    client_->impl_->engine.end_body();
    client_->impl_->run();
    return client_->impl_->engine.session().reply();
}

smtp::Reply Client::noop() {
    impl_->engine.noop();
    impl_->run();
    return impl_->engine.session().reply();
}

smtp::Reply Client::reset() {
    impl_->engine.reset();
    impl_->run();
    return impl_->engine.session().reply();
}

smtp::Reply Client::verify(std::string_view address) {
    impl_->engine.verify(address);
    impl_->run();
    return impl_->engine.session().reply();
}

smtp::Reply Client::expand(std::string_view list) {
    impl_->engine.expand(list);
    impl_->run();
    return impl_->engine.session().reply();
}

smtp::Reply Client::help(std::string_view topic) {
    impl_->engine.help(topic);
    impl_->run();
    return impl_->engine.session().reply();
}

smtp::Reply Client::command(std::string_view line, std::string_view redacted_trace) {
    impl_->engine.command(line, redacted_trace);
    impl_->run();
    return impl_->engine.session().reply();
}

void Client::quit() {
    impl_->engine.quit();
    impl_->run();
}

void Client::close() noexcept {
    impl_->close();
}

const net::TlsInfo* Client::tls() const {
    return impl_->driver->stream.tls();
}

bool Client::is_open() const {
    return impl_->driver->stream.is_open() && impl_->engine.usable();
}

const smtp::Session& Client::session() const {
    return impl_->engine.session();
}

}  // namespace missive::client
