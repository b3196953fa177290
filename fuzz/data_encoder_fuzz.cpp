// libFuzzer target: the message data encoder, against a byte-at-a-time reference that states
// the rules plainly (every bare CR or LF becomes CRLF; a "." starting a line is doubled; the
// data ends with CRLF "." CRLF). The input is fed in pieces split where the first byte says.
#include "smtp/data_encoder.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using missive::smtp::detail::DataEncoder;

namespace {

std::string reference(std::string_view in) {
    std::string out;
    bool line_start = true;
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < in.size() && in[i + 1] == '\n') {
                ++i;
            }
            out += "\r\n";
            line_start = true;
            continue;
        }
        if (line_start && c == '.') {
            out += '.';
        }
        out += c;
        line_start = false;
    }
    if (!line_start) {
        out += "\r\n";
    }
    return out + ".\r\n";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::size_t step = 1 + data[0] % 16;
    const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    DataEncoder enc;
    std::string out;
    for (std::size_t i = 0; i < in.size(); i += step) {
        enc.encode(in.substr(i, step), out);
    }
    enc.finish(out);
    if (out != reference(in)) {
        std::abort();
    }
    return 0;
}
