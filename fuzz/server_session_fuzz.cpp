// libFuzzer target: smtp::ServerSession, the server side that `missive capture` runs. Property:
// whatever a client sends, in whatever pieces, the session never crashes, its output stays
// bounded, and every message it hands out stays within the size limit. The first byte picks
// TLS, whether the driver confirms storage (and whether storing fails), and the piece size.
#include <missive/smtp/server_session.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    constexpr std::size_t max_size = 4096;
    const bool confirm = (data[0] & 2) != 0;
    missive::smtp::ServerSession s({.max_size = max_size,
                                    .max_line = 512,
                                    .tls_active = (data[0] & 1) != 0,
                                    .confirm_storage = confirm});
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    const std::size_t step = 1 + data[0] / 8;  // 1 to 32 bytes at a time
    std::size_t taken = 0;
    for (std::size_t at = 0; at < input.size() && !s.closed(); at += step) {
        s.receive(input.substr(at, step));
        if (s.output().size() > 64 * (input.size() + 1) + 1024) {
            std::abort();  // replies grow with the input, never more
        }
        s.consume_output(s.output().size());
        if (s.tls_requested()) {
            s.tls_started();
        }
        while (auto m = s.take_message()) {
            if (m->data.size() > max_size) {
                std::abort();
            }
            if (confirm) {
                if ((data[0] & 4) != 0 || ++taken % 2 == 0) {
                    s.message_stored();
                } else {
                    s.message_not_stored();
                }
                s.consume_output(s.output().size());
            }
        }
    }
    return 0;
}
