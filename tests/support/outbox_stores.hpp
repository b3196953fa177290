#pragma once

// Where the outbox tests keep their queue: a SQLite file in a fresh directory, or a fresh schema
// in the PostgreSQL database named by the environment variable MISSIVE_TEST_POSTGRES (a libpq
// connection string; ctest's postgres fixture sets it). Each test makes its own site, so tests
// are independent; a site opens as many store objects on the same queue as a test needs (one
// per thread or process).

#include <missive/outbox/postgres_store.hpp>
#include <missive/outbox/sqlite_store.hpp>

#include <libpq-fe.h>
#include <stdlib.h>  // mkdtemp
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace missive::test {

/** @return an envelope from `from` to `to` (the outbox tests' usual one by default). */
inline smtp::Envelope envelope(std::vector<std::string> to = {"bob@example.org"},
                               std::string from = "alice@example.org") {
    smtp::Envelope e;
    e.from = std::move(from);
    for (auto& t : to) {
        e.to.emplace_back(std::move(t));
    }
    return e;
}

/** @return a message whose X-Id is `id`, with `body_lines` lines of body. */
inline std::string text(const std::string& id, std::size_t body_lines = 1) {
    std::string t = "X-Id: " + id + "\r\nSubject: outbox\r\n\r\n";
    for (std::size_t i = 0; i < body_lines; ++i) {
        t += "Line " + std::to_string(i) + " of the body, long enough to fill the pieces.\r\n";
    }
    return t;
}

/** @return what is left of `in`. */
inline std::string read_all(std::istream& in) {
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

/** The databases a store test runs on. */
enum class StoreKind { sqlite, postgres };

inline std::string to_string(StoreKind kind) {
    return kind == StoreKind::sqlite ? "sqlite" : "postgres";
}

/** One queue, fresh for one test, removed after it. */
class StoreSite {
public:
    StoreSite() = default;
    StoreSite(const StoreSite&) = delete;
    StoreSite& operator=(const StoreSite&) = delete;
    StoreSite(StoreSite&&) = delete;
    StoreSite& operator=(StoreSite&&) = delete;
    virtual ~StoreSite() = default;

    /** @return a new store object on this queue (its own connection or file handle) */
    [[nodiscard]] virtual std::unique_ptr<outbox::Store> open() const = 0;
};

/** A SQLite file in a fresh directory. */
class SqliteSite final : public StoreSite {
public:
    SqliteSite() {
        std::string tmpl = std::filesystem::temp_directory_path() / "missive-outbox-XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr) {
            throw std::system_error(errno, std::generic_category(), "mkdtemp");
        }
        dir_ = tmpl;
    }

    ~SqliteSite() override {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    SqliteSite(const SqliteSite&) = delete;
    SqliteSite& operator=(const SqliteSite&) = delete;
    SqliteSite(SqliteSite&&) = delete;
    SqliteSite& operator=(SqliteSite&&) = delete;

    [[nodiscard]] std::unique_ptr<outbox::Store> open() const override {
        return std::make_unique<outbox::SqliteStore>(path());
    }

    [[nodiscard]] std::filesystem::path path() const { return dir_ / "sub" / "outbox.db"; }

private:
    std::filesystem::path dir_;
};

/** The connection string of the test database, or "" when MISSIVE_TEST_POSTGRES is unset. */
inline std::string postgres_conninfo() {
    const char* v = std::getenv("MISSIVE_TEST_POSTGRES");  // NOLINT(concurrency-mt-unsafe)
    return v ? v : "";
}

/** A fresh schema (t_<random hex>) in the test database, dropped with everything in it after. */
class PostgresSite final : public StoreSite {
public:
    explicit PostgresSite(std::string conninfo)
        : conninfo_(std::move(conninfo)) {
        std::random_device rd;
        std::mt19937_64 gen((std::uint64_t{rd()} << 32U) ^ rd() ^
                            static_cast<std::uint64_t>(::getpid()));
        constexpr const char* hex = "0123456789abcdef";
        schema_ = "t_";
        for (int i = 0; i < 16; ++i) {
            schema_ += hex[gen() % 16];  // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
        }
        (void)open();  // creates the schema and its tables
    }

    ~PostgresSite() override {
        PGconn* conn = PQconnectdb(conninfo_.c_str());
        if (PQstatus(conn) == CONNECTION_OK) {
            // The name is ours (t_ and hex digits): nothing to quote.
            PQsetNoticeProcessor(
                conn, [](void*, const char*) {}, nullptr);  // "drop cascades to …"
            const std::string drop = "DROP SCHEMA IF EXISTS " + schema_ + " CASCADE";
            PQclear(PQexec(conn, drop.c_str()));
        }
        PQfinish(conn);
    }

    PostgresSite(const PostgresSite&) = delete;
    PostgresSite& operator=(const PostgresSite&) = delete;
    PostgresSite(PostgresSite&&) = delete;
    PostgresSite& operator=(PostgresSite&&) = delete;

    [[nodiscard]] std::unique_ptr<outbox::Store> open() const override {
        return std::make_unique<outbox::PostgresStore>(conninfo_,
                                                       outbox::PostgresOptions{.schema = schema_});
    }

    [[nodiscard]] const std::string& schema() const { return schema_; }

    [[nodiscard]] const std::string& conninfo() const { return conninfo_; }

private:
    std::string conninfo_;
    std::string schema_;
};

/** @return a fresh site of `kind`; nothing for PostgreSQL without MISSIVE_TEST_POSTGRES */
inline std::unique_ptr<StoreSite> make_site(StoreKind kind) {
    if (kind == StoreKind::sqlite) {
        return std::make_unique<SqliteSite>();
    }
    const std::string conninfo = postgres_conninfo();
    if (conninfo.empty()) {
        return nullptr;
    }
    return std::make_unique<PostgresSite>(conninfo);
}

/** Why a PostgreSQL test is skipped. */
inline constexpr const char* no_postgres =
    "MISSIVE_TEST_POSTGRES is not set (a libpq connection string, e.g. "
    "postgresql://postgres@127.0.0.1:5432/missive; ctest's postgres fixture sets it)";

}  // namespace missive::test
