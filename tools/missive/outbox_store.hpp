#pragma once

// Where the CLI's outbox is, and opening it: an SQLite file by default, PostgreSQL by URL.

#include <missive/outbox/store.hpp>

#include <memory>
#include <string>

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

}  // namespace missive::cli
