// libFuzzer target: mime::parse_address_list. Properties: never crash, fail only with
// invalid_input; what parses is written by format_address_list with UTF-8 headers (names and
// addresses as given) and parses back to the same list; the ASCII form (encoded words,
// A-labels) parses back to the same names, and to the same addresses where they were ASCII.
#include <missive/error.hpp>
#include <missive/mime/address.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

using missive::mime::Address;
using missive::mime::Group;
using missive::mime::Mailbox;

namespace {

bool writable(const std::string& name) {
    return name.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

// Names decoded from encoded words may hold what no header can carry; a group needs a name.
bool writable(const std::vector<Address>& list) {
    for (const Address& a : list) {
        if (const auto* g = std::get_if<Group>(&a)) {
            if (g->name.empty() || !writable(g->name)) {
                return false;
            }
            for (const Mailbox& m : g->members) {
                if (!writable(m.name)) {
                    return false;
                }
            }
        } else if (!writable(std::get<Mailbox>(a).name)) {
            return false;
        }
    }
    return true;
}

bool is_ascii(std::string_view s) {
    for (char c : s) {
        if (static_cast<unsigned char>(c) >= 0x80) {
            return false;
        }
    }
    return true;
}

bool same(const Mailbox& a, const Mailbox& b, bool exact) {
    return a.name == b.name && (a.address == b.address || (!exact && !is_ascii(a.address)));
}

bool same(const std::vector<Address>& a, const std::vector<Address>& b, bool exact) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].index() != b[i].index()) {
            return false;
        }
        if (const auto* m = std::get_if<Mailbox>(&a[i])) {
            if (!same(*m, std::get<Mailbox>(b[i]), exact)) {
                return false;
            }
            continue;
        }
        const auto& g = std::get<Group>(a[i]);
        const auto& h = std::get<Group>(b[i]);
        if (g.name != h.name || g.members.size() != h.members.size()) {
            return false;
        }
        for (std::size_t k = 0; k < g.members.size(); ++k) {
            if (!same(g.members[k], h.members[k], exact)) {
                return false;
            }
        }
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::vector<Address> list;
    try {
        list = missive::mime::parse_address_list(text);
    } catch (const missive::Error& e) {
        if (e.kind() != missive::errc::invalid_input) {
            std::abort();
        }
        return 0;
    }
    if (!writable(list)) {
        return 0;
    }
    // With UTF-8 headers everything parsed can be written, and reads back the same.
    std::string utf8;
    std::vector<Address> back;
    try {
        utf8 = missive::mime::format_address_list(list, true);
        back = missive::mime::parse_address_list(utf8);
    } catch (const missive::Error&) {
        std::abort();
    }
    if (!same(list, back, true)) {
        std::abort();
    }
    for (const Mailbox& m : missive::mime::flatten(list)) {
        try {
            if (!same(missive::mime::parse_mailbox(missive::mime::format_mailbox(m, true)), m,
                      true)) {
                std::abort();
            }
        } catch (const missive::Error&) {
            std::abort();
        }
    }
    // In ASCII a non-ASCII local part cannot be written and libidn2 may refuse a domain.
    std::string ascii;
    try {
        ascii = missive::mime::format_address_list(list, false);
    } catch (const missive::Error& e) {
        if (e.kind() != missive::errc::invalid_input) {
            std::abort();
        }
        return 0;
    }
    if (!is_ascii(ascii)) {
        std::abort();
    }
    try {
        if (!same(list, missive::mime::parse_address_list(ascii), false)) {
            std::abort();
        }
    } catch (const missive::Error&) {
        std::abort();
    }
    return 0;
}
