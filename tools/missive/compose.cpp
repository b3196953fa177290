#include "compose.hpp"

#include <missive/client/prepare.hpp>
#include <missive/error.hpp>
#include <missive/mime/builder.hpp>
#include <missive/mime/headers.hpp>

#include "advice.hpp"
#include "failure.hpp"
#include "message_input.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

namespace missive::cli {

namespace {

using AddAddresses = mime::Builder& (mime::Builder::*)(std::string_view);

// Adds an address list, with advice when it does not parse ("did you mean …?").
void add_addresses(mime::Builder& b, AddAddresses add, const std::string& list) {
    try {
        (b.*add)(list);
    } catch (const Error& e) {
        const std::string advice = address_advice(list);
        throw Error(e.kind(), std::string(e.what()) + (advice.empty() ? "" : "; " + advice));
    }
}

}  // namespace

void check_readable(const std::string& path, std::string_view flag) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        ec = std::make_error_code(std::errc::is_a_directory);
    } else if (const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC); fd < 0) {
        ec = std::error_code(errno, std::generic_category());
    } else {
        ::close(fd);
    }
    if (ec) {
        throw InputError(std::string(flag) + " '" + path +
                         "' cannot be read: " + std::generic_category().message(ec.value()));
    }
}

std::string read_whole_file(const std::string& path, std::string_view flag) {
    check_readable(path, flag);
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    if (in.bad()) {
        throw InputError(std::string(flag) + " '" + path + "' cannot be read");
    }
    return s.str();
}

void check_header_name(std::string_view name, const std::string& flag) {
    const bool is_flag = flag.starts_with("--");
    for (const char* own :
         {"Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "MIME-Version"}) {
        if (mime::iequals(name, own)) {
            std::string what = flag;
            what.append(" '").append(name).append(
                is_flag ? ": …': missive writes this field itself; for an HTML body use "
                          "--html-file FILE (with --text for a plain-text alternative), for a "
                          "file --attach FILE"
                        : ": …': missive writes this field itself; for an HTML body use \"html\" "
                          "(with \"text\" for a plain-text alternative), for a file \"attach\"");
            throw UsageError(what);
        }
    }
    if (mime::iequals(name, "Bcc")) {
        throw UsageError(flag + " 'Bcc: …': a Bcc field is never written; use " +
                         (is_flag ? "--bcc" : "\"bcc\""));
    }
}

std::pair<std::string, std::string> split_header(const std::string& h, const std::string& flag) {
    const auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
        throw UsageError(flag + " must be 'Name: value', not '" + h + "'");
    }
    std::string name = h.substr(0, colon);
    std::string value = h.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    check_header_name(name, flag);
    return {std::move(name), std::move(value)};
}

Composed compose(const MessageSpec& spec, const std::string& default_from, bool flag_style) {
    const auto field = [flag_style](const char* flag, const char* key) {
        return flag_style ? std::string(flag) : "\"" + std::string(key) + "\"";
    };
    mime::Builder b;
    const std::string& from = spec.from.empty() ? default_from : spec.from;
    if (from.empty()) {
        throw UsageError(field("--from", "from") + " is required (or `from` in the account)");
    }
    if (spec.to.empty() && spec.cc.empty() && spec.bcc.empty()) {
        throw UsageError(flag_style ? "no recipient: give --to, --cc or --bcc"
                                    : R"(no recipient: give "to", "cc" or "bcc")");
    }
    for (const auto& path : spec.inline_files) {
        check_readable(path, field("--inline", "inline"));
    }
    for (const auto& path : spec.attach) {
        check_readable(path, field("--attach", "attach"));
    }
    add_addresses(b, &mime::Builder::from, from);
    for (const auto& a : spec.to) {
        add_addresses(b, &mime::Builder::to, a);
    }
    for (const auto& a : spec.cc) {
        add_addresses(b, &mime::Builder::cc, a);
    }
    for (const auto& a : spec.bcc) {
        add_addresses(b, &mime::Builder::bcc, a);
    }
    b.subject(spec.subject);
    const bool has_html = !spec.html_file.empty() || !spec.html.empty();
    if (!spec.text.empty() || !spec.text_file.empty() || !has_html) {
        b.text(spec.text_file.empty()
                   ? spec.text
                   : read_whole_file(spec.text_file, field("--text-file", "text_file")));
    }
    if (has_html) {
        b.html(spec.html_file.empty()
                   ? spec.html
                   : read_whole_file(spec.html_file, field("--html-file", "html_file")));
    }
    for (const auto& path : spec.inline_files) {
        b.inline_file(path, std::filesystem::path(path).filename().string());
    }
    for (const auto& path : spec.attach) {
        b.attach_file(path);
    }
    Composed c{b.build(), {}};
    // The envelope comes from the addresses: a header that replaces To or From (swaks'
    // --header) changes what is written, not who gets it.
    c.envelope = client::envelope_of(c.message);
    for (const auto& [name, value] : spec.headers) {
        c.message.headers.set(name, value);
    }
    for (const auto& [name, value] : spec.add_headers) {
        c.message.headers.add(name, value);
    }
    return c;
}

}  // namespace missive::cli
