#include "dkim/names.hpp"

#include <missive/error.hpp>
#include <missive/mime/address.hpp>

#include <algorithm>

namespace missive::dkim::detail {

namespace {

bool is_label(std::string_view label) {
    const auto ok = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
    };
    return !label.empty() && label.size() <= 63 && std::all_of(label.begin(), label.end(), ok) &&
           label.front() != '-' && label.back() != '-';
}

// Labels separated by single dots (RFC 1035 2.3.1, with "_" as DNS allows outside host names).
bool is_dotted(std::string_view name) {
    if (name.empty() || name.size() > 253) {
        return false;
    }
    std::size_t at = 0;
    while (true) {
        const std::size_t dot = name.find('.', at);
        if (!is_label(name.substr(at, dot - at))) {
            return false;
        }
        if (dot == std::string_view::npos) {
            return true;
        }
        at = dot + 1;
    }
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](char c) {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    });
    return s;
}

}  // namespace

std::string checked_domain(std::string_view domain, std::string_view what) {
    std::string ascii;
    try {
        ascii = mime::to_ascii_domain(domain);
    } catch (const Error& e) {
        throw Error(errc::config, std::string(what) + ": " + e.what());
    }
    if (!is_dotted(ascii) || ascii.find('.') == std::string::npos) {
        throw Error(errc::config, std::string(what) + " '" + std::string(domain) +
                                      "' is not a domain name (labels of letters, digits and "
                                      "hyphens separated by dots)");
    }
    return lower(std::move(ascii));
}

std::string checked_selector(std::string_view selector) {
    if (!is_dotted(selector)) {
        throw Error(errc::config, "DKIM selector '" + std::string(selector) +
                                      "' is not a selector (RFC 6376 3.1: letters, digits and "
                                      "hyphens, in labels separated by dots)");
    }
    return lower(std::string(selector));
}

}  // namespace missive::dkim::detail
