// libFuzzer target: the DKIM canonicalizers and the message hasher. Properties: the canonical
// body does not depend on how the input was cut into pieces (the cuts come from the first two
// octets); each canonicalization is idempotent; relaxed output has no tab, no run of spaces and
// no space before a line break; every line break out is CRLF; simple output ends with exactly
// one CRLF, relaxed output with one or is empty. The message hasher gives the same header and
// body hashes whatever the cuts. Header canonicalization is idempotent too.
#include <missive/dkim/canonicalization.hpp>
#include <missive/dkim/hasher.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using missive::dkim::BodyCanonicalizer;
using missive::dkim::Canonicalization;
using missive::dkim::canonicalize_body;
using missive::dkim::canonicalize_header;
using missive::dkim::MessageHasher;

namespace {

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

// Piece sizes from a seed (1 to 16 octets, or the rest when the seed says so).
std::vector<std::string_view> cut(std::string_view input, std::uint32_t seed) {
    std::vector<std::string_view> pieces;
    while (!input.empty()) {
        seed = seed * 1103515245U + 12345U;
        const std::size_t n = (seed >> 16) % 17 == 16 ? input.size() : 1 + (seed >> 16) % 16;
        pieces.push_back(input.substr(0, n));
        input.remove_prefix(std::min(n, input.size()));
    }
    return pieces;
}

bool line_breaks_are_crlf(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n')) {
            return false;
        }
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) {
            return false;
        }
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) {
        return 0;
    }
    const std::uint32_t seed = data[0] | (std::uint32_t{data[1]} << 8);
    const std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);
    const std::vector<std::string_view> pieces = cut(input, seed);

    for (const Canonicalization c : {Canonicalization::simple, Canonicalization::relaxed}) {
        const std::string whole = canonicalize_body(input, c);
        std::string chunked;
        BodyCanonicalizer canon(c, [&](std::string_view p) { chunked.append(p); });
        for (const std::string_view p : pieces) {
            canon.update(p);
        }
        canon.finish();
        check(chunked == whole);
        check(canon.written() == whole.size());
        check(canonicalize_body(whole, c) == whole);
        check(line_breaks_are_crlf(whole));
        if (c == Canonicalization::simple) {
            check(whole.ends_with("\r\n"));
            check(whole == "\r\n" || !whole.ends_with("\r\n\r\n"));
        } else {
            check(whole.empty() || (whole.ends_with("\r\n") && !whole.ends_with("\r\n\r\n")));
            check(whole.find('\t') == std::string::npos);
            check(whole.find("  ") == std::string::npos);
            check(whole.find(" \r\n") == std::string::npos);
        }
        const std::string header = canonicalize_header(input, c);
        check(canonicalize_header(header, c) == header);
    }

    auto hash = [](const std::vector<std::string_view>& parts) {
        MessageHasher h({Canonicalization::simple, Canonicalization::relaxed});
        for (const std::string_view p : parts) {
            h.update(p);
        }
        return h.finish();
    };
    const auto at_once = hash({input});
    const auto in_pieces = hash(pieces);
    check(at_once.header == in_pieces.header);
    check(at_once.simple_body == in_pieces.simple_body);
    check(at_once.relaxed_body == in_pieces.relaxed_body);
    return 0;
}
