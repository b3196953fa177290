// The results file of `missive send --batch`: one JSON line per message, and reading it back
// to resume.
#include <missive/error.hpp>

#include "batch.hpp"
#include "exit_codes.hpp"
#include "message_input.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <system_error>

namespace missive::cli {

namespace {

using nlohmann::json;

json reply_json(const smtp::Reply& r) {
    return {{"code", r.code},
            {"enhanced", r.enhanced ? json(r.enhanced->to_string()) : json(nullptr)},
            {"text", r.text()}};
}

std::string utc_time(std::chrono::system_clock::time_point when) {
    const std::time_t t = std::chrono::system_clock::to_time_t(when);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::array<char, 32> buf{};
    std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf.data();
}

std::optional<BatchStatus> status_named(std::string_view name) {
    for (const BatchStatus s :
         {BatchStatus::accepted, BatchStatus::partial, BatchStatus::refused, BatchStatus::deferred,
          BatchStatus::unknown, BatchStatus::invalid}) {
        if (status_name(s) == name) {
            return s;
        }
    }
    return std::nullopt;
}

}  // namespace

std::string_view status_name(BatchStatus s) {
    switch (s) {
        case BatchStatus::accepted:
            return "accepted";
        case BatchStatus::partial:
            return "partial";
        case BatchStatus::refused:
            return "refused";
        case BatchStatus::deferred:
            return "deferred";
        case BatchStatus::unknown:
            return "unknown";
        case BatchStatus::invalid:
            return "invalid";
    }
    return "unknown";
}

BatchStatus status_of(const client::Outcome& o) {
    if (!o.error) {
        return o.result.all_accepted() ? BatchStatus::accepted : BatchStatus::partial;
    }
    if (o.error->outcome_unknown()) {
        return BatchStatus::unknown;
    }
    // Delivered to some recipients before the failure (a letter split over transactions): not
    // to be sent again as a whole, which --retry-failed would do to a deferred one.
    if (std::any_of(o.result.recipients.begin(), o.result.recipients.end(),
                    [](const smtp::RecipientResult& r) { return r.accepted; })) {
        return BatchStatus::partial;
    }
    if (o.error->kind() == errc::invalid_input) {
        return BatchStatus::invalid;  // refused by the library before anything was sent
    }
    if (o.error->transient()) {
        return BatchStatus::deferred;
    }
    return BatchStatus::refused;
}

std::string batch_key(const std::optional<std::string>& id, std::size_t line) {
    // Different prefixes: an id "7" is not line 7.
    return id ? "id:" + *id : "line:" + std::to_string(line);
}

std::string result_record(const std::optional<std::string>& id, std::size_t line,
                          BatchStatus status, const client::Outcome* outcome,
                          const std::string& error_kind, const std::string& error_message,
                          std::chrono::system_clock::time_point when) {
    // The keys in this order (ordered_json): what a person reading the file looks for first.
    nlohmann::ordered_json r;
    r["id"] = id ? json(*id) : json(nullptr);
    r["line"] = line;
    r["status"] = status_name(status);
    r["attempts"] = outcome != nullptr ? outcome->attempts : 0;
    json recipients = json::array();
    json reply = nullptr;
    std::string queue_id;
    if (outcome != nullptr) {
        const smtp::SendResult& result = outcome->result;
        queue_id = result.queue_id;
        if (result.data_reply) {
            reply = reply_json(*result.data_reply);
        } else if (outcome->error && outcome->error->reply()) {
            reply = reply_json(*outcome->error->reply());
        }
        for (const auto& rc : result.recipients) {
            json one = reply_json(rc.reply);
            one["address"] = rc.address;
            one["accepted"] = rc.accepted;
            recipients.push_back(std::move(one));
        }
    }
    r["queue_id"] = queue_id;
    r["reply"] = reply;
    r["recipients"] = recipients;
    if (error_kind.empty()) {
        r["error"] = nullptr;
    } else {
        r["error"] = {{"kind", error_kind}, {"message", error_message}};
    }
    r["time"] = utc_time(when);
    // Server text may hold invalid UTF-8: replaced (U+FFFD), never a throw.
    return r.dump(-1, ' ', false, json::error_handler_t::replace);
}

PriorResults read_results(const std::filesystem::path& path) {
    PriorResults prior;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        return prior;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw InputError("--results '" + path.string() +
                         "' cannot be read: " + std::generic_category().message(errno));
    }
    std::string text;
    while (std::getline(in, text)) {
        if (text.empty()) {
            continue;
        }
        const json r = json::parse(text, nullptr, false);
        const auto status = r.is_object() && r.contains("status") && r["status"].is_string()
                                ? status_named(r["status"].get<std::string>())
                                : std::nullopt;
        if (!status || !r.contains("line") || !r["line"].is_number_unsigned() ||
            !r.contains("id") || !(r["id"].is_string() || r["id"].is_null())) {
            ++prior.unreadable_lines;  // a line cut by a crash, or not ours
            continue;
        }
        const std::optional<std::string> id =
            r["id"].is_string() ? std::optional(r["id"].get<std::string>()) : std::nullopt;
        prior.latest[batch_key(id, r["line"].get<std::size_t>())] = *status;
    }
    if (in.bad()) {
        throw InputError("--results '" + path.string() + "' cannot be read");
    }
    return prior;
}

ResultsFile::ResultsFile(const std::filesystem::path& path, std::chrono::milliseconds sync_every)
    : name_(path.string())
    , sync_every_(sync_every)
    , last_sync_(std::chrono::steady_clock::now()) {
    fd_ = ::open(name_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) {
        throw InputError("--results '" + name_ +
                         "' cannot be written: " + std::generic_category().message(errno));
    }
    // A line cut by an earlier crash would glue onto the first new record: end it.
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec && size > 0) {
        std::ifstream in(path, std::ios::binary);
        in.seekg(static_cast<std::streamoff>(size - 1));
        if (in.get() != '\n') {
            append("");
        }
    }
}

ResultsFile::~ResultsFile() {
    if (fd_ >= 0) {
        ::fsync(fd_);
        ::close(fd_);
    }
}

void ResultsFile::append(const std::string& record) {
    std::string line = record + '\n';
    const std::lock_guard lock(mutex_);
    std::string_view rest = line;
    while (!rest.empty()) {
        const ssize_t n = ::write(fd_, rest.data(), rest.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            throw InputError("writing --results '" + name_ +
                             "' failed: " + std::generic_category().message(errno));
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    if (const auto now = std::chrono::steady_clock::now(); now - last_sync_ >= sync_every_) {
        ::fdatasync(fd_);
        last_sync_ = now;
    }
}

void ResultsFile::sync() {
    const std::lock_guard lock(mutex_);
    ::fsync(fd_);
}

}  // namespace missive::cli
