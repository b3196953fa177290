#include <missive/util/quoted_printable.hpp>

#include <algorithm>
#include <array>
#include <cstring>

namespace missive::util {

namespace {

constexpr std::string_view hex_digits = "0123456789ABCDEF";

// What each byte value becomes (RFC 2045 6.7): up to three characters, then their number in the
// last slot, so that the hot loop stores all four at once and advances by the number. Zero, for
// CR and LF in text mode, means a line break (rule 4). The loop itself makes the other cases:
// '.' and 'F' at the start of a line, and SP and TAB before a line break (rule 3).
using Code = std::array<char, 4>;

constexpr std::array<Code, 256> make_codes(bool text) {
    std::array<Code, 256> t{};
    for (std::size_t i = 0; i < t.size(); ++i) {
        if ((i >= 33 && i <= 126 && i != '=') || i == ' ' || i == '\t') {
            t[i] = {static_cast<char>(i), 0, 0, 1};  // rules 2 and 3
        } else {
            t[i] = {'=', hex_digits[i >> 4U], hex_digits[i & 15U], 3};  // rule 1
        }
    }
    if (text) {
        t['\r'][3] = 0;
        t['\n'][3] = 0;
    }
    return t;
}

constexpr std::array<Code, 256> text_codes = make_codes(true);
constexpr std::array<Code, 256> binary_codes = make_codes(false);

// Rule 5: at most 76 characters a line, so 75 before the '=' of a soft break.
constexpr std::size_t max_content = 75;

constexpr std::string_view mbox_from = "From ";

// encode() works in blocks of this many bytes: the space it reserves for one (zero-filled by
// resize) stays in the L1 cache until the encoder writes it.
constexpr std::size_t block_size = 4096;

// The most encode_piece can write for n bytes: n plus what was held back (at most 4 bytes of
// "From" or one space) are at most 3 characters each, with a 3-character soft break at least
// every 73 characters and one more at the start; then one byte for the hot loop's 4-byte store.
constexpr std::size_t max_encoded(std::size_t n) {
    const std::size_t chars = 3 * (n + 5);
    return chars + 3 * (chars / 73 + 2) + 1;
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
//
// A SP or TAB is written as itself at once; if a line break follows, it is still the last
// character written, and is taken back and written =20 or =09. Only a SP or TAB that ends the
// span waits (pending_space_): the caller may take the output before the next call.
void QuotedPrintableEncoder::encode_span(std::string_view bytes, char*& out) {
    const auto& codes = text_ ? text_codes : binary_codes;
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    const bool space_at_end = !bytes.empty() && (bytes.back() == ' ' || bytes.back() == '\t');
    const std::size_t n = bytes.size() - (space_at_end ? 1 : 0);
    char* w = out;
    char* const begin = w;
    std::size_t length = line_length_;
    const auto soft_break = [&] {
        w[0] = '=';
        w[1] = '\r';
        w[2] = '\n';
        w += 3;
        length = 0;
    };
    const auto write = [&](unsigned char c, bool encoded) {
        const std::size_t width = encoded ? 3 : 1;
        if (length + width > max_content) {
            soft_break();  // rule 5, and never inside an =XX
        }
        w[0] = encoded ? '=' : static_cast<char>(c);
        w[1] = hex_digits[c >> 4U];
        w[2] = hex_digits[c & 15U];
        w += width;
        length += width;
    };
    std::size_t i = 0;
    while (i < n) {
        const unsigned char c = p[i];
        const Code& code = codes[c];
        const std::size_t width = static_cast<unsigned char>(code[3]);
        if (width != 0) {
            if (length == 0 || length + width > max_content) {
                if (length != 0) {
                    soft_break();  // rule 5, and never inside an =XX
                }
                if (c == '.') {
                    write(c, true);
                    ++i;
                    continue;
                }
                if (c == 'F') {
                    const std::string_view next = bytes.substr(i, mbox_from.size());
                    if (next.size() < mbox_from.size() && mbox_from.starts_with(next)) {
                        held_.assign(next);  // the next chunk decides (never with a space)
                        break;
                    }
                    write(c, next == mbox_from);
                    ++i;
                    continue;
                }
            }
            std::memcpy(w, code.data(), code.size());  // the 4th byte is overwritten next
            w += width;
            length += width;
            ++i;
            continue;
        }
        // A line break (text mode).
        if (length > 0 && w > begin && (w[-1] == ' ' || w[-1] == '\t')) {
            const auto space = static_cast<unsigned char>(w[-1]);
            --w;
            --length;
            write(space, true);  // rule 3
        }
        w[0] = '\r';
        w[1] = '\n';
        w += 2;
        length = 0;
        ++i;
        if (c == '\r') {
            if (i == bytes.size()) {
                after_cr_ = true;  // an LF starting the next chunk belongs to this CR
            } else if (i < n && p[i] == '\n') {
                ++i;
            }
        }
    }
    if (space_at_end) {
        pending_space_ = bytes.back();  // the next chunk decides
    }
    line_length_ = length;
    out = w;
}

void QuotedPrintableEncoder::encode_piece(std::string_view bytes, char*& w) {
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
            return;
        }
        write_byte('F', probe == mbox_from, w);
        const std::string rest = held_.substr(1);  // part of "rom": plain bytes
        held_.clear();
        encode_span(rest, w);
    }
    encode_span(bytes, w);
}

void QuotedPrintableEncoder::encode(std::string_view bytes, std::string& out) {
    while (!bytes.empty()) {
        const std::string_view piece = bytes.substr(0, block_size);
        bytes.remove_prefix(piece.size());
        const std::size_t start = out.size();
        out.resize(start + max_encoded(piece.size()));
        char* w = out.data() + start;
        encode_piece(piece, w);
        out.resize(static_cast<std::size_t>(w - out.data()));
    }
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
