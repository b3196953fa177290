#include <missive/error.hpp>
#include <missive/mime/encoded_word.hpp>
#include <missive/mime/header_reader.hpp>
#include <missive/mime/message.hpp>

#include <algorithm>

namespace missive::mime {

namespace {

bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}

// The line at `at` without its line break, and where the next one starts.
std::pair<std::string_view, std::size_t> line_at(std::string_view text, std::size_t at) {
    const std::size_t lf = text.find('\n', at);
    if (lf == std::string_view::npos) {
        return {text.substr(at), text.size()};
    }
    std::size_t end = lf;
    if (end > at && text[end - 1] == '\r') {
        --end;
    }
    return {text.substr(at, end - at), lf + 1};
}

std::string trimmed(std::string_view s) {
    while (!s.empty() && is_wsp(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_wsp(s.back())) {
        s.remove_suffix(1);
    }
    return std::string(s);
}

}  // namespace

std::string RawField::unfolded() const {
    std::string out;
    out.reserve(raw.size());
    for (const char c : raw) {
        if (c != '\r' && c != '\n') {
            out += c;
        }
    }
    return out;
}

std::string RawField::decoded() const {
    std::string text = decode_header_text(trimmed(unfolded()));
    // An encoded word may hide a line break or NUL; as a value they would be an injection.
    std::replace_if(
        text.begin(), text.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; }, ' ');
    return trimmed(text);
}

std::optional<std::size_t> HeaderBlock::find_end(std::string_view data) {
    std::size_t at = 0;
    while (at < data.size()) {
        const std::size_t lf = data.find('\n', at);
        if (lf == std::string_view::npos) {
            return std::nullopt;
        }
        const std::string_view line = data.substr(at, lf - at);
        if (line.empty() || line == "\r") {
            return lf + 1;
        }
        at = lf + 1;
    }
    return std::nullopt;
}

HeaderBlock HeaderBlock::parse(std::string_view message) {
    HeaderBlock block;
    std::size_t at = 0;
    if (message.substr(0, 5) == "From ") {
        at = line_at(message, 0).second;  // an mbox separator, not a field
    }
    std::size_t number = 0;
    while (at < message.size()) {
        if (at > max_size) {
            throw Error(errc::invalid_input,
                        "the message's header passes " + std::to_string(max_size / 1024) + " KiB");
        }
        const auto [line, next] = line_at(message, at);
        ++number;
        if (line.empty()) {
            at = next;
            break;  // the empty line before the body
        }
        if (is_wsp(line.front())) {
            if (block.fields_.empty()) {
                throw Error(errc::invalid_input, "header line 1 starts with white space");
            }
            block.fields_.back().raw += "\r\n";
            block.fields_.back().raw += line;
        } else {
            const std::size_t colon = line.find(':');
            std::string_view name =
                colon == std::string_view::npos ? std::string_view{} : line.substr(0, colon);
            while (!name.empty() && is_wsp(name.back())) {
                name.remove_suffix(1);  // obsolete "Name :" (RFC 5322 4.5)
            }
            const bool ok = !name.empty() && std::all_of(name.begin(), name.end(),
                                                         [](char c) { return c > ' ' && c < 127; });
            if (!ok) {
                throw Error(errc::invalid_input, "header line " + std::to_string(number) +
                                                     " is not a field: '" +
                                                     std::string(line.substr(0, 80)) + "'");
            }
            block.fields_.push_back({std::string(name), std::string(line.substr(colon + 1))});
        }
        at = next;
    }
    block.body_offset_ = std::min(at, message.size());
    return block;
}

const RawField* HeaderBlock::find(std::string_view name) const {
    const auto it = std::find_if(fields_.begin(), fields_.end(),
                                 [&](const RawField& f) { return iequals(f.name, name); });
    return it == fields_.end() ? nullptr : &*it;
}

std::vector<Mailbox> HeaderBlock::mailboxes(std::string_view name) const {
    std::vector<Mailbox> out;
    for (const RawField& f : fields_) {
        if (!iequals(f.name, name)) {
            continue;
        }
        try {
            for (Mailbox& m : flatten(parse_address_list(f.unfolded()))) {
                out.push_back(std::move(m));
            }
        } catch (const Error& e) {
            throw Error(errc::invalid_input, f.name + ": " + e.what());
        }
    }
    return out;
}

Headers HeaderBlock::headers() const {
    Headers h;
    for (const RawField& f : fields_) {
        h.add(f.name, is_address_field(f.name) ? trimmed(f.unfolded()) : f.decoded());
    }
    return h;
}

std::string HeaderBlock::write(const std::vector<std::string_view>& omit) const {
    std::string out;
    for (const RawField& f : fields_) {
        if (std::any_of(omit.begin(), omit.end(),
                        [&](std::string_view o) { return iequals(o, f.name); })) {
            continue;
        }
        out += f.name;
        out += ':';
        out += f.raw;
        out += "\r\n";
    }
    out += "\r\n";
    return out;
}

}  // namespace missive::mime
