#include "outbox_store.hpp"

#include <missive/error.hpp>
#include <missive/outbox/sqlite_store.hpp>

#include "text.hpp"

#include <cstdlib>
#include <filesystem>
#include <string_view>

namespace missive::cli {

namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read before any thread
    return v == nullptr ? std::string() : std::string(v);
}

}  // namespace

std::string outbox_location(const std::string& flag) {
    if (!flag.empty()) {
        return flag;
    }
    if (std::string v = env("MISSIVE_OUTBOX"); !v.empty()) {
        return v;
    }
    // XDG Base Directory: state that should persist, not precious enough for $XDG_DATA_HOME.
    // A relative value is invalid there and ignored.
    if (const std::string state = env("XDG_STATE_HOME"); !state.empty() && state[0] == '/') {
        return (std::filesystem::path(state) / "missive" / "outbox.db").string();
    }
    if (const std::string home = env("HOME"); !home.empty() && home[0] == '/') {
        return (std::filesystem::path(home) / ".local" / "state" / "missive" / "outbox.db")
            .string();
    }
    throw Error(errc::config,
                "no outbox: set --outbox, MISSIVE_OUTBOX, XDG_STATE_HOME or HOME (messages are "
                "never stored in the working directory)");
}

bool is_postgres(const std::string& where) {
    return where.starts_with("postgresql://") || where.starts_with("postgres://");
}

std::unique_ptr<outbox::Store> open_outbox(const std::string& where) {
    if (is_postgres(where)) {
        throw Error(errc::config, "this missive was built without PostgreSQL support");
    }
    return std::make_unique<outbox::SqliteStore>(where);
}

std::string display_outbox(const std::string& where) {
    if (!is_postgres(where)) {
        return printable(where);
    }
    // postgresql://user:password@host…: the password goes.
    const std::size_t scheme = where.find("://") + 3;
    const std::size_t at = where.find('@', scheme);
    const std::size_t colon = where.find(':', scheme);
    if (at == std::string::npos || colon == std::string::npos || colon > at) {
        return printable(where);
    }
    return printable(where.substr(0, colon) + ":***" + where.substr(at));
}

}  // namespace missive::cli
