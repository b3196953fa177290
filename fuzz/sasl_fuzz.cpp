// libFuzzer target: the SASL mechanisms' challenge parsers (SCRAM's server messages, DIGEST-MD5
// directives, LOGIN, CRAM-MD5, OAuth). Property: a hostile challenge only ever ends in
// Error(errc::auth_failed), never in a crash or another exception.
#include <missive/error.hpp>
#include <missive/sasl/mechanisms.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace missive::sasl;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const Credentials c{"user", "pencil", ""};
    std::unique_ptr<Mechanism> m;
    switch (data[0] % 5) {
        case 0:
            m = make_scram(c, ScramHash::sha1, "fyko+d2lbbFgONRv9qkxdawL");
            break;
        case 1:
            m = make_scram(c, ScramHash::sha256, "rOprNGfwEbeRWgbNEkqO");
            break;
        case 2:
            m = make_digest_md5(c, "example.org", "cnonce");
            break;
        case 3:
            m = make_cram_md5(c);
            break;
        default:
            m = make_xoauth2(c);
            break;
    }
    (void)m->start();
    std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    // Challenges separated by NUL bytes.
    while (!rest.empty()) {
        const std::size_t end = rest.find('\0');
        try {
            (void)m->step(rest.substr(0, end));
        } catch (const missive::Error& e) {
            if (e.kind() != missive::errc::auth_failed) {
                std::abort();
            }
            return 0;
        }
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    }
    return 0;
}
