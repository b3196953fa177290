#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace missive::smtp {

/** An RFC 3463 enhanced status code such as `5.1.1`. */
struct EnhancedCode {
    int klass = 0;    ///< 2, 4 or 5
    int subject = 0;  ///< 0..999
    int detail = 0;   ///< 0..999

    /** @return the code as written on the wire, e.g. "5.1.1". */
    [[nodiscard]] std::string to_string() const;

    friend bool operator==(const EnhancedCode&, const EnhancedCode&) = default;
};

/**
 * One complete server reply (RFC 5321 4.2): the three-digit code, the enhanced status code
 * when the server gave one (RFC 2034/3463), and the text of every line without code,
 * separator or enhanced code.
 */
struct Reply {
    int code = 0;
    std::optional<EnhancedCode> enhanced{};
    std::vector<std::string> lines{};

    /** @return true for 2xx. */
    [[nodiscard]] bool positive() const { return code >= 200 && code < 300; }

    /** @return true for 3xx (intermediate: 354 after DATA, 334 during AUTH). */
    [[nodiscard]] bool intermediate() const { return code >= 300 && code < 400; }

    /** @return true for 4xx: the command may succeed if repeated later. */
    [[nodiscard]] bool transient() const { return code >= 400 && code < 500; }

    /** @return true for 5xx: repeating the command will fail again. */
    [[nodiscard]] bool permanent() const { return code >= 500 && code < 600; }

    /** @return the lines joined by a single space. */
    [[nodiscard]] std::string text() const;

    /** @return "550 5.1.1 text", as a log line shows it (lines joined by a space). */
    [[nodiscard]] std::string to_string() const;

    friend bool operator==(const Reply&, const Reply&) = default;
};

}  // namespace missive::smtp
