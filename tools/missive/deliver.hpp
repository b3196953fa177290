#pragma once

#include <missive/client/options.hpp>
#include <missive/mime/message.hpp>
#include <missive/smtp/envelope.hpp>

#include <filesystem>
#include <istream>
#include <optional>
#include <string>
#include <vector>

namespace missive::cli {

/** What the command line, the account and the environment say about where mail goes. */
struct TargetFlags {
    std::string server{};            ///< --server
    std::string account{};           ///< --account
    std::string config{};            ///< --config
    std::string tls{};               ///< --tls
    std::string ca_file{};           ///< --ca-file
    std::string tls_peer{};          ///< --tls-peer
    bool insecure = false;           ///< --insecure
    std::string user{};              ///< --user
    std::string password_file{};     ///< --password-file
    std::string password_command{};  ///< --password-command
    double timeout = 30;             ///< --timeout, seconds
    bool trace = false;              ///< --trace
    std::string outbox = "outbox";   ///< --outbox
    bool dry_run = false;            ///< --dry-run
    bool json = false;               ///< --json
    bool verbose = false;            ///< sendmail -v
};

/** Where a message goes and how. */
struct Target {
    std::string server{};  ///< a URL; "" sends to the outbox
    client::Options options{};
    std::filesystem::path outbox{};
    std::string default_from{};  ///< the account's `from`, for messages that name no sender
    bool dry_run = false;
    bool json = false;
};

/**
 * Resolves the flags: --server, else --account, else MISSIVE_SERVER, else the config's default
 * account, else the outbox. Credentials from MISSIVE_PASSWORD, --password-file,
 * --password-command or the account. Warnings (a password on the command line, a config file
 * others can read) go to `warnings`.
 * @throws Error errc::config for a bad flag, account or password source
 */
Target make_target(const TargetFlags& flags, std::ostream& warnings);

/** Sends (or saves, or prints) a built message; the envelope from its headers unless given. */
int deliver(const Target& target, const mime::Message& message,
            const std::optional<smtp::Envelope>& envelope = std::nullopt);

/**
 * Sends a ready-made message read from `text` (streamed, not held whole).
 * @param header the message's header block as it is to be sent (Bcc already removed)
 * @param rest the message after the header block
 */
int deliver_text(const Target& target, const std::string& header, std::istream& rest,
                 const smtp::Envelope& envelope);

/** @return `s` as a JSON string literal. */
std::string json_string(std::string_view s);

}  // namespace missive::cli
