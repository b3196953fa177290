#pragma once

#include <missive/smtp/reply.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace missive::smtp {

/**
 * What a server offered in its EHLO (or LHLO) reply: one keyword per line after the first,
 * with optional parameters (RFC 5321 4.1.1.1). Keywords compare case-insensitively.
 */
class Capabilities {
public:
    Capabilities() = default;

    /**
     * @param ehlo the positive reply to EHLO/LHLO; its first line is the server's domain.
     * @return the capabilities it lists. Old `AUTH=MECH …` lines merge into AUTH.
     */
    static Capabilities parse(const Reply& ehlo);

    /** @return the parameters of extension `name` ("" when it has none), nullopt if absent
     * (like Go's `Client.Extension`). */
    [[nodiscard]] std::optional<std::string> extension(std::string_view name) const;

    /** @return true when `name` was offered. */
    [[nodiscard]] bool has(std::string_view name) const;

    /** @return the domain from the first line of the EHLO reply. */
    [[nodiscard]] const std::string& domain() const { return domain_; }

    /** @return SIZE's limit in octets: nullopt when not offered, 0 when offered without one. */
    [[nodiscard]] std::optional<std::uint64_t> max_size() const;

    /** @return the SASL mechanisms offered by AUTH, upper-case, in the server's order. */
    [[nodiscard]] const std::vector<std::string>& auth_mechanisms() const { return auth_; }

    /** @return LIMITS RCPTMAX (RFC 9422): most recipients per transaction. */
    [[nodiscard]] std::optional<std::uint64_t> rcpt_max() const;

    /** @return LIMITS MAILMAX (RFC 9422): most transactions per connection. */
    [[nodiscard]] std::optional<std::uint64_t> mail_max() const;

    /** @return DELIVERBY's minimum by-time in seconds (0 when none was given). */
    [[nodiscard]] std::optional<std::int64_t> deliver_by_min() const;

    [[nodiscard]] bool pipelining() const { return has("PIPELINING"); }

    [[nodiscard]] bool eight_bit_mime() const { return has("8BITMIME"); }

    [[nodiscard]] bool smtputf8() const { return has("SMTPUTF8"); }

    [[nodiscard]] bool chunking() const { return has("CHUNKING"); }

    [[nodiscard]] bool binary_mime() const { return has("BINARYMIME"); }

    [[nodiscard]] bool dsn() const { return has("DSN"); }

    [[nodiscard]] bool enhanced_status_codes() const { return has("ENHANCEDSTATUSCODES"); }

    [[nodiscard]] bool starttls() const { return has("STARTTLS"); }

    [[nodiscard]] bool requiretls() const { return has("REQUIRETLS"); }

    [[nodiscard]] bool mt_priority() const { return has("MT-PRIORITY"); }

    /** @return every keyword (upper-case) with its parameters. */
    [[nodiscard]] const std::map<std::string, std::string>& all() const { return ext_; }

private:
    [[nodiscard]] std::optional<std::uint64_t> limit(std::string_view key) const;

    std::string domain_;
    std::map<std::string, std::string> ext_;
    std::vector<std::string> auth_;
};

}  // namespace missive::smtp
