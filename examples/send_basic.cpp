// The five-minute example: send one message with the blocking client.
// Usage: send_basic HOST PORT FROM TO
#include <missive/missive.hpp>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
    if (argc != 5) {
        std::cerr << "usage: send_basic HOST PORT FROM TO\n";
        return 64;
    }
    const std::string from = argv[3];
    const std::string to = argv[4];
    const std::string message = "From: <" + from + ">\r\nTo: <" + to +
                                ">\r\nSubject: Hello from missive\r\n\r\nIt works.\r\n";
    try {
        missive::client::Client client;
        client.connect(argv[1], static_cast<std::uint16_t>(std::stoi(argv[2])));
        auto result = client.send({.from = from, .to = {to}}, message);
        client.quit();
        std::cout << "accepted by " << result.accepted().size() << " recipient(s), queue id '"
                  << result.queue_id << "'\n";
    } catch (const missive::Error& e) {
        std::cerr << "send failed: " << e.what() << '\n';
        return e.transient() ? 75 : 69;
    }
}
