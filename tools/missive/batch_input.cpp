// The lines of `missive send --batch`: JSON objects made into letters.
#include <missive/error.hpp>

#include "batch.hpp"
#include "failure.hpp"
#include "message_input.hpp"

#include <fcntl.h>

#include <cerrno>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <system_error>

namespace missive::cli {

namespace {

using nlohmann::json;

std::string type_name(const json& v) {
    return {v.type_name()};
}

std::string string_field(const json& v, const std::string& key) {
    if (!v.is_string()) {
        throw BatchLineError("\"" + key + "\" must be a string, not " + type_name(v));
    }
    return v.get<std::string>();
}

// A string, or an array of strings.
std::vector<std::string> list_field(const json& v, const std::string& key) {
    if (v.is_string()) {
        return {v.get<std::string>()};
    }
    if (!v.is_array()) {
        throw BatchLineError("\"" + key + "\" must be a string or an array of strings, not " +
                             type_name(v));
    }
    std::vector<std::string> out;
    for (const json& item : v) {
        if (!item.is_string()) {
            throw BatchLineError("\"" + key + "\" must hold strings, not " + type_name(item));
        }
        out.push_back(item.get<std::string>());
    }
    return out;
}

std::string resolve(const std::filesystem::path& base, const std::string& path) {
    const std::filesystem::path p(path);
    return p.is_absolute() || base.empty() ? path : (base / p).string();
}

// A ready message whose header was rewritten (Bcc taken out): that header, then the body from
// the file, from where the header ended.
class RewrittenMessage : public std::istream {
public:
    RewrittenMessage(std::string header, const std::filesystem::path& file, std::streamoff body_at)
        : std::istream(nullptr)
        , header_(std::move(header))
        , file_(file, std::ios::binary)
        , buf_(header_, file_) {
        file_.seekg(body_at);
        rdbuf(&buf_);
        if (!file_) {
            setstate(std::ios::badbit);  // the letter's errc::invalid_input
        }
    }

private:
    std::string header_;
    std::ifstream file_;
    PrefixedBuf buf_;
};

}  // namespace

BatchEntry parse_batch_line(std::string_view text, std::size_t line,
                            const std::filesystem::path& base) {
    json doc;
    try {
        doc = json::parse(text);
    } catch (const json::parse_error& e) {
        // nlohmann's message is "[json.exception.parse_error.101] parse error at line 1,
        // column 7: syntax error …": keep what follows the first ": " after the column.
        std::string what = e.what();
        const auto at = what.find("column ");
        if (at != std::string::npos) {
            what = what.substr(at);
        }
        throw BatchLineError("not JSON: " + what);
    }
    if (!doc.is_object()) {
        throw BatchLineError("a line must be a JSON object, not " + type_name(doc));
    }
    BatchEntry entry;
    entry.line = line;
    MessageSpec spec;
    ReadyFile ready;
    bool has_message = false;
    std::vector<std::string> composing;  // fields that make no sense with "message"
    for (const auto& [key, value] : doc.items()) {
        if (key == "id") {
            if (value.is_string()) {
                entry.id = value.get<std::string>();
            } else if (value.is_number_integer()) {
                entry.id = value.dump();
            } else {
                throw BatchLineError("\"id\" must be a string or an integer, not " +
                                     type_name(value));
            }
            if (entry.id->empty()) {
                throw BatchLineError("\"id\" is empty");
            }
        } else if (key == "from") {
            spec.from = ready.from = string_field(value, key);
        } else if (key == "to") {
            spec.to = ready.to = list_field(value, key);
        } else if (key == "cc") {
            spec.cc = ready.cc = list_field(value, key);
        } else if (key == "bcc") {
            spec.bcc = ready.bcc = list_field(value, key);
        } else if (key == "message") {
            ready.path = resolve(base, string_field(value, key));
            has_message = true;
        } else if (key == "subject") {
            spec.subject = string_field(value, key);
            composing.push_back(key);
        } else if (key == "text") {
            spec.text = string_field(value, key);
            composing.push_back(key);
        } else if (key == "html") {
            spec.html = string_field(value, key);
            composing.push_back(key);
        } else if (key == "text_file") {
            spec.text_file = resolve(base, string_field(value, key));
            composing.push_back(key);
        } else if (key == "html_file") {
            spec.html_file = resolve(base, string_field(value, key));
            composing.push_back(key);
        } else if (key == "attach" || key == "inline") {
            auto& files = key == "attach" ? spec.attach : spec.inline_files;
            for (const auto& path : list_field(value, key)) {
                files.push_back(resolve(base, path));
            }
            composing.push_back(key);
        } else if (key == "headers") {
            if (!value.is_object()) {
                throw BatchLineError(R"("headers" must be an object of "Name": "value", not )" +
                                     type_name(value));
            }
            for (const auto& [name, field] : value.items()) {
                if (name.empty() || name.find_first_of(": \t\r\n") != std::string::npos) {
                    throw BatchLineError("\"headers\": '" + name + "' is not a field name");
                }
                try {
                    check_header_name(name, "\"headers\"");
                } catch (const UsageError& e) {
                    throw BatchLineError(e.what());
                }
                if (field.is_array()) {
                    for (auto& v : list_field(field, "headers." + name)) {
                        spec.add_headers.emplace_back(name, std::move(v));
                    }
                } else {
                    spec.headers.emplace_back(name, string_field(field, "headers." + name));
                }
            }
            composing.push_back(key);
        } else {
            throw BatchLineError(
                "unknown field \"" + key +
                "\" (known: id, from, to, cc, bcc, subject, text, text_file, html, html_file, "
                "attach, inline, headers, message)");
        }
    }
    if (has_message) {
        if (!composing.empty()) {
            throw BatchLineError(R"("message" (a ready message) cannot go with ")" +
                                 composing.front() + "\"");
        }
        entry.content = std::move(ready);
    } else {
        entry.content = std::move(spec);
    }
    return entry;
}

client::Letter make_letter(const BatchEntry& entry, const std::string& default_from) {
    if (const auto* spec = std::get_if<MessageSpec>(&entry.content)) {
        Composed c = compose(*spec, default_from, false);
        return {std::move(c.envelope), std::move(c.message)};
    }
    const auto& ready = std::get<ReadyFile>(entry.content);
    const std::string path = ready.path.string();
    check_readable(path, "\"message\"");
    std::ifstream in(ready.path, std::ios::binary);
    std::vector<std::string> recipients = ready.to;
    recipients.insert(recipients.end(), ready.cc.begin(), ready.cc.end());
    recipients.insert(recipients.end(), ready.bcc.begin(), ready.bcc.end());
    ReadyMessage m = read_ready_message(in, recipients, ready.from, false, default_from);
    if (!m.removed_bcc) {
        // The file goes as it is, read in pieces each time it is sent.
        return {std::move(m.envelope), ready.path};
    }
    // Bcc is never written: the header without it, then the body read from the file in pieces,
    // opened afresh for each attempt.
    const std::streamoff body_at = in.tellg();
    if (body_at < 0) {
        throw InputError("\"message\" '" + path + "' cannot be read");
    }
    client::Letter::MessageSource source = [header = std::move(m.header), file = ready.path,
                                            body_at]() -> std::unique_ptr<std::istream> {
        return std::make_unique<RewrittenMessage>(header, file, body_at);
    };
    return {std::move(m.envelope), std::move(source)};
}

}  // namespace missive::cli
