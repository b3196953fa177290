#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace missive::mime {

/** One header field as the caller means it: the value is UTF-8 text, unfolded, not encoded. */
struct Header {
    std::string name{};
    std::string value{};
};

/**
 * The header fields of a message or a part, in order. Names compare without regard to case.
 * Values are stored as given (UTF-8, not yet RFC 2047-encoded, not folded); the serializer
 * encodes and folds them as each field's syntax requires.
 *
 * Every change is checked: a name must be 1-76 printable ASCII characters without ':' or
 * space (RFC 5322 2.2), and a value may hold neither CR, LF nor NUL (a header injection). Both
 * are refused with `Error(errc::invalid_input)` naming the field.
 */
class Headers {
public:
    /** Appends a field (another of the same name may exist, e.g. Received, Comments). */
    void add(std::string name, std::string value);

    /** Replaces the fields of this name by one (in the place of the first), or appends it. */
    void set(std::string name, std::string value);

    /** Removes every field of this name. @return how many were removed */
    std::size_t remove(std::string_view name);

    /** @return the first value of the field, or nullptr when there is none */
    [[nodiscard]] const std::string* find(std::string_view name) const;

    /** @return every value of the field, in order */
    [[nodiscard]] std::vector<std::string> all(std::string_view name) const;

    [[nodiscard]] bool contains(std::string_view name) const { return find(name) != nullptr; }

    [[nodiscard]] bool empty() const { return fields_.empty(); }

    [[nodiscard]] std::size_t size() const { return fields_.size(); }

    [[nodiscard]] auto begin() const { return fields_.begin(); }

    [[nodiscard]] auto end() const { return fields_.end(); }

private:
    std::vector<Header> fields_;
};

/** @return true when `a` and `b` are equal without regard to ASCII case (header names). */
bool iequals(std::string_view a, std::string_view b);

/**
 * Checks a header field's name and value as `Headers` does.
 * @throws Error errc::invalid_input naming the field
 */
void check_header(std::string_view name, std::string_view value);

}  // namespace missive::mime
