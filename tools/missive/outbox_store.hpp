#pragma once

// Where the CLI's outbox is, and opening it: an SQLite file by default, PostgreSQL by URL.

#include <missive/outbox/store.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace missive::cli {

/**
 * @return the outbox to use: `flag` when given, else MISSIVE_OUTBOX, else
 * $XDG_STATE_HOME/missive/outbox.db, else $HOME/.local/state/missive/outbox.db
 * @throws Error errc::config when none of them is set: never the working directory
 */
std::string outbox_location(const std::string& flag);

/** @return true when `where` names a PostgreSQL database (postgresql:// or postgres://). */
bool is_postgres(const std::string& where);

/**
 * Opens the outbox at `where` (outbox_location's result): a PostgreSQL URL, else an SQLite file
 * (created 0600, its directories 0700).
 * @throws Error errc::storage when it cannot be opened
 */
std::unique_ptr<outbox::Store> open_outbox(const std::string& where);

/** @return `where` as it may be printed: a URL's password redacted. */
std::string display_outbox(const std::string& where);

/** @return a duration such as "90", "90s", "15m", "2h" or "7d" (seconds without a unit), or
 * nothing when `text` is not one (or is not above zero) */
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

/** @return `d` in words for people: "45s", "12m", "3h", "2d". */
std::string format_age(std::chrono::seconds d);

/** @return `t` as ISO 8601 UTC, "2026-11-29T06:30:00Z". */
std::string format_time(outbox::TimePoint t);

/** @return `t` as ISO 8601 UTC with milliseconds, "2026-11-29T06:30:00.250Z": the attempt log
 * of `queue show --json`, where the order of two attempts within a second matters. */
std::string format_time_ms(outbox::TimePoint t);

/** @return "deferred" for a queued job with attempts behind it, else to_string(state). */
std::string_view state_name(const outbox::Job& job);

/** @return `job` as one JSON object (envelope, state, recipients with their replies). */
std::string job_json(const outbox::Job& job);

}  // namespace missive::cli
