#pragma once

// The server side of a plain SMTP conversation for testing::Server, answered command by
// command: what most tests that run the missive binary against a scripted server need.

#include <missive/testing/server.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace missive::test {

/** Decides the reply to one command line (or "." for the end of the data); nothing: the usual. */
using Decide = std::function<std::optional<std::string>(const std::string& line)>;

/**
 * @return a conversation that greets with `greeting` (and ends there unless it is a 220), then
 * answers each command with `decide(line)` or else by its verb: EHLO "250 mx.test", DATA
 * "354 go ahead" (then the data is read and answered with decide(".") or
 * "250 2.0.0 queued as ABC123"), QUIT "221 bye" (and the end), anything else "250 ok". The
 * reply "drop" closes the connection without a word.
 */
inline std::function<void(testing::Conversation&)> answering_with(
    Decide decide, std::string greeting = "220 mx.test") {
    return [decide = std::move(decide), greeting = std::move(greeting)](testing::Conversation& c) {
        c.send_line(greeting);
        if (greeting.rfind("220", 0) != 0) {
            return;
        }
        for (;;) {
            const std::string line = c.read_line();
            const std::string verb = line.substr(0, line.find_first_of(" :"));
            const std::string reply = decide(line).value_or(verb == "EHLO"   ? "250 mx.test"
                                                            : verb == "QUIT" ? "221 bye"
                                                            : verb == "DATA" ? "354 go ahead"
                                                                             : "250 ok");
            if (reply == "drop") {
                return;
            }
            c.send_line(reply);
            if (verb == "DATA" && reply.rfind("354", 0) == 0) {
                (void)c.read_data();
                const std::string end = decide(".").value_or("250 2.0.0 queued as ABC123");
                if (end == "drop") {
                    return;
                }
                c.send_line(end);
            }
            if (verb == "QUIT") {
                return;
            }
        }
    };
}

/** As above, with the replies by verb (the command's first word; "." for the end of the data). */
inline std::function<void(testing::Conversation&)> answering(
    std::map<std::string, std::string> answers, std::string greeting = "220 mx.test") {
    return answering_with(
        [answers = std::move(answers)](const std::string& line) -> std::optional<std::string> {
            const auto it = answers.find(line.substr(0, line.find_first_of(" :")));
            return it == answers.end() ? std::nullopt : std::optional(it->second);
        },
        std::move(greeting));
}

}  // namespace missive::test
