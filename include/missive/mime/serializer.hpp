#pragma once

#include <missive/mime/message.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace missive::mime {

/** What the receiving side allows, and what to add to the message as it is written. */
struct SerializeOptions {
    bool allow_8bit = false;  ///< 8BITMIME was offered: text may go as 8bit instead of encoded
    bool allow_utf8 = false;  ///< SMTPUTF8 was offered: addresses may be UTF-8 (RFC 6532)
    std::optional<std::chrono::system_clock::time_point> date{};  ///< Date, if the message has none
    std::string message_id{};  ///< Message-ID, if the message has none ("" for none)
};

/**
 * Writes a message as RFC 5322/MIME text with CRLF line ends, in chunks of bounded size
 * (below 256 KiB each, whatever the message's size): file contents are read as they are
 * written, so memory does not grow with attachments.
 *
 *     mime::Serializer s(message);
 *     for (auto chunk = s.next(); !chunk.empty(); chunk = s.next()) sink(chunk);
 *
 * The constructor checks and plans everything (fields, addresses, files, transfer encodings),
 * so a message that cannot be written fails before a byte of it is sent. The message must
 * outlive the serializer and not change while it is written.
 */
class Serializer {
public:
    /** @throws Error errc::invalid_input naming the field, address, part or file at fault */
    explicit Serializer(const Message& message, SerializeOptions options = {});
    ~Serializer();
    Serializer(Serializer&& other) noexcept;
    Serializer& operator=(Serializer&& other) noexcept;
    Serializer(const Serializer&) = delete;
    Serializer& operator=(const Serializer&) = delete;

    /**
     * @return the next chunk, valid until the next call; empty at the end
     * @throws Error errc::invalid_input when a file cannot be read any more
     */
    std::string_view next();

    /**
     * Measures the message: the number of octets `next()` will give in all. Called before the
     * first `next()`, it writes the message once without keeping it (files are read and
     * encoded, not stored, so memory stays bounded) and then starts over, so the text that
     * follows is the text that was measured. For SIZE= on MAIL FROM (RFC 1870).
     * @throws Error errc::invalid_input when called after `next()`, or as `next()`
     */
    [[nodiscard]] std::uint64_t size();

    /**
     * Measures the message as `size()` does, showing each chunk to `observer` on the way: one
     * pass for SIZE= and for what else must see the whole text before it is sent (a DKIM body
     * hash). The pass runs even when the size is already known.
     * @param observer called with each chunk, valid during the call only
     * @throws Error errc::invalid_input when called after `next()`, or as `next()`
     */
    std::uint64_t size(const std::function<void(std::string_view)>& observer);

    /** @return true when a part goes as 8bit (the envelope then needs BODY=8BITMIME). */
    [[nodiscard]] bool uses_8bit() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/** @return the whole message as text (for files, logs and tests; sending streams instead). */
std::string to_string(const Message& message, const SerializeOptions& options = {});

/** Writes the message as `to_string` would, chunk by chunk. */
std::ostream& operator<<(std::ostream& out, const Message& message);

}  // namespace missive::mime
