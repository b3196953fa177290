#include <missive/error.hpp>
#include <missive/mime/headers.hpp>

#include <algorithm>
#include <utility>

namespace missive::mime {

namespace {

constexpr std::size_t max_name = 76;  // a name must leave room for ": " on a 78-column line

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](char x, char y) { return lower(x) == lower(y); });
}

void check_header(std::string_view name, std::string_view value) {
    const bool name_ok = !name.empty() && name.size() <= max_name &&
                         std::all_of(name.begin(), name.end(),
                                     [](char c) { return c > ' ' && c < 127 && c != ':'; });
    if (!name_ok) {
        throw Error(errc::invalid_input,
                    "header name '" + std::string(name.substr(0, max_name)) +
                        "' is not 1-76 printable ASCII characters without ':' or space");
    }
    const auto bad = value.find_first_of(std::string_view("\r\n\0", 3));
    if (bad != std::string_view::npos) {
        const char* what = value[bad] == '\0' ? "a NUL byte" : "a line break (CR or LF)";
        throw Error(errc::invalid_input, "header '" + std::string(name) + "' contains " + what +
                                             "; a field's value must be one line");
    }
}

void Headers::add(std::string name, std::string value) {
    check_header(name, value);
    fields_.push_back({std::move(name), std::move(value)});
}

void Headers::set(std::string name, std::string value) {
    check_header(name, value);
    auto first = std::find_if(fields_.begin(), fields_.end(),
                              [&](const Header& h) { return iequals(h.name, name); });
    if (first == fields_.end()) {
        fields_.push_back({std::move(name), std::move(value)});
        return;
    }
    first->name = std::move(name);
    first->value = std::move(value);
    const std::string_view n = first->name;
    fields_.erase(std::remove_if(std::next(first), fields_.end(),
                                 [&](const Header& h) { return iequals(h.name, n); }),
                  fields_.end());
}

std::size_t Headers::remove(std::string_view name) {
    const auto before = fields_.size();
    fields_.erase(std::remove_if(fields_.begin(), fields_.end(),
                                 [&](const Header& h) { return iequals(h.name, name); }),
                  fields_.end());
    return before - fields_.size();
}

const std::string* Headers::find(std::string_view name) const {
    const auto it = std::find_if(fields_.begin(), fields_.end(),
                                 [&](const Header& h) { return iequals(h.name, name); });
    return it == fields_.end() ? nullptr : &it->value;
}

std::vector<std::string> Headers::all(std::string_view name) const {
    std::vector<std::string> out;
    for (const Header& h : fields_) {
        if (iequals(h.name, name)) {
            out.push_back(h.value);
        }
    }
    return out;
}

}  // namespace missive::mime
