// A multilingual HTML message with an inline image and a file attachment, built with
// mime::Builder and streamed to the server (the attachment is read as it is sent).
// Usage: send_message HOST PORT FROM TO [FILE-TO-ATTACH]
#include <missive/mime/builder.hpp>
#include <missive/missive.hpp>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
    if (argc < 5) {
        std::cerr << "usage: send_message HOST PORT FROM TO [FILE-TO-ATTACH]\n";
        return 64;
    }
    try {
        missive::mime::Builder message;
        message.from(argv[3])
            .to(argv[4])
            .subject("Grüße aus Köln — こんにちは 👋")
            .text("Hello!\nThe logo is in the HTML part.\n")
            .html("<p>Hello! <img src=\"cid:logo\" alt=\"logo\"></p>")
            .inline_data(std::string("\x89PNG\r\n\x1a\n", 8), "logo", "image/png");
        if (argc > 5) {
            message.attach_file(argv[5]);  // type guessed from the name; never held in memory
        }

        missive::client::Client client;
        client.connect(argv[1], static_cast<std::uint16_t>(std::stoi(argv[2])));
        const auto result = client.send(message.build());  // envelope from From/To/Cc/Bcc
        client.quit();
        for (const auto& r : result.recipients) {
            std::cout << r.address << ": " << (r.accepted ? "accepted" : "refused") << " ("
                      << r.reply.to_string() << ")\n";
        }
    } catch (const missive::Error& e) {
        std::cerr << e.what() << '\n';
        return e.transient() ? 75 : 69;
    }
}
