// Send through a submission server: STARTTLS required, the certificate checked against a CA
// file, then AUTH with the strongest mechanism both sides have.
// Usage: send_submission HOST PORT CA_FILE USER FROM TO   (password in $MISSIVE_PASSWORD)
#include <missive/missive.hpp>

#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
    if (argc != 7 || std::getenv("MISSIVE_PASSWORD") == nullptr) {  // NOLINT(concurrency-mt-unsafe)
        std::cerr << "usage: MISSIVE_PASSWORD=… send_submission HOST PORT CA_FILE USER FROM TO\n";
        return 64;
    }
    missive::client::Options options;
    options.tls = missive::client::TlsMode::starttls_required;
    options.tls_options.ca_file = argv[3];
    options.credentials = missive::sasl::Credentials{
        .user = argv[4], .password = std::getenv("MISSIVE_PASSWORD"), .authzid = {}};  // NOLINT
    try {
        missive::client::Client client(options);
        client.connect(argv[1], static_cast<std::uint16_t>(std::stoi(argv[2])));
        std::cout << "TLS " << client.tls()->version << ", logged in\n";
        auto result =
            client.send({.from = argv[5], .to = {argv[6]}, .params = {}},
                        "Subject: via submission\r\n\r\nSent over TLS, authenticated.\r\n");
        client.quit();
        std::cout << "queued as '" << result.queue_id << "'\n";
    } catch (const missive::Error& e) {
        std::cerr << e.what() << '\n';
        return e.transient() ? 75 : 69;
    }
}
