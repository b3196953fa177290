#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace missive::smtp {

/** BODY= of MAIL FROM (RFC 6152, RFC 3030). */
enum class BodyType {
    unspecified,     ///< no BODY parameter
    seven_bit,       ///< BODY=7BIT
    eight_bit_mime,  ///< BODY=8BITMIME; needs 8BITMIME
    binary_mime,     ///< BODY=BINARYMIME; needs BINARYMIME and CHUNKING, data sent unaltered
};

/** RET= of MAIL FROM (RFC 3461): how much of the message a DSN returns. */
enum class DsnReturn { unspecified, full, headers };

/** NOTIFY= of RCPT TO (RFC 3461), a set of flags; `never` excludes the others. */
enum class Notify : unsigned {
    unspecified = 0,
    never = 1,
    success = 2,
    failure = 4,
    delay = 8,
};

constexpr Notify operator|(Notify a, Notify b) {
    return static_cast<Notify>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}

constexpr bool has_flag(Notify set, Notify flag) {
    return (static_cast<unsigned>(set) & static_cast<unsigned>(flag)) != 0;
}

/** BY= of MAIL FROM (RFC 2852). */
struct DeliverBy {
    std::int64_t seconds = 0;    ///< by-time, relative; may be negative with mode N
    bool return_if_late = true;  ///< mode R (return) rather than N (notify)
    bool trace = false;          ///< the T modifier
};

/**
 * Parameters of MAIL FROM. Each goes on the command only when the server offers its
 * extension; asking for one that is not offered is an `errc::invalid_input` error, except SIZE,
 * which is informational and simply left out.
 */
struct MailParams {
    std::optional<std::uint64_t> size{};  ///< SIZE= (RFC 1870); also checked against the limit
    BodyType body = BodyType::unspecified;
    bool smtputf8 = false;  ///< SMTPUTF8 (RFC 6531); implied by non-ASCII addresses
    DsnReturn ret = DsnReturn::unspecified;  ///< RET= (RFC 3461)
    std::string envid{};                     ///< ENVID= (RFC 3461), xtext-encoded on the wire
    bool requiretls = false;                 ///< REQUIRETLS (RFC 8689)
    std::optional<DeliverBy> by{};           ///< BY= (RFC 2852)
    std::optional<int> mt_priority{};        ///< MT-PRIORITY= -9..9 (RFC 6710)
};

/** Parameters of RCPT TO (RFC 3461). */
struct RcptParams {
    Notify notify = Notify::unspecified;  ///< NOTIFY=
    std::string orcpt{};  ///< ORCPT=rfc822;… (the original address), xtext-encoded
};

/** One envelope recipient; converts from a plain address. */
struct Recipient {
    std::string address{};
    RcptParams params{};

    Recipient(std::string addr, RcptParams p = {})  // NOLINT(google-explicit-constructor)
        : address(std::move(addr))
        , params(std::move(p)) {}

    Recipient(const char* addr)  // NOLINT(google-explicit-constructor)
        : address(addr) {}
};

/** Who a message is from and to, as SMTP sees it; independent of the message's headers. */
struct Envelope {
    std::string from{};           ///< reverse path; "" for the null sender <>
    std::vector<Recipient> to{};  ///< forward paths
    MailParams params{};
};

}  // namespace missive::smtp
