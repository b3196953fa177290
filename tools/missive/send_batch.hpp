#pragma once

// missive send --batch FILE.jsonl (see batch.hpp for how a batch runs).

#include "deliver.hpp"

#include <cstddef>
#include <filesystem>
#include <string>

namespace missive::cli {

/** The flags of `missive send` that only --batch uses. */
struct BatchFlags {
    std::string batch{};            ///< --batch FILE, or - for standard input
    std::string results{};          ///< --results FILE; "" for default_results_path(batch)
    std::size_t connections = 4;    ///< --connections
    double rate = 0;                ///< --rate, messages per second; 0: no limit
    double rate_per_minute = 0;     ///< --rate-per-minute; 0: no limit
    bool retry_failed = false;      ///< --retry-failed
    bool quiet = false;             ///< --quiet
    double progress_interval = 10;  ///< --progress-interval, seconds (not on a terminal)
};

/** @return the default results file of a batch: FILE without .jsonl (or .json), then
 * ".results.jsonl" (orders.jsonl → orders.results.jsonl) */
std::filesystem::path default_results_path(const std::string& batch);

/**
 * Runs `missive send --batch`.
 * @param default_from the sender of lines without "from" (--from, else the account's)
 * @return 0 when every message was accepted (by at least one recipient), else the exit status
 * of the worst outcome (worse_exit)
 * @throws UsageError, InputError, Error errc::config
 */
int send_batch(const BatchFlags& flags, const Target& target, const std::string& default_from);

/**
 * Runs `missive send --batch` into the outbox (--queue, or no server configured): each line is
 * queued, its "id" as the idempotency key (queued once however often the batch is run).
 * @return 0, or the worst exit status of the invalid lines
 * @throws UsageError, InputError, Error errc::storage (what was queued before stays)
 */
int queue_batch(const BatchFlags& flags, const Target& target, const std::string& default_from);

}  // namespace missive::cli
