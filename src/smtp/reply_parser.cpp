#include <missive/smtp/reply_parser.hpp>

#include <array>
#include <utility>

namespace missive::smtp {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Parses "d.ddd.ddd " at the start of `text` (RFC 3463: class 2, 4 or 5; subject and detail of
// one to three digits). On success removes it from `text`.
std::optional<EnhancedCode> take_enhanced(std::string& text, int reply_class) {
    std::size_t i = 0;
    std::array<int, 3> parts{};
    for (std::size_t p = 0; p < 3; ++p) {
        std::size_t digits = 0;
        int value = 0;
        while (i < text.size() && is_digit(text[i]) && digits < 4) {
            value = value * 10 + (text[i] - '0');
            ++i;
            ++digits;
        }
        const std::size_t max_digits = p == 0 ? 1 : 3;
        if (digits == 0 || digits > max_digits) {
            return std::nullopt;
        }
        parts[p] = value;
        if (p < 2) {
            if (i >= text.size() || text[i] != '.') {
                return std::nullopt;
            }
            ++i;
        }
    }
    if (parts[0] != reply_class) {
        return std::nullopt;
    }
    if (i < text.size() && text[i] != ' ') {
        return std::nullopt;
    }
    text.erase(0, i < text.size() ? i + 1 : i);
    return EnhancedCode{parts[0], parts[1], parts[2]};
}

}  // namespace

ReplyParser::ReplyParser(Limits limits)
    : limits_(limits) {}

void ReplyParser::feed(std::string_view bytes) {
    if (failed()) {
        return;
    }
    // Compact before growing, so the buffer holds at most one line plus one read.
    if (pos_ > 0 && pos_ == buffer_.size()) {
        buffer_.clear();
        pos_ = 0;
    } else if (pos_ > 4096 && pos_ > buffer_.size() / 2) {
        buffer_.erase(0, pos_);
        pos_ = 0;
    }
    buffer_.append(bytes);
}

void ReplyParser::discard() {
    buffer_.clear();
    pos_ = 0;
    partial_.reset();
}

bool ReplyParser::fail(std::string message) {
    error_ = std::move(message);
    buffer_.clear();
    pos_ = 0;
    partial_.reset();
    return false;
}

bool ReplyParser::take_line(std::string_view& line) {
    const std::string_view rest = std::string_view(buffer_).substr(pos_);
    const std::size_t lf = rest.find('\n');
    if (lf == std::string_view::npos) {
        if (rest.size() > limits_.max_line_length + 1) {  // +1: a CR may still be coming
            fail("reply line longer than " + std::to_string(limits_.max_line_length) + " bytes");
        }
        return false;
    }
    line = rest.substr(0, lf);
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    if (line.size() > limits_.max_line_length) {
        fail("reply line longer than " + std::to_string(limits_.max_line_length) + " bytes");
        return false;
    }
    pos_ += lf + 1;
    return true;
}

std::optional<Reply> ReplyParser::next() {
    std::string_view line;
    while (!failed() && take_line(line)) {
        // RFC 5321 4.2: Reply-code = %x32-35 %x30-35 %x30-39, then SP or "-" or the end.
        if (line.size() < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '5' ||
            !is_digit(line[2])) {
            fail("malformed reply line: '" + std::string(line.substr(0, 80)) + "'");
            return std::nullopt;
        }
        if (line.size() > 3 && line[3] != ' ' && line[3] != '-') {
            fail("malformed reply line: '" + std::string(line.substr(0, 80)) + "'");
            return std::nullopt;
        }
        const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        const bool last = line.size() == 3 || line[3] == ' ';
        if (partial_ && partial_->code != code) {
            fail("reply code changed from " + std::to_string(partial_->code) + " to " +
                 std::to_string(code) + " inside a multi-line reply");
            return std::nullopt;
        }
        if (!partial_) {
            partial_.emplace();
            partial_->code = code;
            partial_size_ = 0;
        }
        if (partial_->lines.size() >= limits_.max_reply_lines) {
            fail("reply longer than " + std::to_string(limits_.max_reply_lines) + " lines");
            return std::nullopt;
        }
        std::string text(line.size() > 4 ? line.substr(4) : std::string_view{});
        partial_size_ += text.size();
        if (partial_size_ > limits_.max_reply_size) {
            fail("reply longer than " + std::to_string(limits_.max_reply_size) + " bytes");
            return std::nullopt;
        }
        // RFC 3463 classes are 2, 4 and 5: a 3xx line (an AUTH challenge) is left as it is.
        if (enhanced_ && code / 100 != 3) {
            auto enhanced = take_enhanced(text, code / 100);
            if (enhanced && !partial_->enhanced) {
                partial_->enhanced = enhanced;
            }
        }
        partial_->lines.push_back(std::move(text));
        if (last) {
            Reply reply = std::move(*partial_);
            partial_.reset();
            return reply;
        }
    }
    return std::nullopt;
}

}  // namespace missive::smtp
