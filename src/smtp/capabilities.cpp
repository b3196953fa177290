#include <missive/smtp/capabilities.hpp>

#include "util/text.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace missive::smtp {

namespace {

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return out;
}

template <typename T>
std::optional<T> number(std::string_view s) {
    T value{};
    const auto* end = s.data() + s.size();
    auto [ptr, ec] = std::from_chars(s.data(), end, value);
    if (ec != std::errc{} || ptr != end) {
        return std::nullopt;
    }
    return value;
}

void add_mechanisms(std::vector<std::string>& list, std::string_view params) {
    while (!params.empty()) {
        params = util::trim_blanks(params);
        const std::size_t space = params.find(' ');
        const std::string mech = upper(params.substr(0, space));
        if (!mech.empty() && std::find(list.begin(), list.end(), mech) == list.end()) {
            list.push_back(mech);
        }
        params = space == std::string_view::npos ? std::string_view{} : params.substr(space);
    }
}

}  // namespace

Capabilities Capabilities::parse(const Reply& ehlo) {
    Capabilities caps;
    if (ehlo.lines.empty()) {
        return caps;
    }
    const std::string_view first = util::trim_blanks(ehlo.lines.front());
    caps.domain_ = std::string(first.substr(0, first.find(' ')));
    for (std::size_t i = 1; i < ehlo.lines.size(); ++i) {
        const std::string_view line = util::trim_blanks(ehlo.lines[i]);
        if (line.empty()) {
            continue;  // smtp-sink ends its EHLO reply with an empty "250 " line
        }
        std::size_t split = line.find(' ');
        std::string keyword = upper(line.substr(0, split));
        std::string_view params = split == std::string_view::npos
                                      ? std::string_view{}
                                      : util::trim_blanks(line.substr(split));
        // The pre-RFC 2554 form "AUTH=LOGIN PLAIN" (old Outlook clients looked for it).
        if (keyword.rfind("AUTH=", 0) == 0) {
            add_mechanisms(caps.auth_, std::string_view(keyword).substr(5));
            add_mechanisms(caps.auth_, params);
            caps.ext_.try_emplace("AUTH", "");
            continue;
        }
        if (keyword == "AUTH") {
            add_mechanisms(caps.auth_, params);
        }
        auto [it, inserted] = caps.ext_.try_emplace(keyword, std::string(params));
        if (!inserted && keyword == "AUTH") {
            it->second = std::string(params);
        }
    }
    if (caps.ext_.contains("AUTH")) {
        std::string joined;
        for (const auto& m : caps.auth_) {
            joined += (joined.empty() ? "" : " ") + m;
        }
        caps.ext_["AUTH"] = joined;
    }
    return caps;
}

std::optional<std::string> Capabilities::extension(std::string_view name) const {
    auto it = ext_.find(upper(name));
    if (it == ext_.end()) {
        return std::nullopt;
    }
    return it->second;
}

bool Capabilities::has(std::string_view name) const {
    return ext_.contains(upper(name));
}

std::optional<std::uint64_t> Capabilities::max_size() const {
    auto it = ext_.find("SIZE");
    if (it == ext_.end()) {
        return std::nullopt;
    }
    if (it->second.empty()) {
        return 0;
    }
    return number<std::uint64_t>(it->second).value_or(0);
}

std::optional<std::uint64_t> Capabilities::limit(std::string_view key) const {
    auto it = ext_.find("LIMITS");
    if (it == ext_.end()) {
        return std::nullopt;
    }
    // RFC 9422: LIMITS SP limit *(SP limit), limit = name "=" value.
    std::string_view params = it->second;
    while (!params.empty()) {
        params = util::trim_blanks(params);
        const std::size_t space = params.find(' ');
        const std::string_view item = params.substr(0, space);
        const std::size_t eq = item.find('=');
        if (eq != std::string_view::npos && upper(item.substr(0, eq)) == key) {
            return number<std::uint64_t>(item.substr(eq + 1));
        }
        params = space == std::string_view::npos ? std::string_view{} : params.substr(space);
    }
    return std::nullopt;
}

std::optional<std::uint64_t> Capabilities::rcpt_max() const {
    return limit("RCPTMAX");
}

std::optional<std::uint64_t> Capabilities::mail_max() const {
    return limit("MAILMAX");
}

std::optional<std::int64_t> Capabilities::deliver_by_min() const {
    auto it = ext_.find("DELIVERBY");
    if (it == ext_.end()) {
        return std::nullopt;
    }
    if (it->second.empty()) {
        return 0;
    }
    return number<std::int64_t>(it->second).value_or(0);
}

}  // namespace missive::smtp
