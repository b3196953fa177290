#include <missive/testing/server.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace missive::testing {

namespace {

// One parsed script step.
struct Step {
    enum class Kind { send, expect, data, bdat, raw, split, nosplit, delay, drop, reset, eof };
    Kind kind;
    std::string text;
    int ms = 0;
};

std::string unescape(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) {
            const char c = s[++i];
            out += c == 'r' ? '\r' : c == 'n' ? '\n' : c == '0' ? '\0' : c;
        } else {
            out += s[i];
        }
    }
    return out;
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
        if (line.rfind("S: ", 0) == 0 || line == "S:") {
            steps.push_back({Step::Kind::send,
                             std::string(line.substr(std::min<std::size_t>(3, line.size()))), 0});
        } else if (line.rfind("C: ", 0) == 0) {
            steps.push_back({Step::Kind::expect, std::string(line.substr(3)), 0});
        } else if (line == "!data") {
            steps.push_back({Step::Kind::data, {}, 0});
        } else if (line == "!bdat") {
            steps.push_back({Step::Kind::bdat, {}, 0});
        } else if (line.rfind("!raw ", 0) == 0) {
            steps.push_back({Step::Kind::raw, unescape(line.substr(5)), 0});
        } else if (line == "!split") {
            steps.push_back({Step::Kind::split, {}, 0});
        } else if (line == "!nosplit") {
            steps.push_back({Step::Kind::nosplit, {}, 0});
        } else if (line.rfind("!delay ", 0) == 0) {
            int ms = 0;
            const std::string_view arg = line.substr(7);
            const auto [ptr, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), ms);
            if (ec != std::errc{} || ptr != arg.data() + arg.size() || ms < 0) {
                throw bad();
            }
            steps.push_back({Step::Kind::delay, {}, ms});
        } else if (line == "!drop") {
            steps.push_back({Step::Kind::drop, {}, 0});
        } else if (line == "!reset") {
            steps.push_back({Step::Kind::reset, {}, 0});
        } else if (line == "!eof") {
            steps.push_back({Step::Kind::eof, {}, 0});
        } else {
            throw bad();
        }
    }
    return steps;
}

// Reading ends the handler quietly: the client went away or took too long.
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
    std::atomic<bool> stopping{false};
    std::array<int, 2> wake{-1, -1};  // a pipe that interrupts poll() when stopping

    mutable std::mutex mutex;
    std::condition_variable finished_cv;
    std::vector<std::string> received;  // per connection
    std::vector<std::string> mismatches;
    std::size_t finished = 0;

    void record(std::size_t index, std::string_view bytes) {
        const std::lock_guard lock(mutex);
        received[index].append(bytes);
    }

    void mismatch(std::string text) {
        const std::lock_guard lock(mutex);
        mismatches.push_back(std::move(text));
    }

    class Conn final : public Conversation {
    public:
        Conn(Impl& server, int fd, std::size_t index)
            : server_(server)
            , fd_(fd)
            , index_(index) {}

        Conn(const Conn&) = delete;
        Conn& operator=(const Conn&) = delete;
        Conn(Conn&&) = delete;
        Conn& operator=(Conn&&) = delete;

        ~Conn() override { close(false); }

        void send_line(std::string_view line) override { send_raw(std::string(line) + "\r\n"); }

        void send_raw(std::string_view bytes) override {
            if (split_) {
                for (char c : bytes) {
                    write_all(std::string_view(&c, 1));
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                }
            } else {
                write_all(bytes);
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
                if (buffer_.rfind(".\r\n", 0) == 0) {
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
            if (reset) {
                const linger l{1, 0};
                ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
            }
            ::close(fd_);
            fd_ = -1;
        }

        void set_split(bool on) override { split_ = on; }

        void delay(std::chrono::milliseconds ms) override {
            const auto until = std::chrono::steady_clock::now() + ms;
            while (!server_.stopping && std::chrono::steady_clock::now() < until) {
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
        }

        [[nodiscard]] const std::string& last_line() const { return last_line_; }

        void remember(std::string line) { last_line_ = std::move(line); }

    private:
        void write_all(std::string_view bytes) const {
            while (!bytes.empty() && fd_ >= 0) {
                const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
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
            const int timeout = static_cast<int>(server_.opts.io_timeout.count());
            if (::poll(fds.data(), fds.size(), timeout) <= 0 || (fds[1].revents & POLLIN) != 0) {
                throw Stop("timeout or stop");
            }
            std::array<char, 65536> chunk{};
            const ssize_t n = ::recv(fd_, chunk.data(), chunk.size(), 0);
            if (n <= 0) {
                throw Stop("eof");
            }
            const std::string_view got(chunk.data(), static_cast<std::size_t>(n));
            server_.record(index_, got);
            buffer_.append(got);
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
                    // "BDAT <n> [LAST]" from the previous C: line.
                    const std::string& cmd = conv.last_line();
                    std::size_t n = 0;
                    const std::size_t at = cmd.find(' ');
                    if (at != std::string::npos) {
                        const char* begin = cmd.data() + at + 1;
                        std::from_chars(begin, cmd.data() + cmd.size(), n);
                    }
                    (void)conv.read_exact(n);
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
                    conv.delay(std::chrono::milliseconds(step.ms));
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
        if (::pipe(wake.data()) != 0) {
            throw std::runtime_error("pipe failed");
        }
        listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = 0;
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
            if (::poll(fds.data(), fds.size(), -1) <= 0 || (fds[1].revents & POLLIN) != 0) {
                return;
            }
            const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) {
                continue;
            }
            std::size_t index = 0;
            {
                const std::lock_guard lock(mutex);
                index = received.size();
                received.emplace_back();
            }
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
    }

    void stop() {
        if (!thread.joinable()) {
            return;
        }
        stopping = true;
        const char byte = 0;
        // Wakes poll(); if the pipe were full it would be awake already.
        [[maybe_unused]] const ssize_t woke = ::write(wake[1], &byte, 1);
        thread.join();
        ::close(listener);
        ::close(wake[0]);
        ::close(wake[1]);
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
    auto counter = std::make_shared<std::size_t>(0);
    impl_->handler = [parsed = std::move(parsed), counter, impl](Conversation& conv) {
        const std::size_t i = std::min(*counter, parsed.size() - 1);
        ++*counter;
        Impl::run_script(parsed[i], static_cast<Impl::Conn&>(conv), *impl);
    };
    impl_->start();
}

Server::Server(Handler handler, Options options)
    : impl_(std::make_unique<Impl>()) {
    impl_->opts = std::move(options);
    impl_->handler = std::move(handler);
    impl_->start();
}

Server::~Server() {
    impl_->stop();
}

std::uint16_t Server::port() const {
    return impl_->port;
}

const std::string& Server::address() const {
    return impl_->opts.address;
}

bool Server::wait_for(std::size_t count, std::chrono::milliseconds timeout) {
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
