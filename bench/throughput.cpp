// End-to-end throughput: sends N messages of SIZE octets over one connection with the blocking
// client and prints messages per second. Not a test: it prints figures and never fails on time.
// Usage: throughput HOST PORT N SIZE [nopipe]
#include <missive/missive.hpp>

#include <chrono>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
    if (argc < 5) {
        std::cerr << "usage: throughput HOST PORT N SIZE [nopipe]\n";
        return 64;
    }
    const int n = std::stoi(argv[3]);
    const auto size = static_cast<std::size_t>(std::stoul(argv[4]));
    std::string message = "Subject: throughput\r\n\r\n";
    while (message.size() < size) {
        message += "The quick brown fox jumps over the lazy dog.\r\n";
    }
    missive::client::Options options;
    options.local_name = "bench.missive.test";
    options.pipelining = !(argc > 5 && std::string(argv[5]) == "nopipe");
    missive::client::Client c(options);
    c.connect(argv[1], static_cast<std::uint16_t>(std::stoi(argv[2])));
    const missive::smtp::Envelope env{
        .from = "alice@example.org", .to = {"bob@example.org"}, .params = {}};
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
        (void)c.send(env, message);
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    c.quit();
    std::cout << static_cast<double>(n) / took.count() << '\n';
}
