#pragma once

#include <string>
#include <string_view>

namespace missive::mime {

/** Where an encoded word will stand; each allows other characters in Q encoding (RFC 2047 5). */
enum class WordContext {
    text,     ///< unstructured text such as Subject (RFC 2047 5 (1))
    phrase,   ///< a display name or other phrase (RFC 2047 5 (3))
    comment,  ///< inside a comment, between the parentheses (RFC 2047 5 (2))
};

/**
 * Encodes UTF-8 text for a header field as RFC 2047 encoded words where it must be.
 *
 * Words are separated by single spaces. A word stays as it is when it is printable ASCII, at
 * most 77 characters long (so that a folded line fits in 78), contains no `=?` (which a reader
 * would take for an encoded word) and, for `phrase`, is an atom, and for `comment`, holds no
 * `(`, `)` or `\`. Every other word is encoded, together with the neighbouring words that are
 * encoded too and the spaces between them, because a reader drops the white space between two
 * encoded words (RFC 2047 6.2). In `phrase`, text with leading, trailing or repeated spaces,
 * which a phrase does not keep (RFC 5322 3.2.5), is encoded whole.
 *
 * Encoded words are `=?UTF-8?B?…?=` or `=?UTF-8?Q?…?=`, whichever is shorter; each is at most
 * 75 characters (RFC 2047 2) and ends on a character boundary: never inside a UTF-8 sequence,
 * and not inside a combining sequence (a base character with its combining marks, variation
 * selectors, emoji modifiers, ZWJ sequences, flag pairs) unless that sequence alone does not fit.
 * Adjacent encoded words are separated by one space. Every space of the result is a place where
 * the caller may fold the line; this function does not fold.
 *
 * @param utf8 the text, UTF-8 without CR, LF or NUL
 * @param context where the result will stand
 * @param first_word the longest the first encoded word may be when the result starts with one:
 *        the room left on the line after "Name: ", so that the first line fits in 78 columns
 *        (values below 24 are taken as 75: the caller then folds after the colon)
 * @return the header field body fragment, ASCII only
 * @throws Error errc::invalid_input when `utf8` is not valid UTF-8 or contains CR, LF or NUL
 */
std::string encode_header_text(std::string_view utf8, WordContext context = WordContext::text,
                               std::size_t first_word = 75);

/**
 * Writes a display name as an RFC 5322 phrase: atoms when the name is atoms separated by single
 * spaces; else a quoted-string (with `\"` and `\\` escapes) when it is printable ASCII with
 * words of at most 75 characters; else encoded words as `encode_header_text(…,
 * WordContext::phrase)` writes them.
 *
 * @param utf8 the name, UTF-8 without CR, LF or NUL; empty gives an empty result
 * @param raw_utf8 when true (the message goes out with RFC 6532 UTF-8 headers), non-ASCII
 *        characters count as atom and quoted-string characters and are written as they are
 * @return the phrase; every space in it is a place where the caller may fold
 * @throws Error errc::invalid_input when `utf8` is not valid UTF-8 or contains CR, LF or NUL
 */
std::string format_phrase(std::string_view utf8, bool raw_utf8 = false);

/**
 * Decodes the RFC 2047 encoded words of a header field body for display; lenient, as a reader
 * must be.
 *
 * - B and Q encoding in either case; the charset by name, in any case, converted to UTF-8 with
 *   iconv (UTF-8, US-ASCII, ISO-8859-x, Windows-125x, Shift_JIS, … whatever glibc knows); an
 *   RFC 2231 language suffix (`=?UTF-8*en?Q?…?=`) is ignored.
 * - White space between two adjacent encoded words is removed (RFC 2047 6.2); folds (CRLF
 *   followed by SP or HTAB) are unfolded first.
 * - Adjacent encoded words of the same charset are joined before conversion, so a character
 *   split across two words comes out whole.
 * - Encoded words are also recognised where RFC 2047 does not allow them (inside a word, a
 *   quoted-string, next to a parenthesis), as most readers do.
 * - A malformed encoded word, or one in a charset iconv does not know, stays as literal text.
 *   Bytes that do not convert, and invalid UTF-8 in literal text, become U+FFFD.
 *
 * @param value a header field body, or part of one
 * @return the text in valid UTF-8
 * @throws nothing but std::bad_alloc
 */
std::string decode_header_text(std::string_view value);

}  // namespace missive::mime
