#include "store_rows.hpp"

#include <algorithm>
#include <cstdio>
#include <streambuf>
#include <utility>

namespace missive::outbox::detail {

std::int64_t to_ms(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

TimePoint from_ms(std::int64_t ms) {
    return TimePoint(std::chrono::milliseconds(ms));
}

JobState job_state_of(std::string_view name) {
    for (const JobState state : {JobState::queued, JobState::in_flight, JobState::held,
                                 JobState::done, JobState::failed}) {
        if (name == to_string(state)) {
            return state;
        }
    }
    return JobState::failed;
}

RecipientState recipient_state_of(std::string_view name) {
    for (const RecipientState state : {RecipientState::pending, RecipientState::accepted,
                                       RecipientState::refused, RecipientState::unknown}) {
        if (name == to_string(state)) {
            return state;
        }
    }
    return RecipientState::pending;
}

std::string join_lines(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) {
        if (!out.empty()) {
            out += '\n';
        }
        out += l;
    }
    return out;
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    for (std::size_t at = 0; at <= text.size();) {
        const std::size_t nl = std::min(text.find('\n', at), text.size());
        lines.push_back(text.substr(at, nl - at));
        at = nl + 1;
    }
    return lines;
}

std::optional<smtp::EnhancedCode> parse_enhanced(const std::string& text) {
    smtp::EnhancedCode e;
    if (std::sscanf(text.c_str(), "%d.%d.%d", &e.klass, &e.subject, &e.detail) == 3) {  // NOLINT
        return e;
    }
    return std::nullopt;
}

namespace {

// The stored text, one chunk row at a time.
class ChunkBuf final : public std::streambuf {
public:
    using Load = std::function<bool(std::int64_t seq, std::string& into)>;

    explicit ChunkBuf(Load load)
        : load_(std::move(load)) {}

protected:
    int_type underflow() override {
        if (gptr() < egptr()) {
            return traits_type::to_int_type(*gptr());
        }
        if (!load_(seq_, chunk_)) {
            return traits_type::eof();
        }
        ++seq_;
        char* begin = chunk_.data();
        setg(begin, begin, begin + chunk_.size());  // NOLINT: pointer arithmetic of streambuf
        return chunk_.empty() ? traits_type::eof() : traits_type::to_int_type(*gptr());
    }

private:
    Load load_;
    std::int64_t seq_ = 0;
    std::string chunk_;
};

class ChunkStream final : public std::istream {
public:
    explicit ChunkStream(ChunkBuf::Load load)
        : std::istream(nullptr)
        , buf_(std::move(load)) {
        rdbuf(&buf_);
    }

private:
    ChunkBuf buf_;
};

}  // namespace

std::unique_ptr<std::istream> chunk_stream(
    std::function<bool(std::int64_t seq, std::string& into)> load) {
    return std::make_unique<ChunkStream>(std::move(load));
}

}  // namespace missive::outbox::detail
