// libFuzzer target: a whole Session fed arbitrary server bytes while sending three messages in a
// stream (the next one started as soon as can_send_next() allows, RFC 2920 3.1).
// Properties: nothing the server sends makes the session crash or throw; it always ends idle or
// closed; and every message started gets exactly one verdict (take_settled, or the operation's
// end).
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
    bool sending = false;  // a send operation is in progress
    int started = 0;
    int verdicts = 0;
    int body_pieces = 0;
    std::size_t pos = 0;
    Envelope e;
    e.from = "a@example.org";
    e.to = {"b@example.org", "c@example.org"};
    // Starts the next message; false when the session refuses (a fuzzed SIZE too small …).
    auto start = [&] {
        try {
            s.send(e);
        } catch (const missive::Error&) {
            return false;
        }
        ++started;
        sending = true;
        body_pieces = 0;
        return true;
    };
    auto settle = [&] {
        while (s.take_settled()) {
            ++verdicts;
        }
    };
    auto finish = [&] {
        settle();
        if (verdicts != started) {
            std::abort();  // a message without a verdict, or with two
        }
        return 0;
    };
    s.expect_greeting();
    for (int steps = 0; steps < 20000; ++steps) {
        settle();
        if (sending && started < 3 && s.can_send_next() && !start()) {
            return finish();
        }
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
                if (sending) {
                    sending = false;
                    ++verdicts;
                }
                if (!hello_sent) {
                    hello_sent = true;
                    s.hello("fuzz.example");
                } else if (started >= 3 || !start()) {
                    return finish();
                }
                break;
            case Want::closed:
                if (sending) {
                    ++verdicts;
                }
                return finish();
        }
    }
    std::abort();  // the dialogue must end
}
