// STARTTLS with a new connection per message: sends N messages, each on a connection of its own
// (connect, EHLO, STARTTLS, EHLO, MAIL, RCPT, DATA, QUIT), and prints messages per second and the
// client's CPU time per connection (user + system, from getrusage). Not a test: it prints
// figures and never fails on time.
// Usage: starttls_connections HOST PORT CA_FILE N [reuse|new]
//   CA_FILE: "-" for the system's trust store (OpenSSL's default paths; SSL_CERT_FILE applies)
//   reuse: one Client reconnects for every message (its TLS sessions resume)
//   new:   a new Client for every message, as missive::send does
#include <missive/missive.hpp>

#include <sys/resource.h>

#include <chrono>
#include <iostream>
#include <string>

namespace {

double cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 5) {
        std::cerr << "usage: starttls_connections HOST PORT CA_FILE N [reuse|new]\n";
        return 64;
    }
    const std::string host = argv[1];
    const auto port = static_cast<std::uint16_t>(std::stoi(argv[2]));
    const int n = std::stoi(argv[4]);
    const bool reuse = !(argc > 5 && std::string(argv[5]) == "new");
    missive::client::Options options;
    options.local_name = "bench.missive.test";
    options.tls = missive::client::TlsMode::starttls_required;
    if (std::string(argv[3]) != "-") {
        options.tls_options.ca_file = argv[3];
    }
    const std::string message = "Subject: starttls\r\n\r\nOne connection per message.\r\n";
    const missive::smtp::Envelope env{
        .from = "alice@example.org", .to = {"bob@example.org"}, .params = {}};
    missive::client::Client reused(options);
    const double cpu_start = cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
        if (reuse) {
            reused.connect(host, port);
            (void)reused.send(env, message);
            reused.quit();
        } else {
            missive::client::Client c(options);
            c.connect(host, port);
            (void)c.send(env, message);
            c.quit();
        }
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    const double cpu = cpu_seconds() - cpu_start;
    std::cout << static_cast<double>(n) / took.count() << ' ' << cpu * 1000 / n << '\n';
}
