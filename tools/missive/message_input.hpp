#pragma once

#include <missive/smtp/envelope.hpp>

#include <array>
#include <cstdint>
#include <istream>
#include <optional>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <vector>

namespace missive::cli {

/** Reading the message failed (a read error, not a bad message): exit 66 (EX_NOINPUT). */
class InputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/**
 * A read-only stream buffer over a file descriptor (standard input, or a file --message names)
 * that reports a read error as an error: `underflow` throws InputError, so the istream on top
 * sets badbit (or throws, with `exceptions(badbit)`), where std::cin would report a mere end of
 * file. Seekable when the descriptor is (a regular file), so the message's size can be told.
 */
class InputBuf : public std::streambuf {
public:
    /** @param fd read from, not owned @param name for messages ("standard input", a path) */
    InputBuf(int fd, std::string name);

protected:
    int_type underflow() override;
    pos_type seekoff(off_type off, std::ios_base::seekdir dir,
                     std::ios_base::openmode which) override;
    pos_type seekpos(pos_type pos, std::ios_base::openmode which) override;

private:
    int fd_;
    std::string name_;
    std::array<char, 65536> buffer_{};
};

/**
 * A stream of `prefix` (the rewritten header block) followed by what `rest` holds (the body).
 * A read error in `rest` (badbit, or an exception from its buffer) is never taken for the end
 * of the message: `underflow` throws InputError, so the istream on top sets badbit and the
 * client aborts the transaction without the final dot; `error()` then says what failed.
 */
class PrefixedBuf : public std::streambuf {
public:
    PrefixedBuf(const std::string& prefix, std::istream& rest);

    /** @return what went wrong reading `rest`, or "" when nothing did. */
    [[nodiscard]] const std::string& error() const { return error_; }

    /** @return the octets this stream will deliver from now on, when `rest` can tell its
     * size (a regular file or a string), else nullopt. */
    [[nodiscard]] std::optional<std::uint64_t> remaining_size() const;

protected:
    int_type underflow() override;

private:
    const std::string& prefix_;
    std::istream& rest_;
    std::size_t offset_ = 0;
    std::string error_{};
    std::array<char, 65536> buffer_{};
};

/** A ready-made message's header, rewritten for sending, and its envelope. */
struct ReadyMessage {
    std::string header{};  ///< the header block without Bcc/Resent-Bcc, CRLF, with the empty line
    smtp::Envelope envelope{};
    bool has_from = false;        ///< the header has a From field
    bool has_date = false;        ///< … a Date field
    bool has_message_id = false;  ///< … a Message-ID field
    bool removed_bcc = false;     ///< a Bcc or Resent-Bcc field was taken out
};

/**
 * Reads the header block of a message from `in` (up to the empty line; the body stays in `in`,
 * to be streamed) and makes its envelope: the recipients given, and every address of To, Cc and
 * Bcc when `from_headers` (sendmail -t) or when none is given; the sender given, or else Sender
 * or From, or else `fallback_sender`. Bcc is taken out of the header.
 * @throws Error errc::invalid_input when the header does not parse, names no recipient or no
 * sender, or is larger than mime::HeaderBlock::max_size; InputError when `in` fails to read
 */
ReadyMessage read_ready_message(std::istream& in, const std::vector<std::string>& recipients,
                                const std::string& sender, bool from_headers = false,
                                const std::string& fallback_sender = {});

}  // namespace missive::cli
