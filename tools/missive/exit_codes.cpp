#include "exit_codes.hpp"

#include <string_view>

namespace missive::cli {

std::string_view kind_name(errc kind) {
    switch (kind) {
        case errc::reply_transient:
            return "reply_transient";
        case errc::reply_permanent:
            return "reply_permanent";
        case errc::protocol:
            return "protocol";
        case errc::connect_failed:
            return "connect_failed";
        case errc::connection_lost:
            return "connection_lost";
        case errc::outcome_unknown:
            return "outcome_unknown";
        case errc::tls:
            return "tls";
        case errc::certificate:
            return "certificate";
        case errc::starttls_unavailable:
            return "starttls_unavailable";
        case errc::auth_failed:
            return "auth_failed";
        case errc::auth_unavailable:
            return "auth_unavailable";
        case errc::timeout:
            return "timeout";
        case errc::cancelled:
            return "cancelled";
        case errc::invalid_input:
            return "invalid_input";
        case errc::message_too_large:
            return "message_too_large";
        case errc::all_recipients_refused:
            return "all_recipients_refused";
        case errc::config:
            return "config";
    }
    return "unknown";
}

int exit_code_for(const Error& e) {
    switch (e.kind()) {
        case errc::reply_transient:
        case errc::connection_lost:
        case errc::outcome_unknown:  // a retry may deliver twice; the message says so
        case errc::timeout:
        case errc::cancelled:
            return exit_temp_fail;
        case errc::reply_permanent:
        case errc::message_too_large:
        case errc::starttls_unavailable:
        case errc::certificate:
            return exit_unavailable;
        case errc::all_recipients_refused:
            return e.transient() ? exit_temp_fail : exit_unavailable;
        case errc::connect_failed: {
            // Asio reports a failed name lookup in its netdb/addrinfo categories.
            const std::string_view category = e.cause().category().name();
            return category == "asio.netdb" || category == "asio.addrinfo" ? exit_no_host
                                                                           : exit_temp_fail;
        }
        case errc::protocol:
        case errc::tls:
            return exit_protocol;
        case errc::auth_failed:
        case errc::auth_unavailable:
            return exit_no_perm;
        case errc::invalid_input:
            return exit_data;
        case errc::config:
            return exit_config;
    }
    return exit_software;
}

}  // namespace missive::cli
