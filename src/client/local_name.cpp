#include "client/local_name.hpp"

#include "util/text.hpp"

#include <netdb.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string_view>
#include <system_error>
#include <thread>

namespace missive::client::detail {

namespace {

// RFC 5321 2.3.5: letters, digits and hyphens in labels separated by dots.
bool is_domain(std::string_view name) {
    if (name.empty() || name.size() > 253 || name.front() == '.' || name.back() == '.' ||
        name.find("..") != std::string_view::npos) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.';
    });
}

}  // namespace

// This machine's fully qualified name, looked up once per process: the host name when it has a
// dot, else the canonical name the resolver gives for it (/etc/hosts, usually). The lookup gets
// two seconds; a resolver that hangs leaves it empty rather than holding every connection.
// "" when there is none (the caller then uses an address literal, RFC 5321 4.1.4).
const std::string& system_fqdn() {
    static const std::string fqdn = [] {
        std::array<char, 256> buf{};
        if (::gethostname(buf.data(), buf.size() - 1) != 0 || buf[0] == '\0') {
            return std::string();
        }
        std::string host = buf.data();
        auto usable = [](const std::string& n) {
            return n.find('.') != std::string::npos && is_domain(n) &&
                   util::ascii_lower(n).rfind("localhost", 0) != 0;
        };
        if (usable(host)) {
            return host;
        }
        struct Shared {
            std::mutex mutex;
            std::condition_variable cv;
            bool done = false;
            std::string name;
        };
        auto shared = std::make_shared<Shared>();
        try {
            std::thread([shared, host] {
                addrinfo hints{};
                hints.ai_flags = AI_CANONNAME;
                addrinfo* found = nullptr;
                std::string name;
                if (::getaddrinfo(host.c_str(), nullptr, &hints, &found) == 0) {
                    if (found != nullptr && found->ai_canonname != nullptr) {
                        name = found->ai_canonname;
                    }
                    ::freeaddrinfo(found);
                }
                const std::lock_guard lock(shared->mutex);
                shared->name = std::move(name);
                shared->done = true;
                shared->cv.notify_all();
            }).detach();
        } catch (const std::system_error&) {
            return std::string();
        }
        std::unique_lock lock(shared->mutex);
        if (!shared->cv.wait_for(lock, std::chrono::seconds(2), [&] { return shared->done; })) {
            return std::string();
        }
        return usable(shared->name) ? shared->name : std::string();
    }();
    return fqdn;
}

}  // namespace missive::client::detail
