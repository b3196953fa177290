#pragma once

// What every database store of the outbox needs to turn its rows into the Store's types and
// back (src/outbox/store_rows.cpp, in missive::outbox): times as milliseconds, states by name,
// a reply's lines and enhanced code as text, and the stored text as a stream of chunk rows.

#include <missive/outbox/store.hpp>
#include <missive/smtp/reply.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace missive::outbox::detail {

/** The stored text is kept in rows of at most this many octets. */
inline constexpr std::size_t chunk_size = std::size_t{64} * 1024;

std::int64_t to_ms(TimePoint t);
TimePoint from_ms(std::int64_t ms);

/** @return the state named by to_string(JobState) (failed for an unknown name). */
JobState job_state_of(std::string_view name);

/** @return the state named by to_string(RecipientState) (pending for an unknown name). */
RecipientState recipient_state_of(std::string_view name);

/** @return a reply's lines joined by LF (as a column holds them). */
std::string join_lines(const std::vector<std::string>& lines);

/** @return the reply's lines from join_lines' text. */
std::vector<std::string> split_lines(const std::string& text);

/** @return "5.1.1" as an enhanced code, or nothing. */
std::optional<smtp::EnhancedCode> parse_enhanced(const std::string& text);

/**
 * @return a stream over the chunks `load(seq, into)` gives, seq 0, 1, 2 … until it returns
 * false: one chunk in memory at a time. `load` may throw (the stream then goes bad).
 */
std::unique_ptr<std::istream> chunk_stream(
    std::function<bool(std::int64_t seq, std::string& into)> load);

}  // namespace missive::outbox::detail
