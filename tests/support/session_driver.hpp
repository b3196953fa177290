#pragma once

#include <missive/smtp/session.hpp>

#include <string>
#include <string_view>

namespace missive::test {

/** @return the session's pending output, and marks it written. */
inline std::string take_output(smtp::Session& s) {
    std::string out(s.output());
    s.consume_output(out.size());
    return out;
}

/** A session past its greeting and EHLO, with `extensions` as the EHLO lines after the first. */
inline smtp::Session ready_session(std::string_view extensions, smtp::SessionOptions opts = {}) {
    smtp::Session s(std::move(opts));
    s.expect_greeting();
    s.receive("220 mx.example.org ESMTP\r\n");
    s.hello("client.example.org");
    (void)take_output(s);
    std::string reply = "250";
    reply += extensions.empty() ? " " : "-";
    reply += "mx.example.org\r\n";
    std::string_view rest = extensions;
    while (!rest.empty()) {
        const std::size_t nl = rest.find('\n');
        const std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        reply += rest.empty() ? "250 " : "250-";
        reply += line;
        reply += "\r\n";
    }
    s.receive(reply);
    (void)s.take_error();
    return s;
}

}  // namespace missive::test
