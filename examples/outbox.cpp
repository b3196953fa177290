// The durable outbox: store a message (returns once it is on disk), then deliver what is due.
// Usage: outbox FILE URL FROM TO     e.g. outbox /tmp/outbox.db smtp://127.0.0.1:2525 ada@… bob@…
#include <missive/mime/builder.hpp>
#include <missive/outbox/deliverer.hpp>
#include <missive/outbox/outbox.hpp>
#include <missive/outbox/sqlite_store.hpp>

#include <iostream>

int main(int argc, char** argv) {
    if (argc != 5) {
        std::cerr << "usage: outbox FILE URL FROM TO\n";
        return 64;
    }
    try {
        missive::outbox::SqliteStore store(argv[1]);  // one file, WAL, synchronous=FULL
        missive::outbox::Outbox outbox(store);
        auto message = missive::mime::Builder()
                           .from(argv[3])
                           .to(argv[4])
                           .subject("Your receipt")
                           .text("Thank you.\n")
                           .build();
        // Date and Message-ID are fixed now; a retry of this call with the same key is a no-op.
        const auto job = outbox.enqueue(message, {.idempotency_key = "receipt-1042"});
        std::cout << "queued as job " << job.id << (job.created ? "" : " (already there)") << '\n';

        // A worker (this process here; any number of processes in general).
        missive::outbox::Deliverer deliverer(store, missive::net::Url::parse(argv[2]));
        const auto report = deliverer.run_until_idle();
        std::cout << report.delivered << " delivered, " << report.deferred << " deferred, "
                  << report.held << " held (outcome unknown), " << report.failed << " failed\n";
        std::cout << missive::outbox::to_prometheus(store.stats(missive::outbox::Clock::now()));
    } catch (const missive::Error& e) {
        std::cerr << e.what() << '\n';
        return 1;
    }
}
