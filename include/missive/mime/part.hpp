#pragma once

#include <missive/mime/headers.hpp>
#include <missive/mime/media_type.hpp>

#include <filesystem>
#include <string>
#include <variant>
#include <vector>

namespace missive::mime {

/** The content of a part that lives in a file: read as the message is written, never whole. */
struct FileContent {
    std::filesystem::path path{};
};

/**
 * One MIME entity (RFC 2045): a leaf with content, or a multipart with children. The serializer
 * writes Content-Type, Content-Transfer-Encoding, Content-Disposition and Content-ID from the
 * fields below (those four names are refused in `headers`) and picks the transfer encoding
 * itself: 7bit when the content allows it, 8bit when allowed and needed, else quoted-printable
 * or base64, whichever is shorter; any type but text is always base64 so that its bytes arrive
 * unaltered. Text content is given CRLF line ends, whatever it came with.
 */
struct Part {
    MediaType type{"text", "plain", {}};  ///< for a multipart, "multipart/<subtype>"
    std::string disposition{};            ///< "inline", "attachment" or "" (none written)
    std::string filename{};    ///< Content-Disposition filename (and Content-Type name), UTF-8
    std::string content_id{};  ///< Content-ID without the angle brackets; "" for none
    Headers headers{};         ///< further fields, e.g. Content-Description
    std::variant<std::string, FileContent> content{};  ///< a leaf's bytes
    std::vector<Part> parts{};                         ///< a multipart's children

    /** A text part (text/<subtype>; charset=utf-8). */
    static Part text(std::string body, std::string subtype = "plain");

    /** A leaf of any type whose bytes are in memory. */
    static Part bytes(std::string data, MediaType type);

    /**
     * A leaf whose bytes are read from `path` when the message is written.
     * @throws Error errc::invalid_input when `path` is not a readable regular file
     */
    static Part file(std::filesystem::path path, MediaType type);

    /** multipart/<subtype> (mixed, alternative, related …) around `children`. */
    static Part multipart(std::string subtype, std::vector<Part> children);

    [[nodiscard]] bool is_multipart() const { return type.type == "multipart"; }
};

}  // namespace missive::mime
