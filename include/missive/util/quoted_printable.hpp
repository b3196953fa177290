#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace missive::util {

/**
 * Encodes a body as quoted-printable (RFC 2045 6.7), in pieces of any size: a chunk may end
 * anywhere, between CR and LF or after a space that turns out to end a line, and the output is
 * the same as for the whole input at once.
 *
 * The output:
 * - `=`, and every byte outside 33..126 except SP and TAB, is `=XX` in upper-case hex (rule 1);
 *   so is SP or TAB before a hard line break or at the end of the input (rule 3).
 * - Encoded lines are at most 76 characters, the soft line break's `=` included (rule 5): a
 *   line is broken with `=` CRLF after 75 characters, and an `=XX` is never split.
 * - At the start of every encoded line, a `.` is written `=2E` and the `F` of `From ` is `=46`,
 *   so that the body survives relays that dot-stuff badly (RFC 5321 4.5.2) and mbox files
 *   that quote `From ` lines.
 * - Text mode: each line break of the input (CRLF, a lone LF, a lone CR) is a hard line break,
 *   CRLF (rule 4). Binary mode: CR and LF are data, `=0D` and `=0A`, so every line but the last
 *   ends in a soft break.
 * - The output ends in CRLF exactly when the input ends in a line break (text mode); there is
 *   no soft break at the very end.
 */
class QuotedPrintableEncoder {
public:
    /** @param text true: line breaks are text's (any convention, written as CRLF); false: all
     *              bytes are data, and CR and LF are encoded */
    explicit QuotedPrintableEncoder(bool text = true)
        : text_(text) {}

    /**
     * Appends the encoding of `bytes` to `out`. Up to four bytes may be held back until the
     * next call or `finish` decides how they are written (a SP or TAB, the start of `From `).
     * @param bytes the next piece of the body
     * @param out receives encoded text; what it held stays in front
     */
    void encode(std::string_view bytes, std::string& out);

    /**
     * Appends what was held back and ends the body. The encoder is then ready for a new body.
     * @param out receives the last encoded text
     */
    void finish(std::string& out);

private:
    void encode_piece(std::string_view bytes, char*& w);
    void encode_span(std::string_view bytes, char*& out);
    void write_byte(unsigned char c, bool encoded, char*& w);

    bool text_;
    std::size_t line_length_ = 0;  // characters on the current encoded line
    char pending_space_ = 0;       // a SP or TAB that ended the last chunk, or 0
    bool after_cr_ = false;        // the last chunk ended with a CR (text mode: LF is its pair)
    std::string held_;             // "F", "Fr", "Fro" or "From" at the start of a line
};

/**
 * @return `bytes` encoded as quoted-printable, in one piece (QuotedPrintableEncoder's rules)
 * @param text see QuotedPrintableEncoder's constructor
 */
std::string quoted_printable_encode(std::string_view bytes, bool text = true);

/**
 * Decodes quoted-printable (RFC 2045 6.7). A line ends at LF or CRLF; white space at the end of
 * a line is dropped (rule 3, it may have been added in transit); a line ending in `=` continues
 * on the next one (soft break); every other line break becomes CRLF. `=XX` takes hex digits of
 * either case. Other bytes, even those an encoder should have encoded, pass unchanged.
 * @return the bytes, or nullopt when a `=` is followed by something other than two hex digits
 *         or the end of the line
 */
std::optional<std::string> quoted_printable_decode(std::string_view text);

}  // namespace missive::util
