#pragma once

#include <missive/smtp/server_session.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace missive::cli {

/**
 * Creates the Maildir `dir` and its tmp/, new/ and cur/ where missing, each with mode 0700 (the
 * messages are other people's mail); missing parents of `dir` get the usual mode.
 * @throws std::filesystem::filesystem_error when a directory cannot be created
 */
void prepare_maildir(const std::filesystem::path& dir);

/**
 * @return `text` with every control character written as an escape, so that it can go into a
 * header field or onto a terminal without starting a new line or an escape sequence: CR, LF and
 * TAB as `\r`, `\n`, `\t`, other bytes below 0x20 and DEL as `\xHH`, and the C1 controls
 * (U+0080 to U+009F, in UTF-8) as `\xC2\xHH`. Everything else, UTF-8 included, is kept.
 */
std::string escape_controls(std::string_view text);

/**
 * Stores `m` in the Maildir `dir` (see `prepare_maildir`): written to tmp/ under a unique name
 * with mode 0600, flushed to disk (fsync), then renamed into new/, whose directory entry is
 * flushed too, so that a reader never sees half a message and a crash loses none that was
 * acknowledged. On failure the file in tmp/ is removed. Lines end in LF, as mail readers on Unix
 * expect; Return-Path, X-Missive-Rcpt (the envelope recipients) and a Received field come first,
 * with what the client said (HELO name, addresses) passed through `escape_controls`.
 * @return the file in new/
 * @throws std::filesystem::filesystem_error when the Maildir cannot be written (a full disk,
 * permissions), naming the file and the system's reason
 */
std::filesystem::path store_in_maildir(const std::filesystem::path& dir,
                                       const smtp::ReceivedMessage& m, const std::string& peer);

}  // namespace missive::cli
