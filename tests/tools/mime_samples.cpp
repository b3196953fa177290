// Writes sample messages built with mime::Builder as .eml files, and what each should read
// back as (expect.json, binary contents as .bin files), for tests/integration/check/
// mime_roundtrip.py to compare with Python's email package.
//
// usage: missive_mime_samples OUTDIR
#include <missive/mime/builder.hpp>
#include <missive/mime/serializer.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using missive::mime::Builder;
using missive::mime::Message;
using missive::mime::Part;

namespace {

std::string json(std::string_view s) {
    std::string out = "\"";
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            std::array<char, 8> buf{};
            std::snprintf(buf.data(), buf.size(), "\\u%04x", u);
            out += buf.data();
        } else {
            out += c;
        }
    }
    return out + '"';
}

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 gen(seed);
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        s[i] = i % 7 == 0 ? '\0' : static_cast<char>(gen() & 0xFF);  // NULs for sure
    }
    return s;
}

struct Sample {
    std::string name;
    Message message;
    std::string subject;
    std::vector<std::pair<std::string, std::string>> from, to;
    bool allow_8bit = false;
};

// The leaves of `p` depth first, as JSON objects; binary contents go to files.
void leaves(const Part& p, const fs::path& dir, const std::string& stem, std::string& out, int& n) {
    if (p.is_multipart()) {
        for (const Part& c : p.parts) {
            leaves(c, dir, stem, out, n);
        }
        return;
    }
    std::string bytes;
    if (const auto* s = std::get_if<std::string>(&p.content)) {
        bytes = *s;
    } else {
        std::ifstream in(std::get<missive::mime::FileContent>(p.content).path, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    out += out.back() == '[' ? "" : ",";
    out += "{\"type\":" + json(p.type.essence()) + ",\"filename\":" + json(p.filename) +
           ",\"content_id\":" + json(p.content_id);
    if (p.type.type == "text") {
        out += ",\"text\":" + json(bytes);
    } else {
        const std::string file = stem + ".part" + std::to_string(n) + ".bin";
        std::ofstream(dir / file, std::ios::binary) << bytes;
        out += ",\"data\":" + json(file);
    }
    out += '}';
    ++n;
}

std::string shape(const Part& p) {
    std::string s = p.type.essence();
    if (p.is_multipart()) {
        s += '(';
        for (std::size_t i = 0; i < p.parts.size(); ++i) {
            s += (i ? "," : "") + shape(p.parts[i]);
        }
        s += ')';
    }
    return s;
}

std::string pairs(const std::vector<std::pair<std::string, std::string>>& list) {
    std::string out = "[";
    for (const auto& [name, address] : list) {
        out +=
            (out.size() > 1 ? "," : "") + std::string("[") + json(name) + "," + json(address) + "]";
    }
    return out + "]";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: missive_mime_samples OUTDIR\n";
        return 2;
    }
    const fs::path dir = argv[1];
    fs::create_directories(dir);
    const std::string binary = random_bytes(100 * 1024 + 5, 42);
    const fs::path binary_file = dir / "input-binary.dat";
    std::ofstream(binary_file, std::ios::binary) << binary;

    std::vector<Sample> samples;
    const auto add = [&](std::string name, Builder b, std::string subject,
                         std::vector<std::pair<std::string, std::string>> from,
                         std::vector<std::pair<std::string, std::string>> to,
                         bool allow_8bit = false) {
        b.subject(subject);
        for (const auto& [n, a] : from) {
            b.from(missive::mime::Mailbox{n, a});
        }
        for (const auto& [n, a] : to) {
            b.to(missive::mime::Mailbox{n, a});
        }
        samples.push_back({std::move(name), b.build(), std::move(subject), std::move(from),
                           std::move(to), allow_8bit});
    };

    const std::string ja_subject =
        "日本語の件名：テスト — 長い件名がどのように折り返されるかを確認するためのテキストです";
    const std::string ja_text = "こんにちは、世界。\nこれはテストのメールです。\n\n敬具\n";
    add("japanese", std::move(Builder().text(ja_text).html("<p>こんにちは、<b>世界</b>。</p>")),
        ja_subject, {{"山田 太郎", "taro@example.jp"}}, {{"佐藤 花子", "hanako@example.jp"}});
    add("japanese-8bit", std::move(Builder().text(ja_text)), ja_subject,
        {{"山田 太郎", "taro@example.jp"}}, {{"", "hanako@example.jp"}}, true);
    add("arabic",
        std::move(Builder()
                      .text("مرحبا بالعالم\nهذه رسالة اختبار.\n")
                      .attach("a,b\n1,2\n", "بيانات.csv")),
        "مرحبا: رسالة اختبار باللغة العربية", {{"محمد عبد الله", "mohammed@example.com"}},
        {{"فاطمة", "fatima@example.com"}});
    add("emoji",
        std::move(Builder()
                      .text("🎉 Party at 8 🎂\nBring 🍕 and 🥤!\n")
                      .html("<p>🎉 <i>Party</i></p>")),
        "Party 🎉🎂 tonight 👋🏽 — see you  there", {{"Zoë 🦄", "zoe@example.org"}},
        {{"Ünïcödé Ñame", "nu@example.org"}});
    add("long-words",
        std::move(Builder().text(std::string(300, 'w') + " and a URL https://example.com/" +
                                 std::string(150, 'p') + "\n")),
        "A " + std::string(300, 'x') + " word and https://example.com/" + std::string(150, 'u'),
        {{"O'Brien, \"Pat\" (Sales) \\ Team", "pat@example.com"}}, {{"", "someone@example.com"}});
    add("attachments",
        std::move(
            Builder()
                .text("See the attached files.\n")
                .html("<p>Logo: <img src=\"cid:logo@missive\"></p>")
                .inline_data(random_bytes(2000, 7), "logo@missive", "image/png")
                .attach_file(binary_file,
                             {.filename = "Überweisungsbestätigung für das Geschäftsjahr "
                                          "2026 — endgültige Fassung mit Anhängen (Kopie).pdf"})
                .attach(std::string("\0\0\0binary\0with NULs\r\n\n\r", 24), "nul.bin")
                .attach("col1,col2\nä,ö\n", "table.csv")),
        "Files attached", {{"Ada", "ada@example.org"}}, {{"Bob", "bob@example.com"}});
    add("empty-body", Builder(), "", {{"", "ada@example.org"}}, {{"", "bob@example.com"}});
    add("line-998-999",
        std::move(Builder().text(std::string(998, 'a') + "\n" + std::string(999, 'b') + "\nend\n")),
        "Lines of 998 and 999 octets", {{"", "ada@example.org"}}, {{"", "bob@example.com"}});
    add("bcc-hidden", std::move(Builder().text("x\n").bcc("Secret <secret@example.com>")),
        "=?UTF-8?B?Zm9v?= is literal text here", {{"", "ada@example.org"}},
        {{"", "bob@example.com"}});

    std::string expect = "[";
    for (const Sample& s : samples) {
        const std::string file = s.name + ".eml";
        {
            std::ofstream out(dir / file, std::ios::binary);
            missive::mime::Serializer writer(
                s.message, {.allow_8bit = s.allow_8bit,
                            .date = std::chrono::system_clock::now(),
                            .message_id = missive::mime::make_message_id("example.org")});
            for (auto chunk = writer.next(); !chunk.empty(); chunk = writer.next()) {
                out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
            }
        }
        std::string parts = "[";
        int n = 0;
        leaves(s.message.body, dir, s.name, parts, n);
        parts += ']';
        expect += (expect.size() > 1 ? ",\n" : "\n");
        expect += "{\"file\":" + json(file) + ",\"subject\":" + json(s.subject) +
                  ",\"from\":" + pairs(s.from) + ",\"to\":" + pairs(s.to) +
                  ",\"absent\":[\"Bcc\"],\"structure\":" + json(shape(s.message.body)) +
                  ",\"parts\":" + parts + "}";
    }
    expect += "\n]\n";
    std::ofstream(dir / "expect.json") << expect;
    std::cout << "wrote " << samples.size() << " messages to " << dir.string() << "\n";
    return 0;
}
