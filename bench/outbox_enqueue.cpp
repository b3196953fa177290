// Enqueue rate of the durable outbox: messages/s of Outbox::enqueue with ready text, one
// transaction each (the durable contract: enqueue returns once the job is committed and synced),
// for 1 KB and 100 KB messages, into SQLite (a fresh file in a temporary directory, WAL,
// synchronous=FULL as SqliteStore sets it) and, when built with missive::outbox_postgres and
// given --postgres=CONNINFO, into PostgreSQL (a fresh schema per run, dropped after it).
// Each run enqueues COUNT messages into a fresh store from one thread; the line printed per
// store and size holds the median, lowest and highest of the runs. Not a test: it never fails
// on time.
// Usage: outbox_enqueue [--runs=3] [--small=2000] [--large=300] [--dir=/tmp]
//                       [--postgres=CONNINFO] [--tsv]
//   --small, --large  messages per run of 1 KB and of 100 KB (0: that size is skipped)
//   --tsv             one line per run instead: store, size, run, messages, seconds, msg/s
#include <missive/outbox/outbox.hpp>
#include <missive/outbox/sqlite_store.hpp>
#ifdef MISSIVE_BENCH_HAVE_POSTGRES
#include <missive/outbox/postgres_store.hpp>

#include <libpq-fe.h>
#endif

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace outbox = missive::outbox;

struct Config {
    int runs = 3;
    std::size_t small = 2000;
    std::size_t large = 300;
    std::string dir = "/tmp";
    std::string postgres;
    bool tsv = false;
};

// A ready message of `size` octets: a header, then lines of 76 letters and CRLF.
std::string message_of(std::size_t size) {
    std::string m =
        "From: alice@example.org\r\nTo: bob@example.org\r\nSubject: outbox enqueue bench\r\n"
        "Message-ID: <bench@missive.test>\r\n\r\n";
    const std::string line = std::string(76, 'x') + "\r\n";
    while (m.size() + line.size() <= size) {
        m += line;
    }
    m.append(size - m.size(), 'y');
    return m;
}

// Enqueues `count` copies of `text` into `store`, one transaction each. @return seconds
double enqueue_all(outbox::Store& store, std::size_t count, std::string_view text) {
    outbox::Outbox box(store);
    missive::smtp::Envelope envelope;
    envelope.from = "alice@example.org";
    envelope.to.emplace_back("bob@example.org");
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < count; ++i) {
        (void)box.enqueue(envelope, text);
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One run into a fresh store: opens it with `open`, enqueues, lets `drop` clean up.
using Open = std::function<std::unique_ptr<outbox::Store>(int run)>;
using Drop = std::function<void(int run)>;

struct Row {
    std::string store;
    std::size_t size = 0;
    std::vector<double> rates;  // messages/s, one per run
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

Row measure(const Config& c, const std::string& name, std::size_t size, std::size_t count,
            const Open& open, const Drop& drop) {
    Row row{name, size, {}};
    const std::string text = message_of(size);
    for (int run = 1; run <= c.runs; ++run) {
        double seconds = 0;
        {
            const std::unique_ptr<outbox::Store> store = open(run);
            seconds = enqueue_all(*store, count, text);
        }
        drop(run);
        const double rate = static_cast<double>(count) / seconds;
        row.rates.push_back(rate);
        if (c.tsv) {
            std::printf("%s\t%zu\t%d\t%zu\t%.4f\t%.1f\n", name.c_str(), size, run, count, seconds,
                        rate);
            std::fflush(stdout);
        }
    }
    return row;
}

#ifdef MISSIVE_BENCH_HAVE_POSTGRES
// Runs one statement on its own connection (schema clean-up), failing loudly.
void pg_exec(const std::string& conninfo, const std::string& sql) {
    PGconn* conn = PQconnectdb(conninfo.c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
        std::string why = PQerrorMessage(conn);
        PQfinish(conn);
        throw std::runtime_error("postgres: " + why);
    }
    PGresult* r = PQexec(conn, sql.c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    std::string why = ok ? "" : PQerrorMessage(conn);
    PQclear(r);
    PQfinish(conn);
    if (!ok) {
        throw std::runtime_error("postgres: " + sql + ": " + why);
    }
}
#endif

int usage() {
    std::cerr << "usage: outbox_enqueue [--runs=3] [--small=2000] [--large=300] [--dir=/tmp] "
                 "[--postgres=CONNINFO] [--tsv]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    Config c;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a(argv[i]);  // NOLINT: argv
        const std::size_t eq = a.find('=');
        const std::string_view key = a.substr(0, eq);
        const std::string value(eq == std::string_view::npos ? "" : a.substr(eq + 1));
        if (key == "--runs" && !value.empty()) {
            c.runs = std::max(1, std::atoi(value.c_str()));
        } else if (key == "--small" && !value.empty()) {
            c.small = std::strtoull(value.c_str(), nullptr, 10);
        } else if (key == "--large" && !value.empty()) {
            c.large = std::strtoull(value.c_str(), nullptr, 10);
        } else if (key == "--dir" && !value.empty()) {
            c.dir = value;
        } else if (key == "--postgres" && !value.empty()) {
            c.postgres = value;
        } else if (a == "--tsv") {
            c.tsv = true;
        } else {
            return usage();
        }
    }
#ifndef MISSIVE_BENCH_HAVE_POSTGRES
    if (!c.postgres.empty()) {
        std::cerr << "outbox_enqueue: built without missive::outbox_postgres\n";
        return 2;
    }
#endif
    try {
        std::string pattern = c.dir + "/missive-enqueue.XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) {
            std::perror("mkdtemp");
            return 1;
        }
        const std::filesystem::path tmp(pattern);
        std::vector<Row> rows;
        const std::vector<std::pair<std::size_t, std::size_t>> sizes{{1024, c.small},
                                                                     {102400, c.large}};
        for (const auto& [size, count] : sizes) {
            if (count == 0) {
                continue;
            }
            const auto file = [&](int run) {
                return tmp / ("outbox-" + std::to_string(size) + "-" + std::to_string(run) + ".db");
            };
            rows.push_back(measure(
                c, "sqlite", size, count,
                [&](int run) { return std::make_unique<outbox::SqliteStore>(file(run)); },
                [&](int run) {
                    for (const char* suffix : {"", "-wal", "-shm"}) {
                        std::filesystem::remove(file(run).string() + suffix);
                    }
                }));
#ifdef MISSIVE_BENCH_HAVE_POSTGRES
            if (!c.postgres.empty()) {
                const auto schema = [&](int run) {
                    return "missive_bench_" + std::to_string(::getpid()) + "_" +
                           std::to_string(size) + "_" + std::to_string(run);
                };
                rows.push_back(measure(
                    c, "postgres", size, count,
                    [&](int run) {
                        outbox::PostgresOptions o;
                        o.schema = schema(run);
                        return std::make_unique<outbox::PostgresStore>(c.postgres, o);
                    },
                    [&](int run) {
                        pg_exec(c.postgres,
                                "SET client_min_messages = warning; DROP SCHEMA IF EXISTS " +
                                    schema(run) + " CASCADE");
                    }));
            }
#endif
        }
        std::filesystem::remove_all(tmp);
        if (!c.tsv) {
            std::printf("enqueue, ready text, one transaction each: messages/s over %d runs\n",
                        c.runs);
            std::printf("%-9s %7s %7s %9s %9s %9s %9s\n", "store", "size", "count", "median",
                        "lowest", "highest", "MB/s");
            for (const Row& r : rows) {
                const double m = median(r.rates);
                std::printf("%-9s %7zu %7zu %9.1f %9.1f %9.1f %9.2f\n", r.store.c_str(), r.size,
                            r.size == 1024 ? c.small : c.large, m,
                            *std::min_element(r.rates.begin(), r.rates.end()),
                            *std::max_element(r.rates.begin(), r.rates.end()),
                            m * static_cast<double>(r.size) / 1e6);
            }
        }
    } catch (const std::exception& e) {
        std::cerr << "outbox_enqueue: " << e.what() << '\n';
        return 1;
    }
    return 0;
}
