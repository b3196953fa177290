#pragma once

#include <missive/mime/address.hpp>
#include <missive/mime/headers.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace missive::mime {

/** One header field as it was read: the name and the value's exact text, folds included. */
struct RawField {
    std::string name{};
    std::string raw{};  ///< after the colon, up to (without) the line break that ends the field

    /** @return the value unfolded (RFC 5322 2.2.3: line breaks before white space removed) */
    [[nodiscard]] std::string unfolded() const;
    /** @return the value unfolded, RFC 2047 encoded words decoded, outer white space trimmed */
    [[nodiscard]] std::string decoded() const;
};

/**
 * The header block of a message that arrives ready-made (a file, stdin, sendmail's input):
 * read leniently (CRLF or LF line ends, an mbox "From " line skipped), kept exactly, so that it
 * can be written back with fields left out (Bcc) without touching the others.
 */
class HeaderBlock {
public:
    /** At most this many octets of header (a guard against input that is no message). */
    static constexpr std::size_t max_size = std::size_t{1024} * 1024;

    /**
     * Reads the header block at the start of `message`.
     * @throws Error errc::invalid_input for a line that is neither a field nor a continuation,
     * or a block larger than `max_size`
     */
    static HeaderBlock parse(std::string_view message);

    /**
     * @return the offset just past the empty line that ends the header block in `data`, or
     * nullopt when it is not (yet) there; for readers that take a message piece by piece
     */
    static std::optional<std::size_t> find_end(std::string_view data);

    [[nodiscard]] const std::vector<RawField>& fields() const { return fields_; }

    /** @return where the body starts in the parsed text (its size when there is no body) */
    [[nodiscard]] std::size_t body_offset() const { return body_offset_; }

    /** @return the first field of this name, or nullptr */
    [[nodiscard]] const RawField* find(std::string_view name) const;

    /**
     * @return the mailboxes of every field of this name (group members included)
     * @throws Error errc::invalid_input naming the field when one does not parse
     */
    [[nodiscard]] std::vector<Mailbox> mailboxes(std::string_view name) const;

    /** @return the fields decoded, as `Headers` (for a message built from this one) */
    [[nodiscard]] Headers headers() const;

    /**
     * @return the block as read, CRLF line ends, without the fields named in `omit`, ending with
     * the empty line
     */
    [[nodiscard]] std::string write(const std::vector<std::string_view>& omit = {}) const;

private:
    std::vector<RawField> fields_;
    std::size_t body_offset_ = 0;
};

}  // namespace missive::mime
