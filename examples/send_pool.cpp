// A Pool: twenty messages over up to four connections, at most 50 a second, from two threads.
// Usage: send_pool URL FROM TO      e.g. send_pool smtp://127.0.0.1:2525 ada@example.org bob@…
#include <missive/client/pool.hpp>
#include <missive/missive.hpp>

#include <atomic>
#include <iostream>
#include <string>
#include <thread>
#include <utility>

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: send_pool URL FROM TO\n";
        return 64;
    }
    const std::string from = argv[2];
    const std::string to = argv[3];
    try {
        missive::client::Pool pool(missive::net::Url::parse(argv[1]), {},
                                   {.connections = 4, .rate_per_second = 50});
        std::atomic<int> failed{0};
        auto work = [&](int first) {
            for (int i = first; i < 20; i += 2) {
                missive::client::Letter letter(
                    {.from = from, .to = {to}},
                    "Subject: receipt " + std::to_string(i) + "\r\n\r\nThank you.\r\n");
                pool.submit(std::move(letter), [&](const missive::client::Outcome& o) {
                    if (!o.accepted()) {  // after every attempt the PoolOptions allow
                        std::cerr << "letter " << o.index << ": " << o.error->what() << '\n';
                        ++failed;
                    }
                });
            }
        };
        std::thread other(work, 1);
        work(0);
        other.join();
        pool.drain();  // every outcome is in
        const auto stats = pool.stats();
        std::cout << stats.accepted << " accepted over " << stats.connections_opened
                  << " connections, " << stats.retries << " retries\n";
        return failed == 0 ? 0 : 75;
    } catch (const missive::Error& e) {  // a URL or options that contradict each other
        std::cerr << e.what() << '\n';
        return 78;
    }
}
