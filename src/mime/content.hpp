#pragma once

#include <missive/mime/part.hpp>
#include <missive/util/quoted_printable.hpp>

#include <cstddef>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

namespace missive::mime::detail {

/** Content-Transfer-Encoding (RFC 2045 6). */
enum class Encoding { seven_bit, eight_bit, quoted_printable, base64 };

/** @return the field's value: "7bit", "8bit", "quoted-printable" or "base64". */
std::string_view encoding_name(Encoding e);

/** What a pass over text content found; fed chunk by chunk. */
class ContentStats {
public:
    void add(std::string_view bytes);
    [[nodiscard]] Encoding choose(bool allow_8bit) const;

private:
    std::size_t size_ = 0;
    std::size_t non_ascii_ = 0;
    std::size_t escaped_ = 0;  // bytes quoted-printable writes as =XX
    std::size_t line_ = 0;     // length of the line so far
    std::size_t longest_ = 0;
    bool nul_ = false;
    bool cr_ = false;  // the last byte was CR
};

/** Reads a leaf's content in chunks, from memory or from its file. */
class ContentSource {
public:
    /** @throws Error errc::invalid_input when the file cannot be opened */
    explicit ContentSource(const Part& part);

    /**
     * Replaces `chunk` by the next at most `n` bytes.
     * @return false at the end
     * @throws Error errc::invalid_input when reading the file fails
     */
    bool read(std::string& chunk, std::size_t n);

private:
    const Part* part_;
    std::string_view memory_{};
    std::size_t offset_ = 0;
    std::optional<std::ifstream> file_{};
};

/** Turns content into its transfer encoding, chunk by chunk; text gets CRLF line ends. */
class ContentEncoder {
public:
    ContentEncoder(Encoding encoding, bool text);
    void encode(std::string_view bytes, std::string& out);
    void finish(std::string& out);

private:
    void normalise(std::string_view bytes, std::string& out);
    void base64(std::string_view bytes, std::string& out);

    Encoding encoding_;
    bool text_;
    bool cr_ = false;        // the last byte seen was CR (its LF may start the next chunk)
    std::string carry_{};    // base64: bytes short of a 57-byte line
    std::string scratch_{};  // text for base64: CRLF-normalised first
    util::QuotedPrintableEncoder qp_;
};

/** The size of a raw chunk: a multiple of 57, so that base64 lines come out whole. */
constexpr std::size_t raw_chunk = 57 * 1024;

}  // namespace missive::mime::detail
