#include <missive/client/client.hpp>
#include <missive/client/prepare.hpp>
#include <missive/net/blocking_stream.hpp>

#include "client/engine.hpp"

#include <array>
#include <istream>
#include <memory>
#include <span>
#include <utility>

namespace missive::client {

namespace {

constexpr std::size_t read_size = std::size_t{16} * 1024;

}  // namespace

// The blocking driver: the engine decides, this loop does what it says on a BlockingStream.
struct Client::Impl {
    detail::Engine engine;
    net::BlockingStream stream;
    std::array<char, read_size> buffer{};

    explicit Impl(Options o)
        : engine(std::move(o)) {}

    detail::Peer peer() const {
        return {stream.remote_endpoint(), stream.remote_is_local(), stream.local_address_literal()};
    }

    // Runs the operation just started on the engine to its end, and throws its error.
    void run() {
        const std::stop_token& stop = engine.options().stop;
        for (;;) {
            const detail::Need need = engine.next();
            if (need.io == detail::Io::done) {
                engine.finish();
                return;
            }
            try {
                switch (need.io) {
                    case detail::Io::connect:
                        if (need.path.empty()) {
                            stream.connect(need.host, need.port, need.deadline, stop);
                        } else {
                            stream.connect_local(need.path, need.deadline, stop);
                        }
                        engine.connected(peer());
                        break;
                    case detail::Io::write:
                        stream.write_all(need.bytes, need.deadline, stop);
                        engine.wrote(need.bytes.size());
                        break;
                    case detail::Io::read: {
                        const std::size_t room = need.read_max == 0
                                                     ? buffer.size()
                                                     : std::min(buffer.size(), need.read_max);
                        const std::size_t n = stream.read_some(std::span<char>(buffer.data(), room),
                                                               need.deadline, stop);
                        engine.received(std::string_view(buffer.data(), n));
                        break;
                    }
                    case detail::Io::handshake:
                        stream.start_tls(need.tls, need.tls_name, need.deadline, stop);
                        engine.handshake_done();
                        break;
                    case detail::Io::close:
                        stream.close();
                        engine.closed();
                        break;
                    case detail::Io::done:
                        break;
                }
            } catch (const Error& e) {
                engine.failed(e);
            }
        }
    }

    void close() noexcept {
        stream.close();
        engine.closed();
    }
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
    m.stream.adopt(fd);
    m.engine.adopt(server_name, m.peer());
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
    return impl_->stream.tls();
}

bool Client::is_open() const {
    return impl_->stream.is_open() && impl_->engine.usable();
}

const smtp::Session& Client::session() const {
    return impl_->engine.session();
}

}  // namespace missive::client
