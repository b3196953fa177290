// libFuzzer target: mime::decode_header_text and the encoders. Properties: decoding never
// crashes or throws and gives valid UTF-8; for valid UTF-8 without CR, LF or NUL,
// encode_header_text in each context is printable ASCII with encoded words of at most 75
// characters and decodes back to the input, and format_phrase (both forms) read back by
// parse_mailbox gives the input as the display name.
#include <missive/error.hpp>
#include <missive/mime/address.hpp>
#include <missive/mime/encoded_word.hpp>

#include "mime/utf8.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using missive::mime::WordContext;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::string decoded = missive::mime::decode_header_text(text);
    if (missive::mime::detail::invalid_utf8_at(decoded) != std::string_view::npos) {
        std::abort();
    }
    if (missive::mime::detail::invalid_utf8_at(text) != std::string_view::npos ||
        text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
        return 0;
    }
    for (const auto context : {WordContext::text, WordContext::phrase, WordContext::comment}) {
        std::string encoded;
        try {
            encoded = missive::mime::encode_header_text(text, context);
        } catch (const missive::Error&) {
            std::abort();
        }
        std::size_t word = 0;
        for (char c : encoded) {
            if (c < ' ' || c >= 0x7F) {
                std::abort();
            }
            word = c == ' ' ? 0 : word + 1;
            if (word > 77) {  // an encoded word is at most 75, a plain one at most 77
                std::abort();
            }
        }
        if (missive::mime::decode_header_text(encoded) != text) {
            std::abort();
        }
    }
    if (text.empty()) {
        return 0;
    }
    for (const bool raw : {false, true}) {
        try {
            const std::string phrase = missive::mime::format_phrase(text, raw);
            if (missive::mime::parse_mailbox(phrase + " <a@b>").name != text) {
                std::abort();
            }
        } catch (const missive::Error&) {
            std::abort();
        }
    }
    return 0;
}
