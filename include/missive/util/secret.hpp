#pragma once

#include <string>
#include <string_view>

namespace missive {

/**
 * A password or token. It cannot be printed or converted by accident: the only way to the bytes
 * is `reveal()`, and the memory is wiped when it is destroyed.
 */
class Secret {
public:
    Secret() = default;

    Secret(std::string value)  // NOLINT(google-explicit-constructor): `.password = "…"`
        : value_(std::move(value)) {}

    Secret(const char* value)  // NOLINT(google-explicit-constructor)
        : value_(value) {}

    Secret(const Secret&) = default;
    Secret& operator=(const Secret&) = default;
    Secret(Secret&& other) noexcept;
    Secret& operator=(Secret&& other) noexcept;
    ~Secret();

    /** @return the secret itself; keep the view no longer than the Secret. */
    [[nodiscard]] std::string_view reveal() const { return value_; }

    /** @return true when there is no secret. */
    [[nodiscard]] bool empty() const { return value_.empty(); }

private:
    std::string value_;
};

}  // namespace missive
