#pragma once

#include <missive/smtp/server_session.hpp>

#include <filesystem>

namespace missive::cli {

/**
 * Stores `m` in the Maildir `dir` (creating tmp/, new/ and cur/): written to tmp/ under a unique
 * name, then renamed into new/, so that a reader never sees half a message. Lines end in LF, as
 * mail readers on Unix expect; Return-Path, X-Missive-Rcpt (the envelope recipients) and a
 * Received field come first.
 * @return the file in new/
 * @throws std::filesystem::filesystem_error when the directory cannot be written
 */
std::filesystem::path store_in_maildir(const std::filesystem::path& dir,
                                       const smtp::ReceivedMessage& m, const std::string& peer);

}  // namespace missive::cli
