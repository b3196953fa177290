#include <missive/error.hpp>
#include <missive/transport/file_transport.hpp>

#include <array>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <random>
#include <string>
#include <system_error>

namespace missive::transport {

namespace {

// A JSON string literal (RFC 8259): addresses may hold '"' or '\' in a quoted local part.
std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            std::array<char, 8> escaped{};
            std::snprintf(escaped.data(), escaped.size(), "\\u%04x", u);
            out += escaped.data();
        } else {
            out += c;
        }
    }
    return out + "\"";
}

// <UTC time>-<random>: sorts by time, and two senders in one second do not collide.
std::string new_id() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::array<char, 32> stamp{};
    std::strftime(stamp.data(), stamp.size(), "%Y%m%dT%H%M%SZ", &tm);
    thread_local std::mt19937 random(std::random_device{}());
    std::array<char, 16> tag{};
    std::snprintf(tag.data(), tag.size(), "%08x", static_cast<unsigned>(random()));
    return std::string(stamp.data()) + "-" + tag.data();
}

// Writes `text` to `path` whole or not at all: a temporary name, then a rename.
void write_whole(const std::filesystem::path& path, std::string_view text) {
    const std::filesystem::path part = path.string() + ".part";
    {
        std::ofstream out(part, std::ios::binary);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        out.close();
        if (!out) {
            const int error = errno;
            std::error_code ignored;
            std::filesystem::remove(part, ignored);
            throw Error(errc::config, "cannot write " + path.string() + ": " +
                                          std::generic_category().message(error));
        }
    }
    std::filesystem::rename(part, path);
}

}  // namespace

FileTransport::FileTransport(std::filesystem::path directory)
    : directory_(std::move(directory)) {}

smtp::SendResult FileTransport::send_text(const smtp::Envelope& envelope,
                                          std::string_view message) {
    std::error_code ec;
    std::filesystem::create_directories(directory_, ec);
    if (ec) {
        throw Error(errc::config, "cannot make " + directory_.string() + ": " + ec.message());
    }
    const std::string id = new_id();
    const std::filesystem::path eml = directory_ / (id + ".eml");
    std::string json = "{\"from\":" + json_string(envelope.from) + ",\"to\":[";
    for (std::size_t i = 0; i < envelope.to.size(); ++i) {
        json += (i == 0 ? "" : ",") + json_string(envelope.to[i].address);
    }
    json += "]}\n";
    try {
        // The envelope last: a reader that sees ID.json finds ID.eml whole beside it.
        write_whole(eml, message);
        write_whole(directory_ / (id + ".json"), json);
    } catch (const std::filesystem::filesystem_error& e) {
        throw Error(errc::config, "cannot write " + eml.string() + ": " + e.code().message());
    }
    const smtp::Reply saved{250, smtp::EnhancedCode{2, 0, 0}, {"saved as " + eml.string()}};
    smtp::SendResult result;
    result.mail_reply = smtp::Reply{250, smtp::EnhancedCode{2, 1, 0}, {"OK"}};
    for (const smtp::Recipient& r : envelope.to) {
        result.recipients.push_back({r.address, true, {250, smtp::EnhancedCode{2, 1, 5}, {"OK"}}});
    }
    result.data_reply = saved;
    result.queue_id = id;
    result.message_sent = true;
    return result;
}

}  // namespace missive::transport
