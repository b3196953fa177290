// The ceiling for bench/run_scale.sh: a plain-socket SMTP client with no missive code. Every
// transaction is formatted in advance, and each message costs one round trip (RFC 2920 3.1):
// after the 354 it writes the body, the dot and the next message's MAIL, RCPTs and DATA in one
// write, then reads the replies, only counting them and checking their first digit. Nothing is
// parsed beyond that, nothing is dot-stuffed (the body has no line starting with '.'), nothing
// is checked for line length: it is what a client could not do faster, not a client.
// Usage: raw_writer HOST PORT COUNT SIZE [RCPTS=1] [CONNECTIONS=1]
// Prints: messages/s, client CPU seconds (getrusage, user + sys, all threads), max RSS KiB.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

class Connection {
public:
    Connection(const char* host, std::uint16_t port)
        : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        if (fd_ < 0 || ::inet_pton(AF_INET, host, &addr.sin_addr) != 1 ||
            ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
            throw std::runtime_error("connect failed");
        }
        const int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }

    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    Connection(Connection&&) = delete;
    Connection& operator=(Connection&&) = delete;

    ~Connection() { ::close(fd_); }

    void write(std::string_view bytes) const {
        while (!bytes.empty()) {
            const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                throw std::runtime_error("write failed");
            }
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
    }

    // Reads until `count` complete replies (a line whose fourth octet is a space) have come;
    // throws unless every one of them starts with 2 or 3.
    void read_replies(int count) {
        while (count > 0) {
            const auto eol = buffer_.find('\n', scanned_);
            if (eol == std::string::npos) {
                scanned_ = buffer_.size();
                char chunk[16384];
                const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
                if (n <= 0) {
                    throw std::runtime_error("connection lost");
                }
                buffer_.append(chunk, static_cast<std::size_t>(n));
                continue;
            }
            if (eol - line_ >= 4 && buffer_[line_ + 3] == ' ') {
                if (buffer_[line_] != '2' && buffer_[line_] != '3') {
                    throw std::runtime_error("refused: " + buffer_.substr(line_, eol - line_));
                }
                --count;
            }
            line_ = scanned_ = eol + 1;
        }
        buffer_.erase(0, line_);
        line_ = scanned_ = 0;
    }

private:
    int fd_;
    std::string buffer_;
    std::size_t line_ = 0;
    std::size_t scanned_ = 0;
};

// One connection's COUNT messages: EHLO, then per message one write and one read.
void run(const char* host, std::uint16_t port, int count, const std::string& body, int rcpts) {
    std::string envelope = "MAIL FROM:<alice@example.org>\r\n";
    for (int r = 0; r < rcpts; ++r) {
        envelope += "RCPT TO:<bob" + std::to_string(r) + "@example.org>\r\n";
    }
    envelope += "DATA\r\n";
    const std::string next = body + ".\r\n" + envelope;  // end of one, start of the next
    const std::string last = body + ".\r\nQUIT\r\n";
    Connection c(host, port);
    c.read_replies(1);
    c.write("EHLO raw.missive.test\r\n");
    c.read_replies(1);
    c.write(envelope);
    c.read_replies(rcpts + 2);  // MAIL, RCPTs, 354
    for (int i = 1; i < count; ++i) {
        c.write(next);
        c.read_replies(rcpts + 3);  // the final 250, then MAIL, RCPTs, 354 of the next
    }
    c.write(last);
    c.read_replies(2);  // 250, 221
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fputs("usage: raw_writer HOST PORT COUNT SIZE [RCPTS=1] [CONNECTIONS=1]\n", stderr);
        return 64;
    }
    const auto port = static_cast<std::uint16_t>(std::atoi(argv[2]));
    const int count = std::atoi(argv[3]);
    const auto size = static_cast<std::size_t>(std::atol(argv[4]));
    const int rcpts = argc > 5 ? std::atoi(argv[5]) : 1;
    const int connections = argc > 6 ? std::atoi(argv[6]) : 1;
    std::string body = "Subject: throughput\r\n\r\n";
    while (body.size() < size) {
        body += "The quick brown fox jumps over the lazy dog.\r\n";
    }
    std::atomic<int> failures = 0;
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < connections; ++t) {
        const int share = count / connections + (t < count % connections ? 1 : 0);
        threads.emplace_back([&, share] {
            try {
                run(argv[1], port, share, body, rcpts);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "raw_writer: %s\n", e.what());
                ++failures;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](timeval tv) {
        return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
    };
    std::printf("%.0f msg/s  %.3f CPU s  %ld KiB max RSS\n", count / took.count(),
                seconds(usage.ru_utime) + seconds(usage.ru_stime), usage.ru_maxrss);
    return failures == 0 ? 0 : 1;
}
