// libFuzzer target: mime::HeaderBlock, the reader of ready-made messages' headers. Properties:
// never crash; what parses writes back (CRLF line ends) to a block that parses to the same
// fields; decoding, unfolding and the address lists of every field never crash either.
#include <missive/error.hpp>
#include <missive/mime/header_reader.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

using missive::mime::HeaderBlock;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    HeaderBlock block;
    try {
        block = HeaderBlock::parse(input);
    } catch (const missive::Error&) {
        return 0;
    }
    if (block.body_offset() > input.size()) {
        std::abort();
    }
    for (const auto& field : block.fields()) {
        (void)field.decoded();
        try {
            (void)block.mailboxes(field.name);
        } catch (const missive::Error&) {
        }
    }
    try {
        (void)block.headers();
    } catch (const missive::Error&) {
        // A decoded value may hold what Headers refuses (a NUL in a raw value).
    }
    const std::string written = block.write();
    const HeaderBlock again = HeaderBlock::parse(written);
    if (again.fields().size() != block.fields().size() || again.body_offset() != written.size()) {
        std::abort();
    }
    for (std::size_t i = 0; i < block.fields().size(); ++i) {
        if (again.fields()[i].name != block.fields()[i].name ||
            again.fields()[i].unfolded() != block.fields()[i].unfolded()) {
            std::abort();
        }
    }
    return 0;
}
