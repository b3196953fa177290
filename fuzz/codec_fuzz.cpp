// libFuzzer target: the MIME codecs. Properties: the lenient decoders (base64_decode_mime,
// quoted_printable_decode) never crash; any bytes, base64-encoded in lines or quoted-printable
// encoded in binary mode (split into two chunks at a point the input chooses), decode back to
// the same bytes.
#include <missive/util/base64.hpp>
#include <missive/util/quoted_printable.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    (void)missive::util::base64_decode_mime(input);
    (void)missive::util::quoted_printable_decode(input);

    std::string b64;
    missive::util::base64_encode_lines(input, b64);
    const auto back = missive::util::base64_decode_mime(b64);
    if (!back || *back != input) {
        std::abort();
    }
    const std::size_t split = size == 0 ? 0 : data[0] % (size + 1);
    missive::util::QuotedPrintableEncoder qp(false);
    std::string encoded;
    qp.encode(input.substr(0, split), encoded);
    qp.encode(input.substr(split), encoded);
    qp.finish(encoded);
    const auto decoded = missive::util::quoted_printable_decode(encoded);
    if (!decoded || *decoded != input) {
        std::abort();
    }
    return 0;
}
