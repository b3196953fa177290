#pragma once

#include <missive/net/tls.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace missive::net {

/**
 * A server given as a URL, as Qore's SmtpClient and many mail tools accept it:
 * `scheme://[user[:password]@]host[:port][/][?key=value&…]`, user and password percent-decoded.
 *
 * | scheme          | port | TLS                                              |
 * |-----------------|------|--------------------------------------------------|
 * | smtp            | 25   | opportunistic STARTTLS                           |
 * | smtps           | 465  | implicit                                         |
 * | submission      | 587  | STARTTLS required                                |
 * | submissions     | 465  | implicit (RFC 8314's name)                       |
 * | smtptls         | 25   | STARTTLS sent even when not offered, must succeed |
 * | esmtp           | 587  | opportunistic STARTTLS                           |
 * | esmtptls        | 587  | as smtptls                                       |
 * | lmtp            | 24   | opportunistic STARTTLS, LMTP (RFC 2033)          |
 *
 * An IPv6 address goes in brackets (`smtp://[::1]:2525`). A path instead of a host names a
 * Unix-domain socket: `lmtp:///run/dovecot/lmtp` (Dovecot's LMTP, as Python's smtplib.LMTP).
 */
struct Url {
    std::string scheme{};       ///< lower-case
    std::string host{};         ///< without brackets; "" with a socket path
    std::string socket_path{};  ///< a Unix-domain socket (`lmtp:///run/dovecot/lmtp`), else ""
    std::uint16_t port = 0;     ///< as given, else the scheme's default
    std::string user{};         ///< percent-decoded; "" when absent
    std::string password{};     ///< percent-decoded; "" when absent
    bool has_password = false;
    TlsMode tls = TlsMode::opportunistic;  ///< what the scheme asks for
    bool lmtp = false;
    std::map<std::string, std::string> query{};  ///< keys lower-case, values percent-decoded

    /**
     * @throws Error errc::config naming what is wrong ("unknown scheme 'smtpx'", "invalid port
     * '99999'", …); the password never appears in the message
     */
    static Url parse(std::string_view text);

    /**
     * A server given as `host[:port]`, as msmtp and swaks take it, made a URL: port 465 means
     * implicit TLS (`smtps://`, RFC 8314), any other port or none `smtp://`. Text that has a
     * scheme is returned as it is.
     * @return the text with a scheme; nothing is checked (parse() does that)
     */
    [[nodiscard]] static std::string with_scheme(std::string_view text);

    /** @return the URL with the password replaced by "***" (for logs and traces). */
    [[nodiscard]] std::string redacted() const;
};

}  // namespace missive::net
