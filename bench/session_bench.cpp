// Micro-benchmarks of the sans-I/O core: how fast bytes go through it, with no socket at all.
#include <missive/smtp/reply_parser.hpp>
#include <missive/smtp/session.hpp>

#include "smtp/data_encoder.hpp"

#include <benchmark/benchmark.h>

#include <string>

namespace {

std::string text_body(std::size_t size) {
    std::string body;
    while (body.size() < size) {
        body += "The quick brown fox jumps over the lazy dog, again and again.\r\n";
        body += ".A line that needs dot-stuffing\n";
    }
    body.resize(size);
    return body;
}

void BM_DataEncoderDotStuffing(benchmark::State& state) {
    const std::string body = text_body(1 << 20);
    std::string out;
    for (auto _ : state) {
        missive::smtp::detail::DataEncoder enc;
        out.clear();
        enc.encode(body, out);
        enc.finish(out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(body.size()));
}

BENCHMARK(BM_DataEncoderDotStuffing);

void BM_ReplyParserEhlo(benchmark::State& state) {
    const std::string ehlo =
        "250-mail.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n"
        "250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n"
        "250 CHUNKING\r\n";
    for (auto _ : state) {
        missive::smtp::ReplyParser p;
        p.feed(ehlo);
        benchmark::DoNotOptimize(p.next());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(ehlo.size()));
}

BENCHMARK(BM_ReplyParserEhlo);

// One pipelined transaction with three recipients and a 2 KiB message, bytes in and out.
void BM_SessionTransaction(benchmark::State& state) {
    using namespace missive::smtp;
    Session s;
    s.expect_greeting();
    s.receive("220 mx\r\n");
    s.hello("client.example.org");
    s.consume_output(s.output().size());
    s.receive("250-mx\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n");
    const Envelope env{.from = "alice@example.org",
                       .to = {"bob@example.org", "carol@example.org", "dave@example.org"},
                       .params = {}};
    const std::string body = text_body(2048);
    const std::string replies =
        "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n";
    for (auto _ : state) {
        s.send(env);
        s.consume_output(s.output().size());
        s.receive(replies);
        s.write_body(body);
        s.end_body();
        s.consume_output(s.output().size());
        s.receive("250 2.0.0 Ok: queued as 4ABC\r\n");
        benchmark::DoNotOptimize(s.take_error());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

BENCHMARK(BM_SessionTransaction);

}  // namespace
