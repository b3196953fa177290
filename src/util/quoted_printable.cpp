#include <missive/util/quoted_printable.hpp>

#include <algorithm>
#include <array>
#include <cstdint>

namespace missive::util {

namespace {

// What the encoder does with each byte value (RFC 2045 6.7).
enum ByteClass : std::uint8_t {
    plain,    // 33..126 but '=': itself (rule 2)
    special,  // '.' and 'F': themselves, except at the start of a line
    escaped,  // =XX (rule 1)
    space,    // SP, TAB: itself, but =XX before a line break or at the end (rule 3)
    cr,       // text mode: a line break, alone or with the LF after it (rule 4)
    lf,       // text mode: a line break
};

constexpr std::array<std::uint8_t, 256> make_classes(bool text) {
    std::array<std::uint8_t, 256> t{};
    for (std::size_t i = 0; i < t.size(); ++i) {
        t[i] = i >= 33 && i <= 126 && i != '=' ? plain : escaped;
    }
    t['.'] = special;
    t['F'] = special;
    t[' '] = space;
    t['\t'] = space;
    if (text) {
        t['\r'] = cr;
        t['\n'] = lf;
    }
    return t;
}

constexpr std::array<std::uint8_t, 256> text_classes = make_classes(true);
constexpr std::array<std::uint8_t, 256> binary_classes = make_classes(false);

constexpr std::string_view hex_digits = "0123456789ABCDEF";

// Rule 5: at most 76 characters a line, so 75 before the '=' of a soft break.
constexpr std::size_t max_content = 75;

constexpr std::string_view mbox_from = "From ";

// The most `encode` can write for n new bytes: n plus what was held back (at most 4 bytes of
// "From" or one space) are at most 3 characters each, with a 3-character soft break at least
// every 73 characters, and one more at the start.
constexpr std::size_t max_encoded(std::size_t n) {
    const std::size_t chars = 3 * (n + 5);
    return chars + 3 * (chars / 73 + 2);
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

}  // namespace

void QuotedPrintableEncoder::write_byte(unsigned char c, bool encoded, char*& w) {
    if (line_length_ + (encoded ? 3 : 1) > max_content) {
        w[0] = '=';
        w[1] = '\r';
        w[2] = '\n';
        w += 3;
        line_length_ = 0;
    }
    if (encoded) {
        w[0] = '=';
        w[1] = hex_digits[c >> 4U];
        w[2] = hex_digits[c & 15U];
        w += 3;
        line_length_ += 3;
    } else {
        *w++ = static_cast<char>(c);
        ++line_length_;
    }
}

// The hot loop. It keeps the line length and the write position in locals: writes through a
// char* may alias any member, which would make the compiler reload them after every byte.
void QuotedPrintableEncoder::encode_span(std::string_view bytes, char*& out) {
    const auto& classes = text_ ? text_classes : binary_classes;
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    const std::size_t n = bytes.size();
    char* w = out;
    std::size_t length = line_length_;
    const auto soft_break = [&] {
        w[0] = '=';
        w[1] = '\r';
        w[2] = '\n';
        w += 3;
        length = 0;
    };
    const auto escape = [&](unsigned char c) {
        if (length + 3 > max_content) {
            soft_break();
        }
        w[0] = '=';
        w[1] = hex_digits[c >> 4U];
        w[2] = hex_digits[c & 15U];
        w += 3;
        length += 3;
    };
    const auto literal = [&](unsigned char c) {
        if (length >= max_content) {
            soft_break();
        }
        *w++ = static_cast<char>(c);
        ++length;
    };
    const auto hard_break = [&] {
        w[0] = '\r';
        w[1] = '\n';
        w += 2;
        length = 0;
    };
    std::size_t i = 0;
    while (i < n) {
        const unsigned char c = p[i];
        switch (classes[c]) {
            case plain: {
                // A run of plain bytes, as much of it as fits on the line.
                if (length >= max_content) {
                    soft_break();
                }
                const std::size_t end = std::min(n, i + (max_content - length));
                const std::size_t begin = i;
                do {
                    *w++ = static_cast<char>(p[i]);
                    ++i;
                } while (i < end && classes[p[i]] == plain);
                length += i - begin;
                break;
            }
            case special:
                if (length >= max_content) {
                    soft_break();
                }
                if (length == 0 && c == '.') {
                    escape(c);
                } else if (length == 0) {
                    const std::string_view next = bytes.substr(i, mbox_from.size());
                    if (next.size() < mbox_from.size() && mbox_from.starts_with(next)) {
                        held_.assign(next);  // the next chunk decides
                        i = n;
                        continue;
                    }
                    if (next == mbox_from) {
                        escape(c);
                    } else {
                        literal(c);
                    }
                } else {
                    literal(c);
                }
                ++i;
                break;
            case escaped:
                escape(c);
                ++i;
                break;
            case space:
                if (i + 1 == n) {
                    pending_space_ = static_cast<char>(c);  // the next chunk decides
                } else if (text_ && (p[i + 1] == '\r' || p[i + 1] == '\n')) {
                    escape(c);
                } else {
                    literal(c);
                }
                ++i;
                break;
            case cr:
                hard_break();
                ++i;
                if (i == n) {
                    after_cr_ = true;  // an LF starting the next chunk belongs to this CR
                } else if (p[i] == '\n') {
                    ++i;
                }
                break;
            default:  // lf
                hard_break();
                ++i;
                break;
        }
    }
    line_length_ = length;
    out = w;
}

void QuotedPrintableEncoder::encode(std::string_view bytes, std::string& out) {
    if (bytes.empty()) {
        return;
    }
    const std::size_t start = out.size();
    out.resize(start + max_encoded(bytes.size()));
    char* w = out.data() + start;
    if (pending_space_ != 0) {
        const char next = bytes.front();
        write_byte(static_cast<unsigned char>(pending_space_),
                   text_ && (next == '\r' || next == '\n'), w);
        pending_space_ = 0;
    } else if (after_cr_) {
        after_cr_ = false;
        if (bytes.front() == '\n') {
            bytes.remove_prefix(1);
        }
    } else if (!held_.empty()) {
        // An F at the start of a line, and what followed it of "From ": decide now if we can.
        const std::size_t wanted = mbox_from.size() - held_.size();
        const std::string probe = held_ + std::string(bytes.substr(0, wanted));
        if (probe.size() < mbox_from.size() && mbox_from.starts_with(probe)) {
            held_ = probe;
            out.resize(start);
            return;
        }
        write_byte('F', probe == mbox_from, w);
        const std::string rest = held_.substr(1);  // part of "rom": plain bytes
        held_.clear();
        encode_span(rest, w);
    }
    encode_span(bytes, w);
    out.resize(static_cast<std::size_t>(w - out.data()));
}

void QuotedPrintableEncoder::finish(std::string& out) {
    std::array<char, 32> buffer{};  // "=20" or "From" with soft breaks: far less
    char* w = buffer.data();
    if (pending_space_ != 0) {
        write_byte(static_cast<unsigned char>(pending_space_), true, w);  // rule 3
    } else if (!held_.empty()) {
        write_byte('F', false, w);  // the input ended before "From " did
        encode_span(std::string_view(held_).substr(1), w);
    }
    out.append(buffer.data(), w);
    line_length_ = 0;
    pending_space_ = 0;
    after_cr_ = false;
    held_.clear();
}

std::string quoted_printable_encode(std::string_view bytes, bool text) {
    std::string out;
    QuotedPrintableEncoder encoder(text);
    encoder.encode(bytes, out);
    encoder.finish(out);
    return out;
}

std::optional<std::string> quoted_printable_decode(std::string_view text) {
    // Never longer than the input, but for the CR added to a lone LF.
    std::string out(
        text.size() + static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')), '\0');
    char* w = out.data();
    while (!text.empty()) {
        const std::size_t eol = text.find('\n');
        const bool has_break = eol != std::string_view::npos;
        std::string_view line = text.substr(0, eol);
        text.remove_prefix(has_break ? eol + 1 : text.size());
        if (has_break && line.ends_with('\r')) {
            line.remove_suffix(1);
        }
        // Rule 3: white space at the end of a line was not part of the data.
        while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) {
            line.remove_suffix(1);
        }
        bool soft = false;
        for (std::size_t i = 0; i < line.size(); ++i) {
            if (line[i] != '=') {
                *w++ = line[i];
                continue;
            }
            if (i + 1 == line.size()) {
                soft = true;  // rule 5
                break;
            }
            const int high = hex_value(line[i + 1]);
            const int low = i + 2 < line.size() ? hex_value(line[i + 2]) : -1;
            if (high < 0 || low < 0) {
                return std::nullopt;
            }
            *w++ = static_cast<char>(high << 4 | low);
            i += 2;
        }
        if (has_break && !soft) {
            w[0] = '\r';
            w[1] = '\n';
            w += 2;
        }
    }
    out.resize(static_cast<std::size_t>(w - out.data()));
    return out;
}

}  // namespace missive::util
