#pragma once

#include <iosfwd>
#include <string>
#include <string_view>

namespace missive {

/**
 * A password or token. It cannot be printed or converted by accident: there is no `operator<<`
 * (deleted, so that streaming one fails to compile) and no conversion to a string; the only way
 * to the bytes is `reveal()`. Its memory is wiped (OPENSSL_cleanse) when it is destroyed,
 * assigned over or moved from. Copies are independent and wiped in turn.
 *
 * What it cannot do: wipe copies the caller made before handing the string over, or memory a
 * `std::string` gave back while growing.
 */
class Secret {
public:
    Secret() = default;

    /** @param value the secret; implicit, so that `.password = "…"` works */
    Secret(std::string value) noexcept;  // NOLINT(google-explicit-constructor)

    /** @param value the secret, NUL-terminated */
    Secret(const char* value)  // NOLINT(google-explicit-constructor)
        : value_(value) {}

    Secret(const Secret& other) = default;
    Secret& operator=(const Secret& other);
    Secret(Secret&& other) noexcept;
    Secret& operator=(Secret&& other) noexcept;
    ~Secret();

    /** @return the secret itself; keep the view no longer than the Secret. */
    [[nodiscard]] std::string_view reveal() const { return value_; }

    /** @return true when there is no secret. */
    [[nodiscard]] bool empty() const { return value_.empty(); }

    /** Not printable: reveal() it deliberately instead. */
    friend std::ostream& operator<<(std::ostream& out, const Secret& secret) = delete;

private:
    std::string value_;
};

}  // namespace missive
