#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace missive::mime {

/**
 * A MIME media type (RFC 2045 5.1, RFC 6838) with its parameters, e.g. text/plain;
 * charset=utf-8. Parameter values are UTF-8; the serializer writes them as tokens, quoted strings
 * or RFC 2231 extended values (non-ASCII, continuations for long values) as each needs.
 */
struct MediaType {
    std::string type = "application";
    std::string subtype = "octet-stream";
    std::vector<std::pair<std::string, std::string>> params{};

    /**
     * Parses "type/subtype; name=value; name=\"quoted value\"" (RFC 2045 5.1), lower-casing
     * type, subtype and parameter names.
     * @throws Error errc::invalid_input when `text` is no such media type
     */
    static MediaType parse(std::string_view text);

    /** @return the value of parameter `name` (any case), or nullptr */
    [[nodiscard]] const std::string* param(std::string_view name) const;

    /** Sets parameter `name`, replacing an earlier value. */
    void set_param(std::string name, std::string value);

    /** @return "type/subtype" */
    [[nodiscard]] std::string essence() const { return type + '/' + subtype; }
};

/**
 * Guesses a media type from a file name's extension (case-insensitive), from a table of the
 * common types of mail attachments (documents, images, audio, video, archives, text, calendar).
 * @return application/octet-stream when the extension is unknown
 */
MediaType guess_media_type(std::string_view filename);

}  // namespace missive::mime
