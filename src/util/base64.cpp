#include <missive/util/base64.hpp>

#include <array>

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

}  // namespace missive::util
