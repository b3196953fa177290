// DKIM signatures per second for a 10 KB message, rsa-2048 and ed25519: missive's whole signing
// (body canonicalization and hash, header selection and canonicalization, the field, the
// signature) against the bare OpenSSL sign operation on a SHA-256 digest with the same key, in
// the same binary. The difference is what canonicalization and hashing cost. Figures only:
// nothing here asserts on time. Run with --benchmark_repetitions (default 5 here) for medians.
#include <missive/dkim/signer.hpp>
#include <missive/mime/builder.hpp>
#include <missive/mime/serializer.hpp>

#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace {

using Pkey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

constexpr int repetitions = 5;

// A message of about 10 KB: a text part of 70-character lines and the usual header.
const std::string& message_10k() {
    static const std::string text = [] {
        std::string body;
        while (body.size() < 9800) {
            body += "The quick brown fox jumps over the lazy dog, again and again and again.\n";
        }
        const auto m = missive::mime::Builder()
                           .from("Ada Lovelace <ada@example.org>")
                           .to("Bob <bob@example.com>")
                           .subject("Benchmark message")
                           .text(body)
                           .build();
        return missive::mime::to_string(
            m, {.date = std::chrono::system_clock::time_point(std::chrono::seconds(1790000000)),
                .message_id = "<bench@example.org>"});
    }();
    return text;
}

struct Keys {
    Pkey rsa{EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048}), EVP_PKEY_free};
    Pkey ed25519{EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), EVP_PKEY_free};
};

const Keys& keys() {
    static const Keys k;
    return k;
}

missive::dkim::PrivateKey as_missive_key(EVP_PKEY* key) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    const missive::Secret pem(std::string(data, static_cast<std::size_t>(size)));
    BIO_free(bio);
    return missive::dkim::PrivateKey::from_pem(pem);
}

// What missive does per message: canonicalize and hash the body and the header, sign.
void dkim_sign(benchmark::State& state, EVP_PKEY* key) {
    const std::vector<missive::dkim::Signer> signers{
        missive::dkim::Signer(as_missive_key(key), {.domain = "example.org", .selector = "bench"})};
    const std::string& message = message_10k();
    for (auto _ : state) {
        benchmark::DoNotOptimize(missive::dkim::sign(message, signers));
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["message_octets"] = static_cast<double>(message.size());
}

// The bare operation underneath: sign one SHA-256 digest with the same key, as
// PrivateKey::sign_digest does (a context per signature, as there).
void openssl_sign(benchmark::State& state, EVP_PKEY* key, bool rsa) {
    std::array<unsigned char, 32> digest{};
    digest.fill(0x5a);
    std::array<unsigned char, 1024> signature{};
    for (auto _ : state) {
        std::size_t size = signature.size();
        if (rsa) {
            EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr);
            EVP_PKEY_sign_init(ctx);
            EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING);
            EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256());
            EVP_PKEY_sign(ctx, signature.data(), &size, digest.data(), digest.size());
            EVP_PKEY_CTX_free(ctx);
        } else {
            EVP_MD_CTX* ctx = EVP_MD_CTX_new();
            EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key);
            EVP_DigestSign(ctx, signature.data(), &size, digest.data(), digest.size());
            EVP_MD_CTX_free(ctx);
        }
        benchmark::DoNotOptimize(signature.data());
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_DkimSignRsa2048(benchmark::State& state) {
    dkim_sign(state, keys().rsa.get());
}

void BM_OpenSslSignRsa2048(benchmark::State& state) {
    openssl_sign(state, keys().rsa.get(), true);
}

void BM_DkimSignEd25519(benchmark::State& state) {
    dkim_sign(state, keys().ed25519.get());
}

void BM_OpenSslSignEd25519(benchmark::State& state) {
    openssl_sign(state, keys().ed25519.get(), false);
}

// Canonicalization and hashing alone (the body, both ways), for scale.
void BM_DkimHashBody10k(benchmark::State& state) {
    const std::string& message = message_10k();
    for (auto _ : state) {
        missive::dkim::MessageHasher hasher({missive::dkim::Canonicalization::relaxed});
        hasher.update(message);
        benchmark::DoNotOptimize(hasher.finish());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(message.size()));
}

BENCHMARK(BM_DkimSignRsa2048)->Repetitions(repetitions)->DisplayAggregatesOnly();
BENCHMARK(BM_OpenSslSignRsa2048)->Repetitions(repetitions)->DisplayAggregatesOnly();
BENCHMARK(BM_DkimSignEd25519)->Repetitions(repetitions)->DisplayAggregatesOnly();
BENCHMARK(BM_OpenSslSignEd25519)->Repetitions(repetitions)->DisplayAggregatesOnly();
BENCHMARK(BM_DkimHashBody10k)->Repetitions(repetitions)->DisplayAggregatesOnly();

}  // namespace
