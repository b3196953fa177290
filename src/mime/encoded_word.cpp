#include <missive/error.hpp>
#include <missive/mime/encoded_word.hpp>
#include <missive/util/base64.hpp>

#include "mime/utf8.hpp"
#include "util/text.hpp"

#include <iconv.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <optional>
#include <vector>

namespace missive::mime {

namespace {

using detail::is_atext;
using detail::is_control;
using detail::is_non_ascii;

constexpr std::string_view b_prefix = "=?UTF-8?B?";
constexpr std::string_view q_prefix = "=?UTF-8?Q?";
constexpr std::string_view ew_suffix = "?=";
constexpr std::size_t max_encoded_word = 75;  // RFC 2047 2
// Room for the encoded text once "=?UTF-8?X?" and "?=" are written.
constexpr std::size_t max_encoded_text = max_encoded_word - b_prefix.size() - ew_suffix.size();
// A longer word could not be folded into a 78-character line (" " + word).
constexpr std::size_t max_plain_word = 77;
constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD

[[noreturn]] void refuse(std::string_view what, std::string_view s, const std::string& why) {
    throw Error(errc::invalid_input, std::string(what) + " \"" + detail::excerpt(s) + "\": " + why);
}

void check_text(std::string_view s, std::string_view what) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\r' || s[i] == '\n') {
            refuse(what, s, "contains a line break at offset " + std::to_string(i));
        }
        if (s[i] == '\0') {
            refuse(what, s, "contains a NUL byte at offset " + std::to_string(i));
        }
    }
    if (const std::size_t bad = detail::invalid_utf8_at(s); bad != std::string_view::npos) {
        refuse(what, s, "is not valid UTF-8 at offset " + std::to_string(bad));
    }
}

std::vector<std::string_view> split_spaces(std::string_view s) {
    std::vector<std::string_view> words;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || s[i] == ' ') {
            words.push_back(s.substr(start, i - start));
            start = i + 1;
        }
    }
    return words;
}

// ---- Q and B encoding (RFC 2047 4)

// Characters Q may write as themselves; the space is written "_" everywhere (RFC 2047 4.2).
bool q_literal(char c, WordContext context) {
    switch (context) {
        case WordContext::phrase:  // RFC 2047 5 (3)
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '!' || c == '*' || c == '+' || c == '-' || c == '/';
        case WordContext::comment:  // RFC 2047 5 (2): no "(", ")" or "\"
            if (c == '(' || c == ')' || c == '\\') {
                return false;
            }
            [[fallthrough]];
        case WordContext::text:
            return c > ' ' && c < 0x7F && c != '=' && c != '?' && c != '_';
    }
    return false;
}

std::size_t q_cost(char c, WordContext context) {
    return c == ' ' || q_literal(c, context) ? 1 : 3;
}

std::size_t b_length(std::size_t bytes) {
    return (bytes + 2) / 3 * 4;
}

void append_encoded_word(std::string& out, std::string_view bytes, std::size_t q_length,
                         WordContext context) {
    static constexpr std::string_view hex = "0123456789ABCDEF";
    if (q_length <= b_length(bytes.size())) {
        out += q_prefix;
        for (char c : bytes) {
            if (c == ' ') {
                out += '_';
            } else if (q_literal(c, context)) {
                out += c;
            } else {
                const auto u = static_cast<unsigned char>(c);
                out += '=';
                out += hex[u >> 4U];
                out += hex[u & 15U];
            }
        }
    } else {
        out += b_prefix;
        out += util::base64_encode(bytes);
    }
    out += ew_suffix;
}

// ---- Where an encoded word may end

// Code points that belong to the character before them: combining marks of the common
// scripts, ZWJ/ZWNJ, variation selectors, emoji modifiers and tags. An approximation of the
// Extend class of UAX #29, enough to keep accents, kana voicing marks and emoji whole.
bool is_extend(char32_t c) {
    struct Range {
        char32_t first;
        char32_t last;
    };

    static constexpr std::array<Range, 26> extend = {
        {{0x0300, 0x036F},   {0x0483, 0x0489},  {0x0591, 0x05BD}, {0x05BF, 0x05C7},
         {0x0610, 0x061A},   {0x064B, 0x065F},  {0x0670, 0x0670}, {0x06D6, 0x06ED},
         {0x0900, 0x0903},   {0x093A, 0x094F},  {0x0951, 0x0957}, {0x0962, 0x0963},
         {0x0E31, 0x0E31},   {0x0E34, 0x0E3A},  {0x0E47, 0x0E4E}, {0x1AB0, 0x1AFF},
         {0x1DC0, 0x1DFF},   {0x200C, 0x200D},  {0x20D0, 0x20FF}, {0x302A, 0x302F},
         {0x3099, 0x309A},   {0xFE00, 0xFE0F},  {0xFE20, 0xFE2F}, {0x1F3FB, 0x1F3FF},
         {0xE0020, 0xE007F}, {0xE0100, 0xE01EF}}};
    return std::ranges::any_of(extend, [c](const Range& r) { return r.first <= c && c <= r.last; });
}

bool is_regional_indicator(char32_t c) {
    return c >= 0x1F1E6 && c <= 0x1F1FF;
}

// @return the offsets in valid UTF-8 `s` after which an encoded word may end (the last is
// s.size()).
std::vector<std::size_t> cluster_ends(std::string_view s) {
    std::vector<std::size_t> ends;
    char32_t previous = 0;
    std::size_t regional_run = 0;
    for (std::size_t i = 0; i < s.size();) {
        const char32_t c = detail::next_code_point(s, i);
        const bool joins = !ends.empty() && (is_extend(c) || previous == 0x200D ||
                                             (is_regional_indicator(c) && regional_run % 2 == 1));
        regional_run = is_regional_indicator(c) ? regional_run + 1 : 0;
        if (joins) {
            ends.back() = i;
        } else {
            ends.push_back(i);
        }
        previous = c;
    }
    return ends;
}

// Writes `run` (valid UTF-8) as encoded words separated by single spaces, each as long as fits
// and ending at a cluster end when it can, else at a code point boundary.
// `first_text` bounds the encoded text of the run's first word (the rest get max_encoded_text).
void encode_run(std::string& out, std::string_view run, WordContext context,
                std::size_t first_text = max_encoded_text) {
    std::size_t start = 0;  // of the pending word
    std::size_t end = 0;
    std::size_t q_length = 0;
    bool first = true;
    auto fits = [&](std::size_t bytes, std::size_t q) {
        return std::min(b_length(bytes), q) <= (first ? first_text : max_encoded_text);
    };
    auto emit = [&] {
        if (end == start) {
            return;
        }
        if (!first) {
            out += ' ';
        }
        first = false;
        append_encoded_word(out, run.substr(start, end - start), q_length, context);
        start = end;
        q_length = 0;
    };
    auto cost = [&](std::size_t from, std::size_t to) {
        std::size_t q = 0;
        for (std::size_t k = from; k < to; ++k) {
            q += q_cost(run[k], context);
        }
        return q;
    };
    for (const std::size_t cluster_end : cluster_ends(run)) {
        const std::size_t q = cost(end, cluster_end);
        if (!fits(cluster_end - start, q_length + q)) {
            emit();
        }
        if (fits(cluster_end - start, q_length + q)) {
            end = cluster_end;
            q_length += q;
            continue;
        }
        // One cluster longer than an encoded word: split it between code points.
        for (std::size_t i = end; i < cluster_end;) {
            const std::size_t at = i;
            detail::next_code_point(run, i);
            const std::size_t cq = cost(at, i);
            if (!fits(i - start, q_length + cq)) {
                emit();
            }
            end = i;
            q_length += cq;
        }
    }
    emit();
}

bool looks_encoded(std::string_view word) {
    return word.find("=?") != std::string_view::npos;
}

bool needs_encoding(std::string_view word, WordContext context, bool raw_utf8) {
    if (word.size() > max_plain_word || looks_encoded(word)) {
        return true;
    }
    return std::ranges::any_of(word, [&](char c) {
        if (is_non_ascii(c)) {
            return !raw_utf8;
        }
        if (is_control(c)) {
            return true;
        }
        if (context == WordContext::phrase) {
            return !is_atext(c);
        }
        return context == WordContext::comment && (c == '(' || c == ')' || c == '\\');
    });
}

// encode_header_text on checked input.
std::string encode_words(std::string_view text, WordContext context, bool raw_utf8,
                         std::size_t first_word = max_encoded_word) {
    // The first encoded word is shortened to fit the room left on the first line, down to a
    // useful minimum (below that the caller folds after the field name instead).
    constexpr std::size_t min_text = 12;
    const std::size_t overhead = b_prefix.size() + ew_suffix.size();
    const std::size_t first_text = first_word >= overhead + min_text
                                       ? std::min(first_word - overhead, max_encoded_text)
                                       : max_encoded_text;
    const std::vector<std::string_view> words = split_spaces(text);
    std::vector<bool> flagged(words.size());
    bool any = false;
    bool irregular = false;
    for (std::size_t i = 0; i < words.size(); ++i) {
        flagged[i] = needs_encoding(words[i], context, raw_utf8);
        any = any || flagged[i];
        irregular = irregular || words[i].empty();
    }
    const bool whole = context == WordContext::phrase && irregular;
    if (!any && !whole) {
        return std::string(text);
    }
    std::string out;
    if (whole) {
        // A phrase keeps no spacing of its own (RFC 5322 3.2.5): only inside encoded text do
        // leading, trailing and repeated spaces survive.
        encode_run(out, text, context, first_text);
        return out;
    }
    auto offset = [&](std::string_view w) {
        return static_cast<std::size_t>(w.data() - text.data());
    };
    for (std::size_t i = 0; i < words.size();) {
        if (i > 0) {
            out += ' ';
        }
        if (!flagged[i]) {
            out += words[i];
            ++i;
            continue;
        }
        // The run goes on over encoded words and empty words (repeated spaces) up to its last
        // encoded word: the spaces between must be inside the encoded text (RFC 2047 6.2).
        std::size_t last = i;
        for (std::size_t k = i + 1; k < words.size() && (flagged[k] || words[k].empty()); ++k) {
            if (flagged[k]) {
                last = k;
            }
        }
        const std::size_t from = offset(words[i]);
        encode_run(out, text.substr(from, offset(words[last]) + words[last].size() - from), context,
                   out.empty() ? first_text : max_encoded_text);
        i = last + 1;
    }
    return out;
}

// ---- Decoding (RFC 2047 6)

struct EncodedWord {
    std::size_t end = 0;  ///< offset after "?="
    std::string charset;  ///< without an RFC 2231 language
    std::string bytes;    ///< decoded, still in `charset`
};

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

std::optional<std::string> decode_q(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '_') {
            out += ' ';
        } else if (text[i] == '=') {
            if (i + 2 >= text.size()) {
                return std::nullopt;
            }
            const int hi = hex_value(text[i + 1]);
            const int lo = hex_value(text[i + 2]);
            if (hi < 0 || lo < 0) {
                return std::nullopt;
            }
            out += static_cast<char>(hi << 4 | lo);
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

// Lenient base64: padding optional, bits under the padding ignored.
std::optional<std::string> decode_b(std::string_view text) {
    while (!text.empty() && text.back() == '=') {
        text.remove_suffix(1);
    }
    if (text.size() % 4 == 1) {
        return std::nullopt;
    }
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned bits = 0;
    unsigned count = 0;
    for (char c : text) {
        const std::size_t v = alphabet.find(c);
        if (v == std::string_view::npos) {
            return std::nullopt;
        }
        bits = (bits << 6U | static_cast<unsigned>(v)) & 0xFFFFFFU;
        count += 6;
        if (count >= 8) {
            count -= 8;
            out += static_cast<char>(bits >> count & 0xFFU);
        }
    }
    return out;
}

bool is_utf8_name(std::string_view charset) {
    const std::string l = util::ascii_lower(charset);
    return l == "utf-8" || l == "utf8";
}

bool is_ascii_name(std::string_view charset) {
    const std::string l = util::ascii_lower(charset);
    return l == "us-ascii" || l == "ascii";
}

// Names in use that glibc's iconv does not know, mapped to the superset mail readers use.
std::string iconv_name(std::string_view charset) {
    const std::string l = util::ascii_lower(charset);
    if (l == "ks_c_5601-1987") {
        return "CP949";
    }
    if (l == "iso-8859-8-i") {
        return "ISO-8859-8";
    }
    if (l == "gb2312" || l == "gbk") {
        return "GB18030";
    }
    return std::string(charset);
}

class Iconv {
public:
    explicit Iconv(std::string_view charset)
        : cd_(iconv_open("UTF-8", iconv_name(charset).c_str())) {}

    Iconv(const Iconv&) = delete;
    Iconv& operator=(const Iconv&) = delete;
    Iconv(Iconv&&) = delete;
    Iconv& operator=(Iconv&&) = delete;

    ~Iconv() {
        if (is_open()) {
            iconv_close(cd_);
        }
    }

    [[nodiscard]] bool is_open() const { return cd_ != invalid(); }

    // Converts all of `bytes`; what does not convert becomes U+FFFD.
    std::string convert(std::string bytes) {
        std::string out;
        std::array<char, 256> buffer{};
        char* in = bytes.data();
        std::size_t in_left = bytes.size();
        while (in_left > 0) {
            char* o = buffer.data();
            std::size_t o_left = buffer.size();
            const std::size_t r = iconv(cd_, &in, &in_left, &o, &o_left);
            const int error = errno;
            out.append(buffer.data(), static_cast<std::size_t>(o - buffer.data()));
            if (r == failed && error != E2BIG) {
                out += replacement;
                if (error == EINVAL) {  // a sequence cut at the end
                    break;
                }
                ++in;  // EILSEQ: a byte that does not convert
                --in_left;
            }
        }
        // What a stateful encoding still holds (ISO-2022-JP's return to ASCII).
        for (;;) {
            char* o = buffer.data();
            std::size_t o_left = buffer.size();
            const std::size_t r = iconv(cd_, nullptr, nullptr, &o, &o_left);
            const int error = errno;
            out.append(buffer.data(), static_cast<std::size_t>(o - buffer.data()));
            if (r != failed || error != E2BIG) {
                break;
            }
        }
        return detail::sanitize_utf8(out);
    }

private:
    static iconv_t invalid() {
        return reinterpret_cast<iconv_t>(-1);  // NOLINT(performance-no-int-to-ptr): iconv's API
    }

    static constexpr auto failed = static_cast<std::size_t>(-1);
    iconv_t cd_;
};

bool is_charset_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == ':' || c == '+' || c == '*';
}

// Parses "=?charset?X?text?=" at s[i]; nullopt when it is none or its charset is unknown.
std::optional<EncodedWord> parse_encoded_word(std::string_view s, std::size_t i) {
    static constexpr std::size_t max_charset = 64;
    if (s.substr(i, 2) != "=?") {
        return std::nullopt;
    }
    std::size_t p = i + 2;
    const std::size_t charset_start = p;
    while (p < s.size() && is_charset_char(s[p]) && p - charset_start <= max_charset) {
        ++p;
    }
    if (p == charset_start || p + 2 >= s.size() || s[p] != '?' || s[p + 2] != '?') {
        return std::nullopt;
    }
    std::string_view charset = s.substr(charset_start, p - charset_start);
    charset = charset.substr(0, charset.find('*'));  // RFC 2231 5: "*language"
    const char encoding = s[p + 1];
    const std::size_t text_start = p + 3;
    std::size_t q = text_start;
    while (q < s.size() && s[q] > ' ' && s[q] < 0x7F && s[q] != '?') {
        ++q;
    }
    if (charset.empty() || q + 1 >= s.size() || s[q] != '?' || s[q + 1] != '=') {
        return std::nullopt;
    }
    const std::string_view text = s.substr(text_start, q - text_start);
    std::optional<std::string> bytes;
    if (encoding == 'Q' || encoding == 'q') {
        bytes = decode_q(text);
    } else if (encoding == 'B' || encoding == 'b') {
        bytes = decode_b(text);
    }
    if (!bytes) {
        return std::nullopt;
    }
    if (!is_utf8_name(charset) && !is_ascii_name(charset) && !Iconv(charset).is_open()) {
        return std::nullopt;
    }
    return EncodedWord{q + 2, std::string(charset), std::move(*bytes)};
}

std::string to_utf8(const std::string& charset, std::string bytes) {
    if (is_utf8_name(charset)) {
        return detail::sanitize_utf8(bytes);
    }
    if (is_ascii_name(charset)) {
        std::string out;
        for (char c : bytes) {
            if (is_non_ascii(c)) {
                out += replacement;
            } else {
                out += c;
            }
        }
        return out;
    }
    return Iconv(charset).convert(std::move(bytes));
}

bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}

}  // namespace

std::string encode_header_text(std::string_view utf8, WordContext context, std::size_t first_word) {
    check_text(utf8, "header text");
    return encode_words(utf8, context, false, first_word);
}

std::string format_phrase(std::string_view utf8, bool raw_utf8) {
    check_text(utf8, "display name");
    if (utf8.empty()) {
        return {};
    }
    const std::vector<std::string_view> words = split_spaces(utf8);
    const bool printable = std::ranges::all_of(
        utf8, [&](char c) { return is_non_ascii(c) ? raw_utf8 : !is_control(c); });
    if (printable && !std::ranges::any_of(words, looks_encoded)) {
        const bool atoms = std::ranges::all_of(words, [&](std::string_view w) {
            return !w.empty() && w.size() <= max_plain_word &&
                   std::ranges::all_of(w, [](char c) { return is_atext(c) || is_non_ascii(c); });
        });
        if (atoms) {
            return std::string(utf8);
        }
        std::string quoted = "\"";
        for (char c : utf8) {
            if (c == '"' || c == '\\') {
                quoted += '\\';
            }
            quoted += c;
        }
        quoted += '"';
        // Each word must still fit a folded line, quotes and escapes included.
        if (std::ranges::all_of(split_spaces(quoted),
                                [](std::string_view w) { return w.size() <= max_plain_word; })) {
            return quoted;
        }
    }
    return encode_words(utf8, WordContext::phrase, raw_utf8);
}

std::string decode_header_text(std::string_view value) {
    // Unfold (RFC 5322 2.2.3): CRLF followed by white space.
    std::string unfolded;
    unfolded.reserve(value.size());
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] == '\r' && i + 2 < value.size() && value[i + 1] == '\n' &&
            is_wsp(value[i + 2])) {
            ++i;
            continue;
        }
        unfolded += value[i];
    }
    const std::string_view s = unfolded;

    std::string out;
    std::string literal;  // text not yet sanitized
    std::string charset;  // of the pending encoded words
    std::string bytes;    // their decoded bytes, joined
    bool pending = false;
    auto flush_words = [&] {
        if (pending) {
            out += to_utf8(charset, std::move(bytes));
            bytes.clear();
            pending = false;
        }
    };
    auto flush_literal = [&] {
        out += detail::sanitize_utf8(literal);
        literal.clear();
    };
    for (std::size_t i = 0; i < s.size();) {
        if (auto word = parse_encoded_word(s, i)) {
            flush_literal();
            if (pending && util::ascii_lower(word->charset) != util::ascii_lower(charset)) {
                flush_words();
            }
            if (!pending) {
                charset = word->charset;
                pending = true;
            }
            bytes += word->bytes;
            i = word->end;
            // White space up to the next encoded word is dropped (RFC 2047 6.2).
            std::size_t j = i;
            while (j < s.size() && is_wsp(s[j])) {
                ++j;
            }
            if (j > i && j < s.size() && parse_encoded_word(s, j)) {
                i = j;
            }
            continue;
        }
        flush_words();
        literal += s[i];
        ++i;
    }
    flush_words();
    flush_literal();
    return out;
}

}  // namespace missive::mime
