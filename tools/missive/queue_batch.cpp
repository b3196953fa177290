// `missive send --batch FILE --queue` (or --batch with no server): every line into the outbox,
// where `missive deliver` sends it. A line's "id" is its idempotency key, so running the same
// batch again queues nothing twice; lines without one are queued again.

#include <missive/error.hpp>
#include <missive/outbox/outbox.hpp>

#include "batch.hpp"
#include "compose.hpp"
#include "exit_codes.hpp"
#include "failure.hpp"
#include "message_input.hpp"
#include "outbox_store.hpp"
#include "send_batch.hpp"
#include "text.hpp"

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <variant>

namespace missive::cli {

namespace {

outbox::Enqueued enqueue_letter(outbox::Outbox& box, const client::Letter& letter,
                                const outbox::EnqueueOptions& options) {
    if (const auto* m = std::get_if<mime::Message>(&letter.content)) {
        return box.enqueue(*m, letter.envelope, options);
    }
    if (const auto* s = std::get_if<std::string>(&letter.content)) {
        return box.enqueue(letter.envelope, *s, options);
    }
    std::unique_ptr<std::istream> in;
    if (const auto* path = std::get_if<std::filesystem::path>(&letter.content)) {
        in = std::make_unique<std::ifstream>(*path, std::ios::binary);
    } else {
        in = std::get<client::Letter::MessageSource>(letter.content)();
    }
    if (!in || !*in) {
        throw Error(errc::invalid_input, "the message cannot be read");
    }
    return box.enqueue(letter.envelope, *in, options);
}

}  // namespace

int queue_batch(const BatchFlags& f, const Target& target, const std::string& default_from) {
    std::ifstream file;
    std::unique_ptr<InputBuf> stdin_buf;
    std::filesystem::path base;
    if (f.batch == "-") {
        stdin_buf = std::make_unique<InputBuf>(0, "standard input");
    } else {
        check_readable(f.batch, "--batch");
        file.open(f.batch, std::ios::binary);
        base = std::filesystem::path(f.batch).parent_path();
    }
    std::istream stdin_stream(stdin_buf.get());
    std::istream& input = stdin_buf ? stdin_stream : file;

    const std::string where = outbox_location(target.outbox);
    const std::unique_ptr<outbox::Store> store = open_outbox(where);
    outbox::Outbox box(*store);
    std::uint64_t queued = 0;
    std::uint64_t known = 0;
    std::uint64_t invalid = 0;
    int status = exit_ok;
    const auto start = std::chrono::steady_clock::now();
    std::string text;
    for (std::size_t line = 1; std::getline(input, text); ++line) {
        if (text.find_first_not_of(" \t\r") == std::string::npos) {
            continue;
        }
        const auto bad = [&](const std::string& why, int code) {
            std::cerr << "missive: batch line " << line << ": " << printable(why)
                      << "; not queued\n";
            ++invalid;
            status = worse_exit(status, code);
        };
        try {
            const BatchEntry entry = parse_batch_line(text, line, base);
            const client::Letter letter = make_letter(entry, default_from);
            outbox::EnqueueOptions options;
            options.idempotency_key = entry.id.value_or("");
            const outbox::Enqueued e = enqueue_letter(box, letter, options);
            ++(e.created ? queued : known);
        } catch (const BatchLineError& e) {
            bad(e.what(), exit_data);
        } catch (const UsageError& e) {
            bad(e.what(), exit_data);
        } catch (const InputError& e) {
            bad(e.what(), exit_no_input);
        } catch (const Error& e) {
            if (e.kind() == errc::storage) {
                throw;  // the outbox cannot take more: stop here (what was queued stays)
            }
            bad(e.what(), exit_code_for(e));
        }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (target.json) {
        std::cout << R"({"status":"queued","queued":)" << queued << R"(,"already_queued":)" << known
                  << R"(,"invalid":)" << invalid << R"(,"outbox":)"
                  << json_string(display_outbox(where)) << R"(,"exit":)" << status << "}\n";
    } else if (!f.quiet || status != exit_ok) {
        std::cout << "queued " << queued << " messages (" << known << " already queued, same id; "
                  << invalid << " invalid) in " << display_outbox(where) << " in "
                  << format_duration(seconds) << "; `missive deliver` sends them\n";
    }
    return status;
}

}  // namespace missive::cli
