#include "advice.hpp"

#include <missive/net/url.hpp>

#include "text.hpp"

#include <algorithm>

namespace missive::cli {

namespace {

bool contains(std::string_view text, std::string_view part) {
    return text.find(part) != std::string_view::npos;
}

// Edits (insert, delete, replace, swap two neighbours) from `a` to `b`: optimal string alignment.
std::size_t distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) {
        d[i][0] = i;
    }
    for (std::size_t j = 0; j <= b.size(); ++j) {
        d[0][j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.size()][b.size()];
}

}  // namespace

std::string advice_for(const Error& error, std::string_view server,
                       const client::Options& options) {
    net::TlsMode mode = net::TlsMode::opportunistic;
    std::string host_port = "HOST:PORT";
    try {
        const net::Url url = net::Url::parse(server);
        mode = options.tls.value_or(url.tls);
        host_port = (contains(url.host, ":") ? "[" + url.host + "]" : url.host) + ":" +
                    std::to_string(url.port);
    } catch (const Error&) {
        return {};
    }
    const std::string_view what = error.what();
    switch (error.kind()) {
        case errc::tls:
            // OpenSSL's words for a first record that is no TLS at all: "220 …" in plain text.
            if (mode == net::TlsMode::implicit && contains(what, "wrong version number")) {
                return "the server answered in plain text: a STARTTLS port? use smtp:// or "
                       "submission://";
            }
            break;
        case errc::timeout:
            if (mode != net::TlsMode::implicit && contains(what, "greeting")) {
                return "no greeting: a port that expects TLS at once (as 465 does) stays silent "
                       "until the handshake; if this is one, use smtps://" +
                       host_port;
            }
            break;
        case errc::certificate:
            return "if you trust this server, give the CA that signed its certificate with "
                   "--ca-file FILE (for `missive capture`: MAILDIR/capture-cert.pem); if the "
                   "certificate is made out to another name, give that name with --tls-peer NAME";
        default:
            break;
    }
    return {};
}

std::string address_advice(std::string_view text) {
    if (contains(text, ";")) {
        return "separate addresses with a comma, not ';'";
    }
    if (contains(text, "<")) {
        return {};
    }
    const std::size_t space = text.find_last_of(" \t");
    if (space == std::string_view::npos) {
        return {};
    }
    const std::string_view address = text.substr(space + 1);
    std::string_view name = text.substr(0, space);
    name.remove_suffix(name.size() - (name.find_last_not_of(" \t") + 1));
    if (!contains(address, "@") || name.empty() || contains(name, "@")) {
        return {};
    }
    return "did you mean '" + printable(name) + " <" + printable(address) + ">'?";
}

std::optional<std::string> closest(std::string_view word,
                                   const std::vector<std::string>& candidates) {
    std::optional<std::string> best;
    std::size_t best_distance = 3;
    for (const std::string& c : candidates) {
        const std::size_t d = distance(word, c);
        if (d < best_distance && 2 * d < word.size()) {
            best = c;
            best_distance = d;
        }
    }
    return best;
}

}  // namespace missive::cli
