// One call, like Go's smtp.SendMail, with a trace of the dialogue on stderr.
// Usage: send_one_call HOST:PORT FROM TO...
#include <missive/missive.hpp>

#include <iostream>

int main(int argc, char** argv) {
    if (argc < 4) {
        std::cerr << "usage: send_one_call HOST:PORT FROM TO...\n";
        return 64;
    }
    missive::smtp::Envelope envelope{.from = argv[2], .to = {}, .params = {}};
    for (int i = 3; i < argc; ++i) {
        envelope.to.emplace_back(argv[i]);
    }
    missive::client::Options options;
    options.trace = [](missive::smtp::Direction d, std::string_view line) {
        std::cerr << (d == missive::smtp::Direction::client ? "C: " : "S: ") << line << '\n';
    };
    try {
        auto result = missive::send(argv[1], envelope,
                                    "Subject: one call\r\n\r\nSent by missive::send.\r\n", options);
        for (const auto& r : result.recipients) {
            std::cout << r.address << ": " << (r.accepted ? "accepted" : "refused") << " ("
                      << r.reply.to_string() << ")\n";
        }
    } catch (const missive::Error& e) {
        std::cerr << e.what() << '\n';
        return 1;
    }
}
