#include <missive/util/secret.hpp>

#include <openssl/crypto.h>

#include <utility>

namespace missive {

namespace {

// Zeroes the bytes in use, which are all the bytes the string ever held: every assignment below
// wipes before it writes.
void wipe(std::string& s) noexcept {
    if (!s.empty()) {
        OPENSSL_cleanse(s.data(), s.size());
    }
    s.clear();
}

// Moves `from` into the (wiped) `to`. A long string hands its buffer over; a short one lives
// inside the object and is copied, leaving its bytes behind in `from`'s buffer beyond its new
// size 0: grow it back over them (no allocation, the buffer is the same) and wipe them.
void move_wiping(std::string& to, std::string& from) noexcept {
    const std::size_t size = from.size();
    const char* const buffer = from.data();
    wipe(to);
    to = std::move(from);
    // A moved-from string is valid, and data(), capacity() and resize() have no precondition.
    // NOLINTNEXTLINE(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
    if (from.data() == buffer && from.capacity() >= size) {
        from.resize(size);
    }
    wipe(from);
}

}  // namespace

Secret::Secret(std::string value) noexcept {
    move_wiping(value_, value);
}

Secret& Secret::operator=(const Secret& other) {
    if (this != &other) {
        wipe(value_);
        value_ = other.value_;
    }
    return *this;
}

Secret::Secret(Secret&& other) noexcept {
    move_wiping(value_, other.value_);
}

Secret& Secret::operator=(Secret&& other) noexcept {
    if (this != &other) {
        move_wiping(value_, other.value_);
    }
    return *this;
}

Secret::~Secret() {
    wipe(value_);
}

}  // namespace missive
