// dsn_send URL FROM TO ENVID MESSAGE_FILE: sends MESSAGE_FILE with missive::send and the DSN
// parameters of RFC 3461 (RET=HDRS ENVID=ENVID on MAIL, NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;TO
// on RCPT), which the missive command has no flags for. tests/interop/run builds it against
// the library (build/dev/libmissive.a) and checks what the server did with them.
// Prints the dialogue on stderr, one line per recipient on stdout: ADDRESS accepted|refused
// REPLY. Exit status: 0 sent, 1 failed (the error on stderr).
#include <missive/missive.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

int main(int argc, char** argv) {
    if (argc != 6) {
        std::cerr << "usage: dsn_send URL FROM TO ENVID MESSAGE_FILE\n";
        return 64;
    }
    std::ifstream in(argv[5], std::ios::binary);
    std::ostringstream message;
    message << in.rdbuf();
    using missive::smtp::Notify;
    missive::smtp::Envelope envelope{.from = argv[2], .to = {}, .params = {}};
    envelope.to.emplace_back(
        argv[3],
        missive::smtp::RcptParams{.notify = Notify::success | Notify::failure, .orcpt = argv[3]});
    envelope.params.ret = missive::smtp::DsnReturn::headers;
    envelope.params.envid = argv[4];
    missive::client::Options options;
    options.trace = [](missive::smtp::Direction d, std::string_view line) {
        std::cerr << (d == missive::smtp::Direction::client ? "C: " : "S: ") << line << '\n';
    };
    try {
        auto result = missive::send(argv[1], envelope, message.str(), options);
        for (const auto& r : result.recipients) {
            std::cout << r.address << ' ' << (r.accepted ? "accepted" : "refused") << ' '
                      << r.reply.to_string() << '\n';
        }
    } catch (const missive::Error& e) {
        std::cerr << "error: " << e.what() << '\n';
        return 1;
    }
    return 0;
}
