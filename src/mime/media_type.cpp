#include <missive/error.hpp>
#include <missive/mime/headers.hpp>
#include <missive/mime/media_type.hpp>

#include "util/text.hpp"

#include <algorithm>
#include <array>

namespace missive::mime {

namespace {

// RFC 2045 5.1 token characters: printable ASCII except tspecials and space.
bool is_token_char(char c) {
    constexpr std::string_view tspecials = "()<>@,;:\\\"/[]?=";
    return c > ' ' && c < 127 && tspecials.find(c) == std::string_view::npos;
}

struct Cursor {
    std::string_view text;
    std::size_t at = 0;

    void skip_space() {
        while (at < text.size() && (text[at] == ' ' || text[at] == '\t')) {
            ++at;
        }
    }

    std::string_view token() {
        const std::size_t start = at;
        while (at < text.size() && is_token_char(text[at])) {
            ++at;
        }
        return text.substr(start, at - start);
    }

    bool eat(char c) {
        skip_space();
        if (at < text.size() && text[at] == c) {
            ++at;
            return true;
        }
        return false;
    }
};

[[noreturn]] void bad(std::string_view text, std::string_view why) {
    throw Error(errc::invalid_input,
                "media type '" + std::string(text.substr(0, 200)) + "': " + std::string(why));
}

}  // namespace

MediaType MediaType::parse(std::string_view text) {
    check_header("Content-Type", text);
    Cursor in{text};
    MediaType m;
    in.skip_space();
    m.type = util::ascii_lower(in.token());
    if (m.type.empty() || !in.eat('/')) {
        bad(text, "expected type/subtype");
    }
    in.skip_space();
    m.subtype = util::ascii_lower(in.token());
    if (m.subtype.empty()) {
        bad(text, "expected a subtype after '/'");
    }
    while (in.eat(';')) {
        in.skip_space();
        if (in.at == text.size()) {
            break;  // a trailing ';' is common and harmless
        }
        std::string name = util::ascii_lower(in.token());
        if (name.empty() || !in.eat('=')) {
            bad(text, "expected name=value after ';'");
        }
        in.skip_space();
        std::string value;
        if (in.at < text.size() && text[in.at] == '"') {
            ++in.at;
            bool closed = false;
            while (in.at < text.size()) {
                char c = text[in.at++];
                if (c == '"') {
                    closed = true;
                    break;
                }
                if (c == '\\' && in.at < text.size()) {
                    c = text[in.at++];
                }
                value += c;
            }
            if (!closed) {
                bad(text, "a quoted value is not closed");
            }
        } else {
            value = in.token();
            if (value.empty()) {
                bad(text, "parameter '" + name + "' has no value");
            }
        }
        m.set_param(std::move(name), std::move(value));
    }
    in.skip_space();
    if (in.at != text.size()) {
        bad(text, "unexpected text after the parameters");
    }
    return m;
}

const std::string* MediaType::param(std::string_view name) const {
    const auto it = std::find_if(params.begin(), params.end(),
                                 [&](const auto& p) { return iequals(p.first, name); });
    return it == params.end() ? nullptr : &it->second;
}

void MediaType::set_param(std::string name, std::string value) {
    const auto it = std::find_if(params.begin(), params.end(),
                                 [&](const auto& p) { return iequals(p.first, name); });
    if (it != params.end()) {
        it->second = std::move(value);
    } else {
        params.emplace_back(std::move(name), std::move(value));
    }
}

MediaType guess_media_type(std::string_view filename) {
    struct Entry {
        std::string_view extension, type, subtype;
    };

    static constexpr std::array<Entry, 52> table{{
        {"7z", "application", "x-7z-compressed"},
        {"avif", "image", "avif"},
        {"bmp", "image", "bmp"},
        {"css", "text", "css"},
        {"csv", "text", "csv"},
        {"doc", "application", "msword"},
        {"docx", "application", "vnd.openxmlformats-officedocument.wordprocessingml.document"},
        {"eml", "message", "rfc822"},
        {"epub", "application", "epub+zip"},
        {"flac", "audio", "flac"},
        {"gif", "image", "gif"},
        {"gz", "application", "gzip"},
        {"heic", "image", "heic"},
        {"htm", "text", "html"},
        {"html", "text", "html"},
        {"ico", "image", "vnd.microsoft.icon"},
        {"ics", "text", "calendar"},
        {"jpeg", "image", "jpeg"},
        {"jpg", "image", "jpeg"},
        {"js", "text", "javascript"},
        {"json", "application", "json"},
        {"log", "text", "plain"},
        {"m4a", "audio", "mp4"},
        {"md", "text", "markdown"},
        {"mov", "video", "quicktime"},
        {"mp3", "audio", "mpeg"},
        {"mp4", "video", "mp4"},
        {"odp", "application", "vnd.oasis.opendocument.presentation"},
        {"ods", "application", "vnd.oasis.opendocument.spreadsheet"},
        {"odt", "application", "vnd.oasis.opendocument.text"},
        {"oga", "audio", "ogg"},
        {"ogg", "audio", "ogg"},
        {"pdf", "application", "pdf"},
        {"png", "image", "png"},
        {"ppt", "application", "vnd.ms-powerpoint"},
        {"pptx", "application", "vnd.openxmlformats-officedocument.presentationml.presentation"},
        {"rtf", "application", "rtf"},
        {"svg", "image", "svg+xml"},
        {"tar", "application", "x-tar"},
        {"tif", "image", "tiff"},
        {"tiff", "image", "tiff"},
        {"txt", "text", "plain"},
        {"vcf", "text", "vcard"},
        {"wav", "audio", "wav"},
        {"webm", "video", "webm"},
        {"webp", "image", "webp"},
        {"xls", "application", "vnd.ms-excel"},
        {"xlsx", "application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        {"xml", "application", "xml"},
        {"yaml", "application", "yaml"},
        {"zip", "application", "zip"},
        {"zst", "application", "zstd"},
    }};
    const auto dot = filename.rfind('.');
    const auto slash = filename.find_last_of("/\\");
    if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
        return {};
    }
    const std::string extension = util::ascii_lower(filename.substr(dot + 1));
    const auto* const it =
        std::lower_bound(table.begin(), table.end(), extension,
                         [](const Entry& e, const std::string& x) { return e.extension < x; });
    if (it == table.end() || it->extension != extension) {
        return {};
    }
    return {std::string(it->type), std::string(it->subtype), {}};
}

}  // namespace missive::mime
