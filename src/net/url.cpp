#include <missive/error.hpp>
#include <missive/net/url.hpp>

#include <array>
#include <cctype>
#include <charconv>
#include <optional>

namespace missive::net {

namespace {

struct Scheme {
    std::string_view name;
    std::uint16_t port;
    TlsMode tls;
    bool lmtp;
};

constexpr std::array<Scheme, 8> schemes = {{
    {"smtp", 25, TlsMode::opportunistic, false},
    {"smtps", 465, TlsMode::implicit, false},
    {"submission", 587, TlsMode::starttls_required, false},
    {"submissions", 465, TlsMode::implicit, false},
    {"smtptls", 25, TlsMode::starttls_always, false},
    {"esmtp", 587, TlsMode::opportunistic, false},
    {"esmtptls", 587, TlsMode::starttls_always, false},
    {"lmtp", 24, TlsMode::opportunistic, true},
}};

[[noreturn]] void bad(const std::string& what) {
    throw Error(errc::config, "URL: " + what);
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (l >= 'a' && l <= 'f') {
        return l - 'a' + 10;
    }
    return -1;
}

// RFC 3986 2.1. A decoded CR, LF or NUL is refused: it would end up in a command.
std::string decode(std::string_view s, std::string_view what, bool plus_is_space = false) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            const int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
            const int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                bad("bad percent escape in the " + std::string(what));
            }
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (plus_is_space && s[i] == '+') {
            out += ' ';
        } else {
            out += s[i];
        }
    }
    for (char c : out) {
        if (c == '\r' || c == '\n' || c == '\0') {
            bad("the " + std::string(what) + " contains a control character");
        }
    }
    return out;
}

// Percent-decodes leniently (a bad escape stays as it is): for finding passwords, not for use.
std::string decode_lenient(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const int hi = s[i] == '%' && i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
        const int lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
        if (hi >= 0 && lo >= 0) {
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

// Replaces the password of every `scheme://user:password@` in `s` with "***". The userinfo
// ends at the last '@' after the "://" (a password may hold '@', '/' or '?'): this may hide
// more than the password, never less. @return whether anything was replaced
bool redact_userinfo(std::string& s) {
    bool any = false;
    std::size_t from = 0;
    for (;;) {
        const std::size_t sep = s.find("://", from);
        if (sep == std::string::npos) {
            return any;
        }
        const std::size_t start = sep + 3;
        const std::size_t at = s.rfind('@');
        if (at == std::string::npos || at < start) {
            return any;
        }
        const std::size_t colon = s.find(':', start);
        if (colon != std::string::npos && colon < at) {
            s.replace(colon + 1, at - colon - 1, "***");
            any = true;
            from = colon + 1 + 3 + 1;
        } else {
            from = at + 1;
        }
    }
}

// A query value as printed: any password inside it redacted, also one hidden under
// percent-encoding (decoded up to three times), and the characters that would end the value
// percent-encoded.
std::string printed_value(std::string_view value) {
    std::string text(value);
    std::string decoded = text;
    for (int round = 0; round < 3 && decoded.find('%') != std::string::npos; ++round) {
        decoded = decode_lenient(decoded);
    }
    if (redact_userinfo(decoded)) {
        text = decoded;
    } else {
        (void)redact_userinfo(text);
    }
    std::string out;
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f || c == '%' || c == '&' || c == '#' || c == '+') {
            constexpr std::string_view hex = "0123456789ABCDEF";
            out += '%';
            out += hex[u >> 4U];
            out += hex[u & 0xfU];
        } else {
            out += c;
        }
    }
    return out;
}

// The text of a URL that does not parse, for its error message: without what could be a
// user's password (everything up to the last '@'), and at most 40 characters.
std::string shown(std::string_view text) {
    const std::size_t at = text.rfind('@');
    std::string out = at == std::string_view::npos ? std::string() : std::string("...@");
    out += text.substr(at == std::string_view::npos ? 0 : at + 1, 40);
    return out;
}

}  // namespace

Url Url::parse(std::string_view text) {
    Url url;
    const std::size_t sep = text.find("://");
    if (sep == std::string_view::npos || sep == 0) {
        bad("'" + shown(text) + "' does not start with scheme://");
    }
    for (char c : text.substr(0, sep)) {
        url.scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    const Scheme* scheme = nullptr;
    for (const auto& s : schemes) {
        if (s.name == url.scheme) {
            scheme = &s;
        }
    }
    if (scheme == nullptr) {
        bad("unknown scheme '" + url.scheme +
            "' (known: smtp, smtps, submission, submissions, smtptls, esmtp, esmtptls, lmtp)");
    }
    url.tls = scheme->tls;
    url.lmtp = scheme->lmtp;
    url.port = scheme->port;

    std::string_view rest = text.substr(sep + 3);
    const std::size_t query_at = rest.find('?');
    std::string_view query =
        query_at == std::string_view::npos ? std::string_view{} : rest.substr(query_at + 1);
    rest = rest.substr(0, query_at);
    if (!rest.empty() && rest.front() == '/') {
        // No authority, a path: a Unix-domain socket (lmtp:///run/dovecot/lmtp), as Python's
        // smtplib.LMTP takes a host that starts with '/'.
        url.socket_path = decode(rest, "path");
        url.port = 0;
        if (url.socket_path.find('\0') != std::string::npos || url.socket_path.size() > 107) {
            bad("the socket path is longer than 107 octets or holds a NUL");
        }
        rest = {};
    }
    if (!rest.empty() && rest.back() == '/') {
        rest.remove_suffix(1);
    }
    if (rest.find('/') != std::string_view::npos) {
        bad("a mail server URL has no path");
    }
    // The user part ends at the last '@': a password may contain an unescaped '@'.
    const std::size_t at = rest.rfind('@');
    if (at != std::string_view::npos) {
        const std::string_view userinfo = rest.substr(0, at);
        const std::size_t colon = userinfo.find(':');
        url.user = decode(userinfo.substr(0, colon), "user");
        if (colon != std::string_view::npos) {
            url.password = decode(userinfo.substr(colon + 1), "password");
            url.has_password = true;
        }
        rest = rest.substr(at + 1);
    }
    std::string_view port;
    if (!rest.empty() && rest.front() == '[') {
        const std::size_t close = rest.find(']');
        if (close == std::string_view::npos) {
            bad("the IPv6 address lacks its closing ']'");
        }
        url.host = std::string(rest.substr(1, close - 1));
        rest = rest.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                bad("unexpected text after the IPv6 address");
            }
            port = rest.substr(1);
            if (port.empty()) {
                bad("empty port");
            }
        }
    } else {
        const std::size_t colon = rest.find(':');
        url.host = std::string(rest.substr(0, colon));
        if (colon != std::string_view::npos) {
            port = rest.substr(colon + 1);
            if (port.empty()) {
                bad("empty port");
            }
        }
    }
    if (url.host.empty() && url.socket_path.empty()) {
        bad("no host");
    }
    for (char c : url.host) {
        if (std::iscntrl(static_cast<unsigned char>(c)) != 0 || c == ' ') {
            bad("the host contains a space or control character");
        }
    }
    if (!port.empty()) {
        unsigned value = 0;
        const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc{} || ptr != port.data() + port.size() || value == 0 || value > 65535) {
            // Only digits are echoed: text there may be a password that lacks its '@'.
            const bool digits = port.find_first_not_of("0123456789") == std::string_view::npos;
            bad(digits ? "invalid port '" + std::string(port) + "'"
                       : std::string("invalid port (not a number)"));
        }
        url.port = static_cast<std::uint16_t>(value);
    }
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view item = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (item.empty()) {
            continue;
        }
        const std::size_t eq = item.find('=');
        std::string key = decode(item.substr(0, eq), "query", true);
        for (char& c : key) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        url.query[key] = eq == std::string_view::npos ? std::string()
                                                      : decode(item.substr(eq + 1), "query", true);
    }
    return url;
}

std::string Url::with_scheme(std::string_view text) {
    if (text.find("://") != std::string_view::npos) {
        return std::string(text);
    }
    // The port follows the last ':' after the user part and outside an IPv6 address's brackets.
    std::string_view authority = text.substr(0, text.find('?'));
    authority = authority.substr(
        authority.rfind('@') == std::string_view::npos ? 0 : authority.rfind('@') + 1);
    const std::size_t colon = authority.rfind(':');
    const std::size_t bracket = authority.rfind(']');
    const bool has_port =
        colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket);
    const bool implicit = has_port && authority.substr(colon + 1) == "465";
    return (implicit ? "smtps://" : "smtp://") + std::string(text);
}

std::string Url::redacted() const {
    std::string out = scheme + "://";
    if (!user.empty() || has_password) {
        out += user;
        if (has_password) {
            out += ":***";
        }
        out += '@';
    }
    if (!socket_path.empty()) {
        out += socket_path;
    } else {
        out += host.find(':') != std::string::npos ? "[" + host + "]" : host;
        out += ":" + std::to_string(port);
    }
    char sep = '?';
    for (const auto& [k, v] : query) {
        out += sep;
        out += printed_value(k);
        out += '=';
        out += printed_value(v);  // e.g. proxy=socks5://user:***@host
        sep = '&';
    }
    return out;
}

}  // namespace missive::net
