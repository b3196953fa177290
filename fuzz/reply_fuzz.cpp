// libFuzzer target: the reply parser and EHLO capability parser.
// Property: never crash, never exceed the limits, and a parsed reply printed back in canonical
// form parses to the same reply (round trip).
#include <missive/smtp/capabilities.hpp>
#include <missive/smtp/reply_parser.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using missive::smtp::Capabilities;
using missive::smtp::Limits;
using missive::smtp::Reply;
using missive::smtp::ReplyParser;

namespace {

std::string print(const Reply& r) {
    std::string out;
    for (std::size_t i = 0; i < r.lines.size(); ++i) {
        out += std::to_string(r.code);
        out += i + 1 == r.lines.size() ? ' ' : '-';
        out += r.lines[i];
        out += "\r\n";
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) {
        return 0;
    }
    const bool enhanced = (data[0] & 1) != 0;
    const std::size_t split = size > 1 ? data[0] % size : 0;
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    Limits limits;
    limits.max_line_length = 512;
    limits.max_reply_lines = 32;
    ReplyParser p(limits);
    p.set_enhanced_codes(enhanced);
    auto drain = [&] {
        while (auto r = p.next()) {
            if (r->lines.size() > limits.max_reply_lines) {
                std::abort();
            }
            for (const auto& l : r->lines) {
                if (l.size() > limits.max_line_length) {
                    std::abort();
                }
            }
            (void)Capabilities::parse(*r);
            if (!enhanced) {
                ReplyParser again(limits);
                again.feed(print(*r));
                auto back = again.next();
                // Lines holding a CR or LF cannot be printed back as one line.
                bool printable = true;
                for (const auto& l : r->lines) {
                    printable = printable && l.find_first_of("\r\n") == std::string::npos;
                }
                if (printable && (!back || *back != *r)) {
                    std::abort();
                }
            }
        }
    };
    p.feed(input.substr(0, split));
    drain();
    p.feed(input.substr(std::min(split, input.size())));
    drain();
    return 0;
}
