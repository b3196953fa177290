// Built against the installed package: the public headers are self-sufficient and the library
// links. Runs a greeting and EHLO through the sans-I/O session.
#include <missive/missive.hpp>
#include <missive/smtp/session.hpp>

#include <iostream>

int main() {
    missive::smtp::Session s;
    s.expect_greeting();
    s.receive("220 mx ESMTP\r\n");
    s.hello("installed.example");
    s.consume_output(s.output().size());
    s.receive("250-mx\r\n250 PIPELINING\r\n");
    if (!s.capabilities().pipelining()) {
        return 1;
    }
    std::cout << "installed missive works\n";
    return 0;
}
