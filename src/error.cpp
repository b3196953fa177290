#include <missive/error.hpp>

#include <string>
#include <utility>

namespace missive {

namespace {

class Category final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "missive"; }

    [[nodiscard]] std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
            case errc::reply_transient:
                return "the server refused temporarily (4xx)";
            case errc::reply_permanent:
                return "the server refused permanently (5xx)";
            case errc::protocol:
                return "the server broke the SMTP protocol";
            case errc::connect_failed:
                return "could not connect to the server";
            case errc::connection_lost:
                return "the connection was lost";
            case errc::outcome_unknown:
                return "the connection was lost after the message was sent; it may have been "
                       "accepted";
            case errc::tls:
                return "TLS failed";
            case errc::certificate:
                return "the server's certificate was not accepted";
            case errc::starttls_unavailable:
                return "TLS is required but the server does not offer STARTTLS";
            case errc::auth_failed:
                return "authentication failed";
            case errc::auth_unavailable:
                return "no usable authentication mechanism";
            case errc::timeout:
                return "timed out";
            case errc::cancelled:
                return "cancelled";
            case errc::invalid_input:
                return "invalid input";
            case errc::message_too_large:
                return "the message is larger than the server accepts";
            case errc::all_recipients_refused:
                return "every recipient was refused";
            case errc::config:
                return "configuration error";
            case errc::storage:
                return "the outbox's storage failed";
        }
        return "unknown missive error " + std::to_string(value);
    }
};

}  // namespace

const std::error_category& category() noexcept {
    static const Category instance;
    return instance;
}

std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), category()};
}

struct Error::Data {
    errc code;
    std::string message;
    ErrorDetails details;
};

Error::Error(errc code, std::string message, Details details)
    : std::system_error(make_error_code(code), message)
    , data_(std::make_shared<const Data>(Data{code, std::move(message), std::move(details)})) {}

const char* Error::what() const noexcept {
    return data_->message.c_str();
}

errc Error::kind() const noexcept {
    return data_->code;
}

const std::optional<smtp::Reply>& Error::reply() const noexcept {
    return data_->details.reply;
}

const std::string& Error::command() const noexcept {
    return data_->details.command;
}

std::error_code Error::cause() const noexcept {
    return data_->details.cause;
}

const std::optional<smtp::SendResult>& Error::report() const noexcept {
    return data_->details.report;
}

bool Error::connection_usable() const noexcept {
    return data_->details.connection_usable;
}

namespace {

// How the refused recipients of an all_recipients_refused report were refused.
struct Refusals {
    bool any_transient = false;  // at least one 4xx
    bool all_permanent = false;  // at least one refusal, each 5xx
};

Refusals refusals_of(const smtp::SendResult& report) {
    Refusals r;
    bool any = false;
    bool only_permanent = true;
    for (const smtp::RecipientResult& recipient : report.recipients) {
        if (recipient.accepted) {
            continue;
        }
        any = true;
        r.any_transient = r.any_transient || recipient.reply.transient();
        only_permanent = only_permanent && recipient.reply.permanent();
    }
    r.all_permanent = any && only_permanent;
    return r;
}

}  // namespace

bool Error::transient() const noexcept {
    const ErrorDetails& d = data_->details;
    switch (data_->code) {
        case errc::reply_transient:
        case errc::connect_failed:
        case errc::connection_lost:
        case errc::timeout:
        // A certificate or TLS failure may be mended on the server's side (an expired
        // certificate renewed): MTAs such as Postfix defer the message, they do not bounce it.
        case errc::tls:
        case errc::certificate:
            return true;
        case errc::starttls_unavailable:
            // Not offered, or refused with 4xx: temporary; refused with 5xx: permanent.
            return !(d.reply && d.reply->permanent());
        case errc::reply_permanent:
        case errc::invalid_input:
        case errc::message_too_large:
        // A retry after outcome_unknown could deliver the message twice: the caller must decide.
        case errc::outcome_unknown:
        case errc::cancelled:
            return false;
        case errc::all_recipients_refused:
            if (d.report) {
                return refusals_of(*d.report).any_transient;
            }
            break;
        default:
            break;
    }
    // Any other kind (auth_failed after 454, say) is transient when the server said so.
    return d.reply && d.reply->transient();
}

bool Error::permanent() const noexcept {
    const ErrorDetails& d = data_->details;
    switch (data_->code) {
        case errc::reply_permanent:
        case errc::invalid_input:
        case errc::message_too_large:
            return true;
        case errc::reply_transient:
        case errc::connect_failed:
        case errc::connection_lost:
        case errc::timeout:
        case errc::tls:
        case errc::certificate:
        case errc::outcome_unknown:
        case errc::cancelled:
            return false;
        case errc::all_recipients_refused:
            if (d.report) {
                return refusals_of(*d.report).all_permanent;
            }
            break;
        default:
            break;
    }
    return d.reply && d.reply->permanent();
}

bool Error::outcome_unknown() const noexcept {
    return data_->code == errc::outcome_unknown;
}

}  // namespace missive
