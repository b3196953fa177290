#include <missive/testing/server.hpp>

#include <climits>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace missive::testing {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// One parsed script step.
struct Step {
    enum class Kind { send, expect, data, bdat, raw, split, nosplit, delay, drop, reset, eof };
    Kind kind;
    std::string text;
    milliseconds ms{0};
};

// The escapes of `!raw`; anything else after a backslash is a mistake in the script.
bool unescape(std::string_view s, std::string& out) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\') {
            out += s[i];
            continue;
        }
        if (++i == s.size()) {
            return false;
        }
        switch (s[i]) {
            case 'r':
                out += '\r';
                break;
            case 'n':
                out += '\n';
                break;
            case '0':
                out += '\0';
                break;
            case '\\':
                out += '\\';
                break;
            default:
                return false;
        }
    }
    return true;
}

// `line` without `prefix`, or nullopt when it does not start with it.
std::optional<std::string_view> after(std::string_view line, std::string_view prefix) {
    if (line.substr(0, prefix.size()) != prefix) {
        return std::nullopt;
    }
    return line.substr(prefix.size());
}

std::vector<Step> parse_script(std::string_view script) {
    std::vector<Step> steps;
    std::size_t number = 0;
    while (!script.empty()) {
        ++number;
        const std::size_t nl = script.find('\n');
        std::string_view line = script.substr(0, nl);
        script = nl == std::string_view::npos ? std::string_view{} : script.substr(nl + 1);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line.empty() || line.front() == '#') {
            continue;
        }
        auto bad = [&] {
            return std::invalid_argument("script line " + std::to_string(number) + ": '" +
                                         std::string(line) + "' is not a step");
        };
        // "S:" and "C:" alone stand for an empty line.
        if (line == "S:" || line == "C:") {
            steps.push_back({line[0] == 'S' ? Step::Kind::send : Step::Kind::expect, {}, {}});
        } else if (const auto sent = after(line, "S: ")) {
            steps.push_back({Step::Kind::send, std::string(*sent), {}});
        } else if (const auto expected = after(line, "C: ")) {
            steps.push_back({Step::Kind::expect, std::string(*expected), {}});
        } else if (line == "!data") {
            steps.push_back({Step::Kind::data, {}, {}});
        } else if (line == "!bdat") {
            steps.push_back({Step::Kind::bdat, {}, {}});
        } else if (const auto raw = after(line, "!raw ")) {
            std::string bytes;
            if (!unescape(*raw, bytes)) {
                throw bad();
            }
            steps.push_back({Step::Kind::raw, std::move(bytes), {}});
        } else if (line == "!split") {
            steps.push_back({Step::Kind::split, {}, {}});
        } else if (line == "!nosplit") {
            steps.push_back({Step::Kind::nosplit, {}, {}});
        } else if (const auto arg = after(line, "!delay ")) {
            int ms = 0;
            const auto [ptr, ec] = std::from_chars(arg->data(), arg->data() + arg->size(), ms);
            if (ec != std::errc{} || ptr != arg->data() + arg->size() || ms < 0) {
                throw bad();
            }
            steps.push_back({Step::Kind::delay, {}, milliseconds(ms)});
        } else if (line == "!drop") {
            steps.push_back({Step::Kind::drop, {}, {}});
        } else if (line == "!reset") {
            steps.push_back({Step::Kind::reset, {}, {}});
        } else if (line == "!eof") {
            steps.push_back({Step::Kind::eof, {}, {}});
        } else {
            throw bad();
        }
    }
    return steps;
}

// The size of a BDAT chunk from its command line, RFC 3030: "BDAT <size> [LAST]".
std::optional<std::size_t> bdat_size(std::string_view command) {
    const auto arg = after(command, "BDAT ");
    if (!arg) {
        return std::nullopt;
    }
    std::size_t n = 0;
    const auto [ptr, ec] = std::from_chars(arg->data(), arg->data() + arg->size(), n);
    const std::string_view rest(ptr, static_cast<std::size_t>(arg->data() + arg->size() - ptr));
    if (ec != std::errc{} || ptr == arg->data() || !(rest.empty() || rest == " LAST")) {
        return std::nullopt;
    }
    return n;
}

// poll() that goes on after a signal, with what is left of the timeout (-1: none).
int poll_for(std::span<pollfd> fds, int timeout_ms) {
    const auto until = steady_clock::now() + milliseconds(timeout_ms);
    for (;;) {
        const int n = ::poll(fds.data(), fds.size(), timeout_ms);
        if (n >= 0 || errno != EINTR) {
            return n;
        }
        if (timeout_ms >= 0) {
            const auto left = std::chrono::ceil<milliseconds>(until - steady_clock::now());
            timeout_ms = static_cast<int>(std::max<milliseconds::rep>(left.count(), 0));
        }
    }
}

// A read that met EOF, the io_timeout or stop(): ends the conversation quietly.
struct Stop : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace

struct Server::Impl {
    Options opts;
    Handler handler;
    int listener = -1;
    std::uint16_t port = 0;
    std::thread thread;
    std::vector<std::thread> workers;  // one per connection with Options::concurrent
    std::atomic<bool> stopping{false};
    std::array<int, 2> wake{-1, -1};  // a pipe that interrupts poll() when stopping

    mutable std::mutex mutex;
    std::condition_variable finished_cv;
    std::vector<std::string> received;  // per connection
    std::vector<std::string> mismatches;
    std::size_t finished = 0;
    // The open connections, so that stop() can shut them down; changed only under `mutex`, so
    // stop() never touches a descriptor number that was closed and reused meanwhile.
    std::vector<int> active;

    Impl() = default;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    Impl(Impl&&) = delete;
    Impl& operator=(Impl&&) = delete;

    ~Impl() {
        stop();
        for (const int fd : {listener, wake[0], wake[1]}) {
            if (fd >= 0) {
                ::close(fd);
            }
        }
    }

    void record(std::size_t index, std::string_view bytes) {
        const std::lock_guard lock(mutex);
        received[index].append(bytes);
    }

    void mismatch(std::string text) {
        const std::lock_guard lock(mutex);
        mismatches.push_back(std::move(text));
    }

    [[nodiscard]] int timeout_ms() const {
        return static_cast<int>(std::clamp<milliseconds::rep>(opts.io_timeout.count(), 0, INT_MAX));
    }

    class Conn final : public Conversation {
    public:
        Conn(Impl& server, int fd, std::size_t index)
            : server_(server)
            , fd_(fd)
            , index_(index) {
            const std::lock_guard lock(server_.mutex);
            server_.active.push_back(fd_);
        }

        Conn(const Conn&) = delete;
        Conn& operator=(const Conn&) = delete;
        Conn(Conn&&) = delete;
        Conn& operator=(Conn&&) = delete;

        ~Conn() override { close(false); }

        void send_line(std::string_view line) override { send_raw(std::string(line) + "\r\n"); }

        void send_raw(std::string_view bytes) override {
            if (!split_) {
                write_all(bytes);
                return;
            }
            for (const char c : bytes) {
                write_all(std::string_view(&c, 1));
                // A pause, so that each byte reaches the client as a read of its own.
                delay(milliseconds(1));
            }
        }

        std::string read_line() override {
            for (;;) {
                const std::size_t lf = buffer_.find('\n');
                if (lf != std::string::npos) {
                    std::string line = buffer_.substr(0, lf);
                    buffer_.erase(0, lf + 1);
                    if (!line.empty() && line.back() == '\r') {
                        line.pop_back();
                    }
                    return line;
                }
                fill();
            }
        }

        std::string read_data() override {
            for (;;) {
                // The data ends with CRLF "." CRLF; an empty message is just ".\r\n".
                if (buffer_.starts_with(".\r\n")) {
                    buffer_.erase(0, 3);
                    return {};
                }
                const std::size_t end = buffer_.find("\r\n.\r\n");
                if (end != std::string::npos) {
                    std::string data = buffer_.substr(0, end + 2);
                    buffer_.erase(0, end + 5);
                    return data;
                }
                fill();
            }
        }

        std::string read_exact(std::size_t n) override {
            while (buffer_.size() < n) {
                fill();
            }
            std::string out = buffer_.substr(0, n);
            buffer_.erase(0, n);
            return out;
        }

        void wait_eof() override {
            try {
                for (;;) {
                    buffer_.clear();
                    fill();
                }
            } catch (const Stop&) {
            }
        }

        void close(bool reset) override {
            if (fd_ < 0) {
                return;
            }
            if (!reset) {
                // FIN first, so that the client reads the end of the stream even if it sends
                // more meanwhile (closing with unread bytes would send RST instead).
                ::shutdown(fd_, SHUT_WR);
            }
            // Whatever the client sent that no step read is still part of the record; and a
            // socket closed with unread bytes would answer with RST instead of FIN.
            drain();
            const std::lock_guard lock(server_.mutex);
            if (reset) {
                // SO_LINGER with a zero timeout makes close() send RST (and drop unsent data).
                const linger abort{1, 0};
                ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
            }
            ::close(fd_);
            std::erase(server_.active, fd_);
            fd_ = -1;
        }

        void set_split(bool on) override { split_ = on; }

        void delay(milliseconds ms) override {
            // Sleeps on the wake pipe, so that stop() ends the pause at once.
            std::array<pollfd, 1> fds{{{server_.wake[0], POLLIN, 0}}};
            const auto ms_int = std::clamp<milliseconds::rep>(ms.count(), 0, INT_MAX);
            (void)poll_for(fds, static_cast<int>(ms_int));
        }

        [[nodiscard]] const std::string& last_line() const { return last_line_; }

        void remember(std::string line) { last_line_ = std::move(line); }

    private:
        void write_all(std::string_view bytes) const {
            while (!bytes.empty()) {
                if (fd_ < 0) {
                    throw Stop("closed");
                }
                const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR) {
                    continue;
                }
                if (n <= 0) {
                    throw Stop("write failed");
                }
                bytes.remove_prefix(static_cast<std::size_t>(n));
            }
        }

        void fill() {
            if (fd_ < 0) {
                throw Stop("closed");
            }
            std::array<pollfd, 2> fds{{{fd_, POLLIN, 0}, {server_.wake[0], POLLIN, 0}}};
            if (poll_for(fds, server_.timeout_ms()) <= 0 || (fds[1].revents & POLLIN) != 0) {
                throw Stop("timeout or stop");
            }
            if (!receive(0)) {
                throw Stop("eof");
            }
        }

        // Records what is readable without waiting.
        // Reads what is already queued, at most 1 MiB: a client that keeps writing (a large
        // message) must still meet the close, not be read to its end.
        void drain() {
            constexpr std::size_t limit = 1 << 20;
            const std::size_t start = buffer_.size();
            while (buffer_.size() - start < limit && receive(MSG_DONTWAIT)) {
            }
        }

        // One recv(); @return false at EOF, on an error, or when nothing is readable.
        bool receive(int flags) {
            std::array<char, 65536> chunk{};
            ssize_t n = -1;
            do {
                n = ::recv(fd_, chunk.data(), chunk.size(), flags);
            } while (n < 0 && errno == EINTR);
            if (n <= 0) {
                return false;
            }
            const std::string_view got(chunk.data(), static_cast<std::size_t>(n));
            server_.record(index_, got);
            buffer_.append(got);
            return true;
        }

        Impl& server_;
        int fd_;
        std::size_t index_;
        bool split_ = false;
        std::string buffer_;
        std::string last_line_;
    };

    static void run_script(const std::vector<Step>& steps, Conn& conv, Impl& server) {
        for (const Step& step : steps) {
            switch (step.kind) {
                case Step::Kind::send:
                    conv.send_line(step.text);
                    break;
                case Step::Kind::expect: {
                    std::string line = conv.read_line();
                    if (step.text != "*" && line != step.text) {
                        server.mismatch("expected '" + step.text + "', got '" + line + "'");
                    }
                    conv.remember(std::move(line));
                    break;
                }
                case Step::Kind::data:
                    (void)conv.read_data();
                    break;
                case Step::Kind::bdat: {
                    const auto n = bdat_size(conv.last_line());
                    if (!n) {
                        // Nothing sensible to read: the test is wrong or the client is.
                        server.mismatch("expected 'BDAT <size> [LAST]' before !bdat, got '" +
                                        conv.last_line() + "'");
                        break;
                    }
                    (void)conv.read_exact(*n);
                    break;
                }
                case Step::Kind::raw:
                    conv.send_raw(step.text);
                    break;
                case Step::Kind::split:
                    conv.set_split(true);
                    break;
                case Step::Kind::nosplit:
                    conv.set_split(false);
                    break;
                case Step::Kind::delay:
                    conv.delay(step.ms);
                    break;
                case Step::Kind::drop:
                    conv.close(false);
                    return;
                case Step::Kind::reset:
                    conv.close(true);
                    return;
                case Step::Kind::eof:
                    conv.wait_eof();
                    break;
            }
        }
        conv.wait_eof();
    }

    void start() {
        if (::pipe2(wake.data(), O_CLOEXEC) != 0) {
            throw std::runtime_error("testing::Server cannot create a pipe");
        }
        listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = 0;  // the kernel picks a free port
        if (listener < 0 || ::inet_pton(AF_INET, opts.address.c_str(), &addr.sin_addr) != 1 ||
            ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(listener, 16) != 0) {
            throw std::runtime_error("testing::Server cannot listen on " + opts.address);
        }
        socklen_t len = sizeof addr;
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
        port = ntohs(addr.sin_port);
        thread = std::thread([this] { accept_loop(); });
    }

    void accept_loop() {
        while (!stopping) {
            std::array<pollfd, 2> fds{{{listener, POLLIN, 0}, {wake[0], POLLIN, 0}}};
            if (poll_for(fds, -1) <= 0 || (fds[1].revents & POLLIN) != 0) {
                return;
            }
            const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) {
                continue;
            }
            // Each write leaves at once, so `!split` really sends one byte per segment.
            const int on = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
            std::size_t index = 0;
            {
                const std::lock_guard lock(mutex);
                index = received.size();
                received.emplace_back();
            }
            if (opts.concurrent) {
                workers.emplace_back([this, fd, index] { serve(fd, index); });
            } else {
                serve(fd, index);
            }
        }
    }

    void serve(int fd, std::size_t index) {
        {
            Conn conv(*this, fd, index);
            try {
                handler(conv);
            } catch (const Stop&) {
                // the client went away, or the test is over
            } catch (const std::exception& e) {
                mismatch(std::string("handler failed: ") + e.what());
            }
        }
        {
            const std::lock_guard lock(mutex);
            ++finished;
        }
        finished_cv.notify_all();
    }

    void stop() {
        if (!thread.joinable()) {
            return;
        }
        stopping = true;
        const char byte = 0;
        // Wakes every poll(), for good: the byte is never read.
        [[maybe_unused]] const ssize_t woke = ::write(wake[1], &byte, 1);
        {
            // Also ends a send() blocked on a client that does not read.
            const std::lock_guard lock(mutex);
            for (const int fd : active) {
                ::shutdown(fd, SHUT_RDWR);
            }
        }
        thread.join();
        // Only the accept thread adds workers, and it has ended.
        for (auto& worker : workers) {
            worker.join();
        }
        ::close(listener);
        listener = -1;
    }
};

Server::Server(std::string_view script, Options options)
    : Server(std::vector<std::string>{std::string(script)}, std::move(options)) {}

Server::Server(const std::vector<std::string>& scripts, Options options)
    : impl_(std::make_unique<Impl>()) {
    if (scripts.empty()) {
        throw std::invalid_argument("testing::Server needs at least one script");
    }
    std::vector<std::vector<Step>> parsed;
    parsed.reserve(scripts.size());
    for (const auto& s : scripts) {
        parsed.push_back(parse_script(s));
    }
    impl_->opts = std::move(options);
    Impl* impl = impl_.get();
    // Atomic: with Options::concurrent, connections run at once.
    auto counter = std::make_shared<std::atomic<std::size_t>>(0);
    impl_->handler = [parsed = std::move(parsed), counter, impl](Conversation& conv) {
        const std::size_t i = std::min(counter->fetch_add(1), parsed.size() - 1);
        Impl::run_script(parsed[i], static_cast<Impl::Conn&>(conv), *impl);
    };
    impl_->start();
}

Server::Server(Handler handler, Options options)
    : impl_(std::make_unique<Impl>()) {
    if (!handler) {
        throw std::invalid_argument("testing::Server needs a handler");
    }
    impl_->opts = std::move(options);
    impl_->handler = std::move(handler);
    impl_->start();
}

Server::~Server() = default;

std::uint16_t Server::port() const {
    return impl_->port;
}

const std::string& Server::address() const {
    return impl_->opts.address;
}

bool Server::wait_for(std::size_t count, milliseconds timeout) {
    std::unique_lock lock(impl_->mutex);
    return impl_->finished_cv.wait_for(lock, timeout, [&] { return impl_->finished >= count; });
}

std::string Server::received(std::size_t index) const {
    const std::lock_guard lock(impl_->mutex);
    return index < impl_->received.size() ? impl_->received[index] : std::string();
}

std::size_t Server::connections() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->received.size();
}

std::vector<std::string> Server::mismatches() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->mismatches;
}

void Server::stop() {
    impl_->stop();
}

}  // namespace missive::testing
