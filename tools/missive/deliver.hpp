#pragma once

#include <missive/client/options.hpp>
#include <missive/mime/message.hpp>
#include <missive/smtp/envelope.hpp>

#include <CLI/CLI.hpp>

#include <filesystem>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace missive::cli {

/** What the command line, the account and the environment say about where mail goes. */
struct TargetFlags {
    std::string server{};                 ///< --server
    std::string account{};                ///< --account
    std::string config{};                 ///< --config
    std::string tls{};                    ///< --tls
    std::string ca_file{};                ///< --ca-file
    std::string tls_peer{};               ///< --tls-peer
    bool insecure = false;                ///< --insecure
    std::string user{};                   ///< --user
    std::string password_file{};          ///< --password-file
    std::string password_command{};       ///< --password-command
    std::string timeout{};                ///< --timeout, seconds; "" for the library's defaults
    std::string max_time{};               ///< --max-time, seconds; "" for no overall limit
    bool trace = false;                   ///< --trace
    std::string outbox{};                 ///< --outbox ("" for the default, outbox_location)
    bool queue = false;                   ///< --queue
    std::string idempotency_key{};        ///< --idempotency-key
    bool dry_run = false;                 ///< --dry-run
    bool json = false;                    ///< --json
    bool verbose = false;                 ///< sendmail -v
    std::vector<std::string> dkim_key{};  ///< --dkim-key (repeatable: one per signature)
    std::vector<std::string> dkim_selector{};  ///< --dkim-selector (once, or once per key)
    std::vector<std::string> dkim_domain{};    ///< --dkim-domain (once, or once per key)
};

/** Where a message goes and how. */
struct Target {
    std::string server{};  ///< a URL; "" stores in the outbox
    client::Options options{};
    std::string outbox{};  ///< where the outbox is, as given (resolved when it is opened)
    bool queue = false;    ///< store in the outbox even with a server
    /// Store in the outbox what a temporary failure left undelivered (sendmail, as Postfix's).
    bool queue_on_failure = false;
    std::string idempotency_key{};
    std::string default_from{};  ///< the account's `from`, for messages that name no sender
    bool dry_run = false;
    bool json = false;
    std::string limits{};  ///< the time limits given, in words, for a timeout's message
};

/** The range of --timeout, --max-time and an account's `timeout`, in seconds. */
inline constexpr double min_seconds = 0.001;
inline constexpr double max_seconds = 86400;

/**
 * @return the number of seconds `text` says, when it is a finite decimal number from
 * min_seconds to max_seconds (so not "inf", "nan", "1e300", "0" or "-1"), else nullopt
 */
std::optional<double> parse_seconds(std::string_view text);

/** Adds the flags that say where mail goes and how (--server … --max-time, --trace) to `app`. */
void add_target_flags(CLI::App& app, TargetFlags& t);

/** Adds --outbox to `app`. */
void add_outbox_flag(CLI::App& app, std::string& outbox);

/**
 * Resolves the flags: --server, else --account, else MISSIVE_SERVER, else the config's default
 * account, else the outbox. Credentials from MISSIVE_PASSWORD, --password-file,
 * --password-command or the account. The TLS mode from --tls, else the account's `tls`, else
 * unset (the URL's scheme decides; the library checks that they agree). Time limits from
 * --timeout (else the account's `timeout`, else the library's RFC 5321 defaults) and
 * --max-time. Warnings (a password on the command line) go to `warnings`.
 * @throws Error errc::config for a bad flag, account or password source
 */
Target make_target(const TargetFlags& flags, std::ostream& warnings);

/** Sends (or queues, or prints) a built message; the envelope from its headers unless given. */
int deliver(const Target& target, const mime::Message& message,
            const std::optional<smtp::Envelope>& envelope = std::nullopt);

/**
 * Sends a ready-made message read from `rest` (streamed, not held whole), with SIZE= when the
 * size can be told (a regular file or a string). A read error of `rest` aborts the transaction
 * (no final dot) and exits 66.
 * @param header the message's header block as it is to be sent (Bcc already removed)
 * @param rest the message after the header block
 */
int deliver_text(const Target& target, const std::string& header, std::istream& rest,
                 const smtp::Envelope& envelope);

}  // namespace missive::cli
