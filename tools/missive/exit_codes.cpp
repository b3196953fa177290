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
        case errc::storage:
            return "storage";
    }
    return "unknown";
}

int exit_code_for(const Error& e) {
    // The library classifies (outcome_unknown(), transient(), permanent()); this only maps the
    // classes to sysexits.h, with a few kinds that name their own cause first.
    if (e.outcome_unknown()) {
        return exit_io;  // delivered or not: neither "retry later" nor "bounce"
    }
    switch (e.kind()) {
        case errc::config:
            return exit_config;
        case errc::invalid_input:
            return exit_data;
        case errc::auth_failed:
        case errc::auth_unavailable:
            return exit_no_perm;
        case errc::protocol:
            return exit_protocol;
        case errc::connect_failed: {
            // Asio reports a failed name lookup in its netdb/addrinfo categories.
            const std::string_view category = e.cause().category().name();
            if (category == "asio.netdb" || category == "asio.addrinfo") {
                return exit_no_host;
            }
            break;
        }
        case errc::cancelled:
            return exit_temp_fail;  // nothing was decided; the user may run it again
        case errc::storage:
            return exit_cant_create;  // the outbox cannot be written (disk full, I/O)
        default:
            break;
    }
    if (e.transient()) {
        return exit_temp_fail;
    }
    if (e.permanent()) {
        return exit_unavailable;
    }
    return exit_software;  // an error the library did not classify
}

}  // namespace missive::cli
