#pragma once

#include <missive/smtp/reply.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace missive::smtp {

/** Bounds on what a server may send; safe defaults, each enforced and tested. */
struct Limits {
    /// Longest reply line accepted, without its CRLF. RFC 5321 4.5.3.1.5 allows 512 octets
    /// with the CRLF; real servers exceed it a little, so the default is generous but bounded.
    std::size_t max_line_length = 4096;
    /// Most lines one multi-line reply may have. An EHLO reply usually has about 20, but some
    /// servers list hundreds of extensions or AUTH variants.
    std::size_t max_reply_lines = 4096;
    /// Most octets of text one reply may hold, all lines together (without their codes and
    /// CRLFs): what a reply can cost in memory, whatever the server sends.
    std::size_t max_reply_size = std::size_t{256} * 1024;
};

/**
 * Incremental parser of server replies (RFC 5321 4.2). Bytes go in with `feed`, whole replies
 * come out of `next`. Lines end with CRLF (a bare LF is tolerated on input); every line of one
 * reply must carry the same code; a line longer than `Limits::max_line_length`, a reply of
 * more than `Limits::max_reply_lines` lines or of more than `Limits::max_reply_size` octets of
 * text is an error, so memory stays bounded whatever the server sends. After an error the parser
 * stays failed.
 */
class ReplyParser {
public:
    explicit ReplyParser(Limits limits = {});

    /** Appends bytes that arrived from the server. */
    void feed(std::string_view bytes);

    /** Whether to split RFC 3463 enhanced status codes off each line (after ENHANCEDSTATUSCODES).
     */
    void set_enhanced_codes(bool on) { enhanced_ = on; }

    /**
     * @return the next complete reply, or nullopt when more bytes are needed or on error
     * (check `failed()`).
     */
    std::optional<Reply> next();

    /** @return true after malformed input; `error_message()` says what was wrong. */
    [[nodiscard]] bool failed() const { return !error_.empty(); }

    /** @return what was wrong with the input, e.g. "reply line longer than 4096 bytes". */
    [[nodiscard]] const std::string& error_message() const { return error_; }

    /** @return bytes received but not yet part of a complete reply. */
    [[nodiscard]] std::size_t buffered() const { return buffer_.size() - pos_; }

    /** Drops every buffered byte and any partial reply (used when TLS starts). */
    void discard();

private:
    bool take_line(std::string_view& line);
    bool fail(std::string message);

    Limits limits_;
    bool enhanced_ = false;
    std::string buffer_;
    std::size_t pos_ = 0;
    std::optional<Reply> partial_;
    std::size_t partial_size_ = 0;  // octets of text in partial_
    std::string error_;
};

}  // namespace missive::smtp
