// Links the installed outbox and its SQLite store.
#include <missive/outbox/outbox.hpp>
#include <missive/outbox/sqlite_store.hpp>

#include <filesystem>
#include <iostream>

int main() {
    const auto path = std::filesystem::temp_directory_path() / "missive-install-outbox.db";
    {
        missive::outbox::SqliteStore store(path);
        missive::outbox::Outbox outbox(store);
        const auto job = outbox.enqueue({.from = "a@example.org", .to = {"b@example.org"}},
                                        "Subject: hi\r\n\r\nHello.\r\n");
        std::cout << "job " << job.id << '\n';
    }
    std::filesystem::remove(path);
}
