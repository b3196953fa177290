// The MIME layer: serializing a message with a large attachment (throughput and peak memory),
// streaming a 1 GiB file attachment, and building + serializing many small messages.
#include <missive/mime/builder.hpp>
#include <missive/mime/serializer.hpp>

#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

using missive::mime::Builder;
using missive::mime::Message;
using missive::mime::Serializer;

namespace {

std::string random_bytes(std::size_t n) {
    std::mt19937_64 gen(1);
    std::string s(n, '\0');
    for (std::size_t i = 0; i + 8 <= n; i += 8) {
        const auto v = gen();
        std::memcpy(&s[i], &v, 8);
    }
    return s;
}

long peak_rss_kib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

std::size_t drain(const Message& m) {
    Serializer s(m);
    std::size_t total = 0;
    for (auto chunk = s.next(); !chunk.empty(); chunk = s.next()) {
        total += chunk.size();
        benchmark::DoNotOptimize(chunk.data());
    }
    return total;
}

Builder headed() {
    Builder b;
    b.from("Ada <ada@example.org>")
        .to("Bob <bob@example.com>, carol@example.com")
        .subject("Monthly report — März");
    return b;
}

// Serializing a message whose 10 MiB attachment is in memory.
void BM_Serialize10MiBAttachment(benchmark::State& state) {
    const Message m =
        headed().text("See attached.").attach(random_bytes(10 << 20), "data.bin").build();
    std::size_t out = 0;
    for (auto _ : state) {
        out = drain(m);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * (10 << 20));
    state.counters["output_MiB"] = static_cast<double>(out) / (1 << 20);
    state.counters["peak_rss_MiB"] = static_cast<double>(peak_rss_kib()) / 1024;
}

BENCHMARK(BM_Serialize10MiBAttachment)->Unit(benchmark::kMillisecond);

// Streaming a file attachment: memory stays flat whatever the file's size.
void BM_StreamFileAttachment(benchmark::State& state) {
    const auto size = static_cast<std::uintmax_t>(state.range(0)) << 20;
    const auto path = std::filesystem::temp_directory_path() / "missive-bench-attachment.bin";
    {
        std::ofstream(path, std::ios::binary).close();
        std::filesystem::resize_file(path, size);  // sparse: reads as zeros
    }
    const Message m = headed().text("See attached.").attach_file(path).build();
    const long before = peak_rss_kib();
    for (auto _ : state) {
        benchmark::DoNotOptimize(drain(m));
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
    state.counters["peak_rss_growth_MiB"] = static_cast<double>(peak_rss_kib() - before) / 1024;
    state.counters["peak_rss_MiB"] = static_cast<double>(peak_rss_kib()) / 1024;
    std::filesystem::remove(path);
}

BENCHMARK(BM_StreamFileAttachment)
    ->Arg(10)
    ->Arg(1024)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// Building and serializing small messages: messages per second.
void BM_BuildAndSerializeSmall(benchmark::State& state) {
    for (auto _ : state) {
        const Message m = headed()
                              .header("X-Campaign", "42")
                              .text("Hello Bob,\nyour report for March is ready.\nRegards\n")
                              .build();
        benchmark::DoNotOptimize(drain(m));
    }
    state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_BuildAndSerializeSmall);

// The same with an HTML alternative and a non-ASCII subject (encoded words, two parts).
void BM_BuildAndSerializeAlternative(benchmark::State& state) {
    for (auto _ : state) {
        const Message m =
            headed()
                .subject("Ihr Bericht für März ist fertig ✅")
                .text("Hallo Bob,\nIhr Bericht für März ist fertig.\n")
                .html("<p>Hallo Bob,</p><p>Ihr Bericht für <b>März</b> ist fertig.</p>")
                .build();
        benchmark::DoNotOptimize(drain(m));
    }
    state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_BuildAndSerializeAlternative);

}  // namespace
