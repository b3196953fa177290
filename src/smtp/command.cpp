#include "smtp/command.hpp"

#include <missive/error.hpp>

#include <algorithm>
#include <array>
#include <utility>

namespace missive::smtp::detail {

namespace {

std::string printable(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 100)) {
        if (c == '\r') {
            out += "\\r";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\0') {
            out += "\\0";
        } else {
            out += c;
        }
    }
    return out;
}

[[noreturn]] void invalid(std::string message) {
    throw Error(errc::invalid_input, std::move(message));
}

void require(bool offered, std::string_view what, std::string_view extension) {
    if (!offered) {
        invalid(std::string(what) + " requested but the server does not offer " +
                std::string(extension));
    }
}

}  // namespace

void check_line(std::string_view what, std::string_view value) {
    for (char c : value) {
        const char* name = c == '\r' ? "CR" : c == '\n' ? "LF" : c == '\0' ? "NUL" : nullptr;
        if (name != nullptr) {
            invalid(std::string(what) + " contains " + name + ": \"" + printable(value) + "\"");
        }
    }
}

void check_address(std::string_view what, std::string_view address) {
    check_line(what, address);
    for (char c : address) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || c == '<' || c == '>') {
            invalid(std::string(what) + " \"" + printable(address) + "\" is not a valid address");
        }
    }
}

bool has_non_ascii(std::string_view s) {
    return std::any_of(s.begin(), s.end(),
                       [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

std::string xtext(std::string_view s) {
    static constexpr std::string_view hex = "0123456789ABCDEF";
    std::string out;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 33 && u <= 126 && c != '+' && c != '=') {
            out += c;
        } else {
            out += '+';
            out += hex[u >> 4];
            out += hex[u & 0xf];
        }
    }
    return out;
}

std::string mail_command(std::string_view from, const MailParams& params, const Capabilities& caps,
                         bool needs_utf8, bool chunking) {
    check_address("sender address", from);
    std::string line = "MAIL FROM:<" + std::string(from) + ">";
    if (params.size) {
        const auto limit = caps.max_size();
        if (limit && *limit > 0 && *params.size > *limit) {
            throw Error(errc::message_too_large, "message of " + std::to_string(*params.size) +
                                                     " octets exceeds the server's limit of " +
                                                     std::to_string(*limit) + " octets (SIZE)");
        }
        if (limit) {
            line += " SIZE=" + std::to_string(*params.size);
        }
    }
    switch (params.body) {
        case BodyType::unspecified:
            break;
        case BodyType::seven_bit:
            if (caps.eight_bit_mime()) {  // BODY=7BIT is defined by 8BITMIME; without it, the
                                          // default
                line += " BODY=7BIT";
            }
            break;
        case BodyType::eight_bit_mime:
            require(caps.eight_bit_mime(), "BODY=8BITMIME", "8BITMIME");
            line += " BODY=8BITMIME";
            break;
        case BodyType::binary_mime:
            require(caps.binary_mime(), "BODY=BINARYMIME", "BINARYMIME");
            require(chunking, "BODY=BINARYMIME", "CHUNKING");
            line += " BODY=BINARYMIME";
            break;
    }
    if (params.smtputf8 || needs_utf8) {
        require(caps.smtputf8(), needs_utf8 ? "a non-ASCII address" : "SMTPUTF8", "SMTPUTF8");
        line += " SMTPUTF8";
    }
    if (params.ret != DsnReturn::unspecified) {
        require(caps.dsn(), "RET", "DSN");
        line += params.ret == DsnReturn::full ? " RET=FULL" : " RET=HDRS";
    }
    if (!params.envid.empty()) {
        require(caps.dsn(), "ENVID", "DSN");
        check_line("ENVID", params.envid);
        line += " ENVID=" + xtext(params.envid);
    }
    if (params.requiretls) {
        require(caps.requiretls(), "REQUIRETLS", "REQUIRETLS");
        line += " REQUIRETLS";
    }
    if (params.by) {
        require(caps.has("DELIVERBY"), "BY", "DELIVERBY");
        if (params.by->seconds <= 0 && params.by->return_if_late) {
            invalid("BY with mode R needs a positive by-time (RFC 2852)");
        }
        line += " BY=" + std::to_string(params.by->seconds) + ";" +
                (params.by->return_if_late ? "R" : "N") + (params.by->trace ? "T" : "");
    }
    if (params.mt_priority) {
        require(caps.mt_priority(), "MT-PRIORITY", "MT-PRIORITY");
        if (*params.mt_priority < -9 || *params.mt_priority > 9) {
            invalid("MT-PRIORITY must lie between -9 and 9, not " +
                    std::to_string(*params.mt_priority));
        }
        line += " MT-PRIORITY=" + std::to_string(*params.mt_priority);
    }
    return line;
}

std::string rcpt_command(std::string_view to, const RcptParams& params, const Capabilities& caps) {
    check_address("recipient address", to);
    if (to.empty()) {
        invalid("recipient address is empty");
    }
    std::string line = "RCPT TO:<" + std::string(to) + ">";
    if (params.notify != Notify::unspecified) {
        require(caps.dsn(), "NOTIFY", "DSN");
        if (has_flag(params.notify, Notify::never)) {
            if (params.notify != Notify::never) {
                invalid("NOTIFY=NEVER cannot be combined with other conditions (RFC 3461 4.1)");
            }
            line += " NOTIFY=NEVER";
        } else {
            std::string list;
            static constexpr std::array<std::pair<Notify, const char*>, 3> names = {
                {{Notify::success, "SUCCESS"},
                 {Notify::failure, "FAILURE"},
                 {Notify::delay, "DELAY"}}};
            for (const auto& [flag, name] : names) {
                if (has_flag(params.notify, flag)) {
                    list += (list.empty() ? "" : ",") + std::string(name);
                }
            }
            line += " NOTIFY=" + list;
        }
    }
    if (!params.orcpt.empty()) {
        require(caps.dsn(), "ORCPT", "DSN");
        check_line("ORCPT", params.orcpt);
        line += " ORCPT=rfc822;" + xtext(params.orcpt);
    }
    return line;
}

std::string queue_id(std::string_view text) {
    auto token_after = [&](std::string_view marker) -> std::string {
        const std::size_t at = text.find(marker);
        if (at == std::string_view::npos) {
            return {};
        }
        std::string_view rest = text.substr(at + marker.size());
        const std::size_t end = rest.find_first_of(" \t;,");
        return std::string(rest.substr(0, end));
    };
    // Postfix: "Ok: queued as 4Xb2Jk1v2z"; Exim: "OK id=1qAbCd-0001Xy-2Z".
    if (auto id = token_after("queued as "); !id.empty()) {
        return id;
    }
    return token_after("id=");
}

}  // namespace missive::smtp::detail
