#include <missive/error.hpp>
#include <missive/mime/message.hpp>

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>

namespace missive::mime {

namespace {

std::vector<Mailbox> mailboxes_of(const Headers& headers, std::string_view name) {
    std::vector<Mailbox> out;
    for (const std::string& value : headers.all(name)) {
        try {
            for (Mailbox& m : flatten(parse_address_list(value))) {
                out.push_back(std::move(m));
            }
        } catch (const Error& e) {
            throw Error(errc::invalid_input, std::string(name) + ": " + e.what());
        }
    }
    return out;
}

}  // namespace

bool is_address_field(std::string_view name) {
    static constexpr std::array<std::string_view, 12> fields{"From",
                                                             "To",
                                                             "Cc",
                                                             "Bcc",
                                                             "Reply-To",
                                                             "Sender",
                                                             "Resent-From",
                                                             "Resent-To",
                                                             "Resent-Cc",
                                                             "Resent-Bcc",
                                                             "Resent-Sender",
                                                             "Disposition-Notification-To"};
    return std::any_of(fields.begin(), fields.end(),
                       [&](std::string_view f) { return iequals(f, name); });
}

std::vector<Mailbox> Message::recipients() const {
    std::vector<Mailbox> out;
    for (const std::string_view field : {"To", "Cc", "Bcc"}) {
        for (Mailbox& m : mailboxes_of(headers, field)) {
            const bool seen = std::any_of(out.begin(), out.end(), [&](const Mailbox& o) {
                return iequals(o.address, m.address);
            });
            if (!seen) {
                out.push_back(std::move(m));
            }
        }
    }
    return out;
}

std::optional<Mailbox> Message::sender() const {
    for (const std::string_view field : {"Sender", "From"}) {
        std::vector<Mailbox> found = mailboxes_of(headers, field);
        if (!found.empty()) {
            return std::move(found.front());
        }
    }
    return std::nullopt;
}

bool Message::needs_smtputf8() const {
    for (const Header& h : headers) {
        if (!is_address_field(h.name)) {
            continue;
        }
        for (const Mailbox& m : mailboxes_of(headers, h.name)) {
            if (mime::needs_smtputf8(m)) {
                return true;
            }
        }
    }
    return false;
}

Message create(std::string subject, std::string body, const std::vector<std::string>& to,
               const std::vector<std::string>& cc, const std::vector<Header>& other_headers) {
    Message m;
    m.body = Part::text(std::move(body));
    const auto join = [](const std::vector<std::string>& list) {
        std::vector<Address> all;
        for (const std::string& a : list) {
            for (Address& x : parse_address_list(a)) {
                all.push_back(std::move(x));
            }
        }
        return format_address_list(all, true);
    };
    if (!to.empty()) {
        m.headers.add("To", join(to));
    }
    if (!cc.empty()) {
        m.headers.add("Cc", join(cc));
    }
    m.headers.add("Subject", std::move(subject));
    for (const Header& h : other_headers) {
        if (iequals(h.name, "Content-Type")) {
            m.body.type = MediaType::parse(h.value);
        } else {
            m.headers.add(h.name, h.value);
        }
    }
    return m;
}

std::string format_date(std::chrono::system_clock::time_point when) {
    static constexpr std::array<const char*, 7> days{"Sun", "Mon", "Tue", "Wed",
                                                     "Thu", "Fri", "Sat"};
    static constexpr std::array<const char*, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::time_t t = std::chrono::system_clock::to_time_t(when);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::array<char, 40> buf{};
    const int n = std::snprintf(buf.data(), buf.size(), "%s, %d %s %04d %02d:%02d:%02d +0000",
                                days.at(static_cast<std::size_t>(tm.tm_wday)), tm.tm_mday,
                                months.at(static_cast<std::size_t>(tm.tm_mon)), tm.tm_year + 1900,
                                tm.tm_hour, tm.tm_min, tm.tm_sec);
    return {buf.data(), static_cast<std::size_t>(n)};
}

std::string make_message_id(std::string_view domain) {
    std::array<unsigned char, 16> random{};
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
        throw Error(errc::invalid_input, "no random bytes for a Message-ID");
    }
    static constexpr std::string_view hex = "0123456789abcdef";
    std::string id = "<";
    for (const unsigned char b : random) {
        id += hex[b >> 4];
        id += hex[b & 15];
    }
    id += '@';
    id += domain.empty() ? std::string_view("missive.invalid") : domain;
    id += '>';
    return id;
}

}  // namespace missive::mime
