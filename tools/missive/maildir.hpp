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
 * Stores `m` in the Maildir `dir` (see `prepare_maildir`): written to tmp/ under a unique name
 * with mode 0600, flushed to disk (fsync), then renamed into new/, whose directory entry is
 * flushed too, so that a reader never sees half a message and a crash loses none that was
 * acknowledged. On failure the file in tmp/ is removed. Lines end in LF, as mail readers on Unix
 * expect; Return-Path, X-Missive-Rcpt (the envelope recipients) and a Received field come first,
 * with what the client said (HELO name, addresses) passed through `printable` (text.hpp).
 * @return the file in new/
 * @throws std::filesystem::filesystem_error when the Maildir cannot be written (a full disk,
 * permissions), naming the file and the system's reason
 */
std::filesystem::path store_in_maildir(const std::filesystem::path& dir,
                                       const smtp::ReceivedMessage& m, const std::string& peer);

}  // namespace missive::cli
