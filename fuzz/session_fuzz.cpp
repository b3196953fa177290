// libFuzzer target: a whole Session fed arbitrary server bytes while sending a message.
// Property: nothing the server sends makes the session crash or throw, and it always ends
// idle or closed.
#include <missive/smtp/session.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace missive::smtp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    SessionOptions o;
    o.chunk_size = 8;
    Session s(o);
    bool hello_sent = false;
    bool send_started = false;
    int body_pieces = 0;
    std::size_t pos = 0;
    s.expect_greeting();
    for (int steps = 0; steps < 10000; ++steps) {
        switch (s.want()) {
            case Want::output:
                s.consume_output(s.output().size());
                break;
            case Want::input: {
                if (pos >= input.size()) {
                    s.receive_eof();
                    break;
                }
                const std::size_t n =
                    std::min<std::size_t>(1 + (input[pos] & 15), input.size() - pos);
                s.receive(input.substr(pos, n));
                pos += n;
                break;
            }
            case Want::tls_handshake:
                s.tls_established();
                break;
            case Want::body:
                if (body_pieces++ < 3) {
                    s.write_body("line\n.\r\nmore");
                } else {
                    s.end_body();
                }
                break;
            case Want::idle:
                (void)s.take_error();
                if (!hello_sent) {
                    hello_sent = true;
                    s.hello("fuzz.example");
                } else if (!send_started) {
                    send_started = true;
                    Envelope e;
                    e.from = "a@example.org";
                    e.to = {"b@example.org", "c@example.org"};
                    try {
                        s.send(e);
                    } catch (const missive::Error&) {
                        return 0;  // e.g. the fuzzed EHLO offered a SIZE too small
                    }
                } else {
                    return 0;
                }
                break;
            case Want::closed:
                return 0;
        }
    }
    std::abort();  // the dialogue must end
}
