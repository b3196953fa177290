#include "maildir.hpp"

#include <missive/mime/message.hpp>

#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <fstream>

namespace missive::cli {

namespace {

std::string unique_name() {
    static std::atomic<unsigned> counter{0};
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
    std::array<char, 256> host{};
    gethostname(host.data(), host.size() - 1);
    std::string h = host.data();
    for (char& c : h) {
        c = c == '/' || c == ':' ? '_' : c;  // Maildir reserves these
    }
    return std::to_string(us / 1000000) + ".M" + std::to_string(us % 1000000) + "P" +
           std::to_string(getpid()) + "Q" + std::to_string(++counter) + "." + h;
}

}  // namespace

std::filesystem::path store_in_maildir(const std::filesystem::path& dir,
                                       const smtp::ReceivedMessage& m, const std::string& peer) {
    for (const char* sub : {"tmp", "new", "cur"}) {
        std::filesystem::create_directories(dir / sub);
    }
    const std::string name = unique_name();
    const auto tmp = dir / "tmp" / name;
    {
        std::ofstream out(tmp, std::ios::binary);
        std::string recipients;
        for (const auto& r : m.to) {
            recipients += (recipients.empty() ? "" : ", ") + ("<" + r + ">");
        }
        out << "Return-Path: <" << m.from << ">\n"
            << "X-Missive-Rcpt: " << recipients << "\n"
            << "Received: from " << m.helo << " (" << peer << ")\n\tby missive capture with "
            << (m.tls ? "ESMTPS" : "ESMTP") << (m.user.empty() ? "" : "A") << ";\n\t"
            << mime::format_date(std::chrono::system_clock::now()) << "\n";
        std::string text;
        text.reserve(m.data.size());
        for (std::size_t i = 0; i < m.data.size(); ++i) {
            if (m.data[i] == '\r' && i + 1 < m.data.size() && m.data[i + 1] == '\n') {
                continue;
            }
            text += m.data[i];
        }
        out << text;
        if (!out) {
            throw std::filesystem::filesystem_error("cannot write", tmp,
                                                    std::make_error_code(std::errc::io_error));
        }
    }
    auto file = dir / "new" / name;
    std::filesystem::rename(tmp, file);
    return file;
}

}  // namespace missive::cli
