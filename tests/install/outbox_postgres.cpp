// Links the installed outbox and its PostgreSQL store. Needs no server: a connection string that
// does not parse fails before any connection.
#include <missive/error.hpp>
#include <missive/outbox/postgres_store.hpp>

#include <iostream>

int main() {
    try {
        missive::outbox::PostgresStore store("host=localhost port");
    } catch (const missive::Error& e) {
        std::cout << e.what() << '\n';
        return e.code() == missive::errc::config ? 0 : 1;
    }
    return 1;
}
