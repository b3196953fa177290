#include <missive/util/base64.hpp>

#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

namespace missive::util {

namespace {

unsigned byte(char c) {
    return static_cast<unsigned char>(c);
}

constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int, 256> make_values() {
    std::array<int, 256> v{};
    for (auto& x : v) {
        x = -1;
    }
    for (std::size_t i = 0; i < alphabet.size(); ++i) {
        v[static_cast<unsigned char>(alphabet[i])] = static_cast<int>(i);
    }
    return v;
}

constexpr std::array<int, 256> values = make_values();

// base64_encode_lines: every 12 bits of input are two output characters, so one lookup in a
// 4096-entry table of character pairs replaces two in the alphabet (8 KiB, stays in L1).
constexpr std::array<char, 8192> make_pairs() {
    std::array<char, 8192> t{};
    for (std::size_t i = 0; i < 4096; ++i) {
        t[2 * i] = alphabet[i >> 6U];
        t[2 * i + 1] = alphabet[i & 63U];
    }
    return t;
}

constexpr std::array<char, 8192> pairs = make_pairs();

constexpr std::size_t line_bytes = 57;  // RFC 2045 6.8: 76 characters are 19 groups of 3 bytes
constexpr std::size_t line_chars = 76;

inline void encode_group(const unsigned char* in, char* out) {
    const std::uint32_t n = std::uint32_t{in[0]} << 16U | std::uint32_t{in[1]} << 8U | in[2];
    const std::size_t high = n >> 12U;
    const std::size_t low = n & 0xfffU;
    std::memcpy(out, &pairs[high * 2], 2);
    std::memcpy(out + 2, &pairs[low * 2], 2);
}

// One full line, unrolled: 19 groups at compile-time offsets, then CRLF.
template <std::size_t... Group>
inline void encode_line(const unsigned char* in, char* out,
                        std::index_sequence<Group...> /*groups*/) {
    (encode_group(in + 3 * Group, out + 4 * Group), ...);
    out[line_chars] = '\r';
    out[line_chars + 1] = '\n';
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const unsigned n = byte(bytes[i]) << 16U | byte(bytes[i + 1]) << 8U | byte(bytes[i + 2]);
        out += alphabet[n >> 18U & 63U];
        out += alphabet[n >> 12U & 63U];
        out += alphabet[n >> 6U & 63U];
        out += alphabet[n & 63U];
    }
    if (i + 1 == bytes.size()) {
        const unsigned n = byte(bytes[i]) << 16U;
        out += alphabet[n >> 18U & 63U];
        out += alphabet[n >> 12U & 63U];
        out += "==";
    } else if (i + 2 == bytes.size()) {
        const unsigned n = byte(bytes[i]) << 16U | byte(bytes[i + 1]) << 8U;
        out += alphabet[n >> 18U & 63U];
        out += alphabet[n >> 12U & 63U];
        out += alphabet[n >> 6U & 63U];
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) {
        return std::nullopt;
    }
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        std::array<int, 4> q{};
        std::size_t pad = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            const char c = text[i + j];
            if (c == '=' && last && j >= 2) {
                ++pad;
                q[j] = 0;
                continue;
            }
            if (pad > 0) {
                return std::nullopt;  // data after padding
            }
            q[j] = values[static_cast<unsigned char>(c)];
            if (q[j] < 0) {
                return std::nullopt;
            }
        }
        const auto n = static_cast<unsigned>(q[0] << 18 | q[1] << 12 | q[2] << 6 | q[3]);
        // Bits under the padding must be zero (RFC 4648 3.5: canonical encoding).
        if ((pad == 1 && (n & 0xffU) != 0) || (pad == 2 && (n & 0xffffU) != 0)) {
            return std::nullopt;
        }
        out += static_cast<char>(n >> 16U & 0xffU);
        if (pad < 2) {
            out += static_cast<char>(n >> 8U & 0xffU);
        }
        if (pad < 1) {
            out += static_cast<char>(n & 0xffU);
        }
    }
    return out;
}

void base64_encode_lines(std::string_view bytes, std::string& out) {
    const std::size_t full = bytes.size() / line_bytes;
    const std::size_t rest = bytes.size() % line_bytes;
    const std::size_t size = full * (line_chars + 2) + (rest == 0 ? 0 : (rest + 2) / 3 * 4 + 2);
    if (size == 0) {
        return;
    }
    const std::size_t start = out.size();
    out.resize(start + size);
    const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
    char* w = out.data() + start;
    for (std::size_t l = 0; l < full; ++l) {
        encode_line(in, w, std::make_index_sequence<line_bytes / 3>{});
        in += line_bytes;
        w += line_chars + 2;
    }
    if (rest == 0) {
        return;
    }
    std::size_t i = 0;
    for (; i + 3 <= rest; i += 3) {
        encode_group(in + i, w);
        w += 4;
    }
    if (i < rest) {
        const std::uint32_t n =
            std::uint32_t{in[i]} << 16U | (i + 1 < rest ? std::uint32_t{in[i + 1]} << 8U : 0U);
        w[0] = alphabet[n >> 18U & 63U];
        w[1] = alphabet[n >> 12U & 63U];
        w[2] = i + 1 < rest ? alphabet[n >> 6U & 63U] : '=';
        w[3] = '=';
        w += 4;
    }
    w[0] = '\r';
    w[1] = '\n';
}

std::optional<std::string> base64_decode_mime(std::string_view text) {
    std::string out;
    out.reserve(text.size() / 4 * 3 + 3);
    std::uint32_t acc = 0;
    std::size_t held = 0;  // sextets in acc
    std::size_t pad = 0;
    for (const char c : text) {
        if (c == '\r' || c == '\n' || c == ' ' || c == '\t') {
            continue;
        }
        if (c == '=') {
            ++pad;
            continue;
        }
        const int v = values[static_cast<unsigned char>(c)];
        if (v < 0 || pad > 0) {
            return std::nullopt;
        }
        acc = acc << 6U | static_cast<std::uint32_t>(v);
        if (++held == 4) {
            out += static_cast<char>(acc >> 16U & 0xffU);
            out += static_cast<char>(acc >> 8U & 0xffU);
            out += static_cast<char>(acc & 0xffU);
            acc = 0;
            held = 0;
        }
    }
    // A last group of 2 or 3 characters holds 1 or 2 bytes and takes at most 4 - held '='.
    if (held == 1 || pad > (held == 0 ? 0 : 4 - held)) {
        return std::nullopt;
    }
    if (held == 2) {
        out += static_cast<char>(acc >> 4U & 0xffU);
    } else if (held == 3) {
        out += static_cast<char>(acc >> 10U & 0xffU);
        out += static_cast<char>(acc >> 2U & 0xffU);
    }
    return out;
}

}  // namespace missive::util
