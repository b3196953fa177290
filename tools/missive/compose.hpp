#pragma once

// Composition shared by `missive send` (flags) and `missive send --batch` (one JSON line per
// message): the same header rules, Bcc never written, attachments streamed from their files.

#include <missive/mime/message.hpp>
#include <missive/smtp/envelope.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace missive::cli {

/** What a message is made of: the flags of `missive send`, or the fields of a batch line. */
struct MessageSpec {
    std::string from{};
    std::vector<std::string> to{}, cc{}, bcc{};
    std::string subject{};
    std::string text{};                       ///< the text/plain body
    std::string text_file{};                  ///< … or read from this file
    std::string html_file{};                  ///< an HTML body read from this file
    std::string html{};                       ///< … or this HTML body
    std::vector<std::string> attach{};        ///< files, streamed as the message is sent
    std::vector<std::string> inline_files{};  ///< files for the HTML, cid:<file name>
    /// Fields replacing any of the same name (what is written, not who gets it).
    std::vector<std::pair<std::string, std::string>> headers{};
    /// Fields added beside any of the same name.
    std::vector<std::pair<std::string, std::string>> add_headers{};
};

/** A composed message and the envelope it goes with. */
struct Composed {
    mime::Message message{};
    smtp::Envelope envelope{};
};

/**
 * Checks a header field given as `name` and `value`: fields missive writes itself
 * (Content-Type, Content-Transfer-Encoding, Content-Disposition, MIME-Version) and Bcc (never
 * written) are refused, naming `flag` ("--header", or a batch line's "headers").
 * @throws UsageError saying what to use instead
 */
void check_header_name(std::string_view name, const std::string& flag);

/**
 * @return a --header or --add-header 'Name: value' split in two, checked by check_header_name
 * @throws UsageError when it is not 'Name: value' or names a field that cannot be set
 */
std::pair<std::string, std::string> split_header(const std::string& h, const std::string& flag);

/**
 * Throws InputError (exit 66) with the OS's reason when `path` cannot be read: checked before
 * anything is built or sent, so a missing attachment never reaches a server.
 * @param flag what named the file, for the message ("--attach", "attach")
 */
void check_readable(const std::string& path, std::string_view flag);

/** @return the whole of `path` @throws InputError as check_readable */
std::string read_whole_file(const std::string& path, std::string_view flag);

/**
 * Builds the message `spec` describes: sender `spec.from` or else `default_from`, the text body
 * (when there is text, a text file or no HTML), the HTML body, inline files and attachments
 * (streamed), then the header fields (replacing, then adding). The envelope comes from the
 * addresses, before any header field is replaced: a replaced To changes what is written, not who
 * gets it. Bcc goes into the envelope only.
 * @param flag_style true names problems as `missive send`'s flags ("--from is required"), false
 * as a batch line's fields ("\"from\" is required")
 * @throws UsageError (no sender, no recipient), InputError (a file that cannot be read), Error
 * errc::invalid_input (an address that does not parse, with advice)
 */
Composed compose(const MessageSpec& spec, const std::string& default_from, bool flag_style = true);

}  // namespace missive::cli
