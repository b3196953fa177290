// Reads stdin, writes it content-transfer-encoded to stdout, for tests/integration/check/
// codec_roundtrip.py to decode with Python's own decoders.
//
// usage: missive_codec_dump base64|qp-text|qp-binary [CHUNK]
// CHUNK feeds the encoder in pieces of that many bytes (for base64 a multiple of 57, the
// streaming contract of base64_encode_lines); without it the input goes in at once.
#include <missive/util/base64.hpp>
#include <missive/util/quoted_printable.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

int usage() {
    std::fputs("usage: missive_codec_dump base64|qp-text|qp-binary [CHUNK]\n", stderr);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        return usage();
    }
    const std::string_view mode = argv[1];
    std::string input;
    std::array<char, 65536> buffer{};
    std::size_t n = 0;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), stdin)) > 0) {
        input.append(buffer.data(), n);
    }
    const std::size_t chunk =
        argc == 3 ? std::strtoul(argv[2], nullptr, 10) : (input.empty() ? 1 : input.size());
    if (chunk == 0) {
        return usage();
    }
    std::string out;
    const std::string_view in = input;
    if (mode == "base64") {
        if (chunk % 57 != 0 && chunk < in.size()) {
            return usage();
        }
        for (std::size_t pos = 0; pos < in.size(); pos += chunk) {
            missive::util::base64_encode_lines(in.substr(pos, chunk), out);
        }
    } else if (mode == "qp-text" || mode == "qp-binary") {
        missive::util::QuotedPrintableEncoder encoder(mode == "qp-text");
        for (std::size_t pos = 0; pos < in.size(); pos += chunk) {
            encoder.encode(in.substr(pos, chunk), out);
        }
        encoder.finish(out);
    } else {
        return usage();
    }
    return std::fwrite(out.data(), 1, out.size(), stdout) == out.size() ? 0 : 1;
}
