// Content transfer encoders (util/base64, util/quoted_printable) against OpenSSL's base64, on
// 1 MiB inputs. Figures only: nothing here asserts on time.
#include <missive/util/base64.hpp>
#include <missive/util/quoted_printable.hpp>

#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr std::size_t input_size = 1 << 20;

std::string random_bytes(std::size_t size) {
    std::mt19937_64 rng(2045);
    std::string s(size, '\0');
    for (auto& c : s) {
        c = static_cast<char>(rng() & 0xffU);
    }
    return s;
}

// Lines of about 70 characters of ASCII words, with about 3 % of the bytes 8-bit (UTF-8 pairs).
std::string mostly_ascii_text(std::size_t size) {
    std::mt19937_64 rng(6);
    const std::vector<std::string> words = {
        "the ",  "quick ", "brown ", "fox ",   "jumps ",       "over ",        "lazy ",
        "dog, ", "From ",  "= ",     "mail. ", "caf\xC3\xA9 ", "na\xC3\xAFve "};
    std::string s;
    std::size_t line = 0;
    while (s.size() < size) {
        const std::string& w = words[rng() % words.size()];
        s += w;
        line += w.size();
        if (line > 70) {
            s += "\r\n";
            line = 0;
        }
    }
    s.resize(size);
    return s;
}

void set_bytes(benchmark::State& state, std::size_t size) {
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(size));
}

void BM_Base64EncodeLines(benchmark::State& state) {
    const std::string in = random_bytes(input_size);
    std::string out;
    for (auto _ : state) {
        out.clear();
        missive::util::base64_encode_lines(in, out);
        benchmark::DoNotOptimize(out.data());
    }
    set_bytes(state, in.size());
}

BENCHMARK(BM_Base64EncodeLines);

// The baseline to beat. EVP_EncodeBlock writes plain base64, without line breaks: 2.6 % less
// output than the 76-column lines above.
void BM_OpenSslEncodeBlock(benchmark::State& state) {
    const std::string in = random_bytes(input_size);
    std::vector<unsigned char> out((in.size() + 2) / 3 * 4 + 1);
    for (auto _ : state) {
        const int n = EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char*>(in.data()),
                                      static_cast<int>(in.size()));
        benchmark::DoNotOptimize(n);
        benchmark::DoNotOptimize(out.data());
    }
    set_bytes(state, in.size());
}

BENCHMARK(BM_OpenSslEncodeBlock);

// OpenSSL's streaming encoder, which writes lines of 64 characters ending in LF (PEM's form).
void BM_OpenSslEncodeUpdate(benchmark::State& state) {
    const std::string in = random_bytes(input_size);
    std::vector<unsigned char> out(in.size() / 48 * 65 + 128);
    const std::unique_ptr<EVP_ENCODE_CTX, decltype(&EVP_ENCODE_CTX_free)> ctx(EVP_ENCODE_CTX_new(),
                                                                              EVP_ENCODE_CTX_free);
    for (auto _ : state) {
        EVP_EncodeInit(ctx.get());
        int n = 0;
        int last = 0;
        EVP_EncodeUpdate(ctx.get(), out.data(), &n,
                         reinterpret_cast<const unsigned char*>(in.data()),
                         static_cast<int>(in.size()));
        EVP_EncodeFinal(ctx.get(), out.data() + n, &last);
        benchmark::DoNotOptimize(out.data());
    }
    set_bytes(state, in.size());
}

BENCHMARK(BM_OpenSslEncodeUpdate);

void quoted_printable(benchmark::State& state, const std::string& in, bool text) {
    std::string out;
    for (auto _ : state) {
        out.clear();
        missive::util::QuotedPrintableEncoder encoder(text);
        encoder.encode(in, out);
        encoder.finish(out);
        benchmark::DoNotOptimize(out.data());
    }
    set_bytes(state, in.size());
}

void BM_QuotedPrintableText(benchmark::State& state) {
    quoted_printable(state, mostly_ascii_text(input_size), true);
}

BENCHMARK(BM_QuotedPrintableText);

void BM_QuotedPrintableBinary(benchmark::State& state) {
    quoted_printable(state, random_bytes(input_size), false);
}

BENCHMARK(BM_QuotedPrintableBinary);

// The readers' side, for scale.
void BM_QuotedPrintableDecodeText(benchmark::State& state) {
    const std::string encoded =
        missive::util::quoted_printable_encode(mostly_ascii_text(input_size));
    for (auto _ : state) {
        benchmark::DoNotOptimize(missive::util::quoted_printable_decode(encoded));
    }
    set_bytes(state, input_size);
}

BENCHMARK(BM_QuotedPrintableDecodeText);

}  // namespace
