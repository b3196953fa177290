#include "outbox_store.hpp"

#include <missive/error.hpp>
#include <missive/outbox/postgres_store.hpp>
#include <missive/outbox/sqlite_store.hpp>

#include "text.hpp"

#include <array>
#include <chrono>
#include <charconv>
#include <cstdlib>
#include <ctime>
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
        return std::make_unique<outbox::PostgresStore>(where);
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

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
    double value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value, std::chars_format::fixed);
    if (ec != std::errc{} || !(value > 0) || value > 1e9) {
        return std::nullopt;
    }
    const std::string_view unit(ptr, static_cast<std::size_t>(end - ptr));
    double seconds = value;
    if (unit == "m") {
        seconds *= 60;
    } else if (unit == "h") {
        seconds *= 3600;
    } else if (unit == "d") {
        seconds *= 86400;
    } else if (!unit.empty() && unit != "s") {
        return std::nullopt;
    }
    if (seconds > 86400.0 * 3650) {
        return std::nullopt;
    }
    return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

std::string format_age(std::chrono::seconds d) {
    const auto s = d.count();
    if (s < 120) {
        return std::to_string(std::max<std::int64_t>(s, 0)) + "s";
    }
    if (s < 7200) {
        return std::to_string(s / 60) + "m";
    }
    if (s < 172800) {
        return std::to_string(s / 3600) + "h";
    }
    return std::to_string(s / 86400) + "d";
}

std::string format_time(outbox::TimePoint t) {
    const std::time_t time = outbox::Clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&time, &tm);
    std::array<char, 32> out{};
    std::strftime(out.data(), out.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return out.data();
}

std::string format_time_ms(outbox::TimePoint t) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
    const auto fraction = ((ms.count() % 1000) + 1000) % 1000;
    std::string out = format_time(outbox::TimePoint(std::chrono::floor<std::chrono::seconds>(t)));
    const std::string digits = std::to_string(1000 + fraction).substr(1);
    out.insert(out.size() - 1, "." + digits);
    return out;
}

std::string_view state_name(const outbox::Job& job) {
    if (job.state == outbox::JobState::queued && job.attempts > 0) {
        return "deferred";
    }
    return outbox::to_string(job.state);
}

std::string job_json(const outbox::Job& job) {
    std::string out =
        "{\"id\":" + std::to_string(job.id) + ",\"state\":" + json_string(state_name(job)) +
        ",\"from\":" + json_string(job.envelope.from) +
        ",\"created\":" + json_string(format_time(job.created)) +
        ",\"due\":" + json_string(format_time(job.due)) + ",\"size\":" + std::to_string(job.size) +
        ",\"attempts\":" + std::to_string(job.attempts) +
        ",\"idempotency_key\":" + json_string(job.idempotency_key) +
        ",\"last_error\":" + json_string(job.last_error) + ",\"recipients\":[";
    for (std::size_t i = 0; i < job.recipients.size(); ++i) {
        const outbox::RecipientRecord& r = job.recipients[i];
        out += (i == 0 ? "" : ",");
        out += "{\"address\":" + json_string(r.recipient.address) +
               ",\"state\":" + json_string(outbox::to_string(r.state));
        if (r.reply) {
            out += ",\"code\":" + std::to_string(r.reply->code) + ",\"enhanced\":" +
                   (r.reply->enhanced ? json_string(r.reply->enhanced->to_string()) : "null") +
                   ",\"text\":" + json_string(r.reply->text());
        } else {
            out += R"(,"code":null,"enhanced":null,"text":"")";
        }
        out += ",\"note\":" + json_string(r.note) + "}";
    }
    return out + "]}";
}

}  // namespace missive::cli
