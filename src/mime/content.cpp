#include "mime/content.hpp"

#include <missive/error.hpp>
#include <missive/util/base64.hpp>

#include <cerrno>
#include <system_error>

namespace missive::mime::detail {

namespace {

constexpr std::size_t max_line = 998;  // RFC 5322 2.1.1, without the CRLF

}  // namespace

std::string_view encoding_name(Encoding e) {
    switch (e) {
        case Encoding::seven_bit:
            return "7bit";
        case Encoding::eight_bit:
            return "8bit";
        case Encoding::quoted_printable:
            return "quoted-printable";
        case Encoding::base64:
            return "base64";
    }
    return "base64";
}

void ContentStats::add(std::string_view bytes) {
    size_ += bytes.size();
    for (const char c : bytes) {
        const auto u = static_cast<unsigned char>(c);
        if (u == '\n' || u == '\r') {
            // CRLF, a lone CR and a lone LF each end a line (the text gets CRLF).
            if (!(u == '\n' && cr_)) {
                longest_ = std::max(longest_, line_);
            }
            line_ = 0;
            cr_ = u == '\r';
            continue;
        }
        cr_ = false;
        ++line_;
        if (u >= 128) {
            ++non_ascii_;
        }
        if (u == 0) {
            nul_ = true;
        }
        if ((u < 32 && u != '\t') || u >= 127 || u == '=') {
            ++escaped_;
        }
    }
}

Encoding ContentStats::choose(bool allow_8bit) const {
    const std::size_t longest = std::max(longest_, line_);
    if (!nul_ && longest <= max_line) {
        if (non_ascii_ == 0) {
            return Encoding::seven_bit;
        }
        if (allow_8bit) {
            return Encoding::eight_bit;
        }
    }
    // Mostly ASCII text stays readable as quoted-printable; where more than one byte in six
    // would be escaped (most non-Latin scripts), base64 is shorter and is used instead.
    return !nul_ && escaped_ * 6 <= size_ ? Encoding::quoted_printable : Encoding::base64;
}

ContentSource::ContentSource(const Part& part)
    : part_(&part) {
    if (const auto* bytes = std::get_if<std::string>(&part.content)) {
        memory_ = *bytes;
        return;
    }
    const auto& path = std::get<FileContent>(part.content).path;
    file_.emplace(path, std::ios::binary);
    if (!*file_) {
        throw Error(errc::invalid_input, "attachment '" + path.string() + "' cannot be opened: " +
                                             std::generic_category().message(errno));
    }
}

bool ContentSource::read(std::string& chunk, std::size_t n) {
    if (!file_) {
        chunk.assign(memory_.substr(offset_, n));
        offset_ += chunk.size();
        return !chunk.empty();
    }
    chunk.resize(n);
    file_->read(chunk.data(), static_cast<std::streamsize>(n));
    chunk.resize(static_cast<std::size_t>(file_->gcount()));
    if (file_->bad()) {  // a read that fails half way is an error, never an end
        throw Error(errc::invalid_input,
                    "attachment '" + std::get<FileContent>(part_->content).path.string() +
                        "' could not be read: " + std::generic_category().message(errno));
    }
    return !chunk.empty();
}

ContentEncoder::ContentEncoder(Encoding encoding, bool text)
    : encoding_(encoding)
    , text_(text)
    , qp_(text) {}

void ContentEncoder::normalise(std::string_view bytes, std::string& out) {
    std::size_t i = 0;
    if (cr_ && !bytes.empty() && bytes.front() == '\n') {
        i = 1;  // the LF of a CRLF split between chunks
    }
    cr_ = false;
    while (i < bytes.size()) {
        const std::size_t brk = bytes.find_first_of("\r\n", i);
        if (brk == std::string_view::npos) {
            out.append(bytes.substr(i));
            break;
        }
        out.append(bytes.substr(i, brk - i));
        out += "\r\n";
        if (bytes[brk] == '\r') {
            if (brk + 1 == bytes.size()) {
                cr_ = true;
                i = brk + 1;
            } else {
                i = bytes[brk + 1] == '\n' ? brk + 2 : brk + 1;
            }
        } else {
            i = brk + 1;
        }
    }
}

void ContentEncoder::base64(std::string_view bytes, std::string& out) {
    if (!carry_.empty()) {
        const std::size_t take = std::min(bytes.size(), 57 - carry_.size());
        carry_.append(bytes.substr(0, take));
        bytes.remove_prefix(take);
        if (carry_.size() < 57) {
            return;
        }
        util::base64_encode_lines(carry_, out);
        carry_.clear();
    }
    const std::size_t whole = bytes.size() / 57 * 57;
    util::base64_encode_lines(bytes.substr(0, whole), out);
    carry_.assign(bytes.substr(whole));
}

void ContentEncoder::encode(std::string_view bytes, std::string& out) {
    switch (encoding_) {
        case Encoding::seven_bit:
        case Encoding::eight_bit:
            if (text_) {
                normalise(bytes, out);
            } else {
                out.append(bytes);
            }
            return;
        case Encoding::quoted_printable:
            qp_.encode(bytes, out);
            return;
        case Encoding::base64:
            if (text_) {
                scratch_.clear();
                normalise(bytes, scratch_);
                base64(scratch_, out);
            } else {
                base64(bytes, out);
            }
            return;
    }
}

void ContentEncoder::finish(std::string& out) {
    if (encoding_ == Encoding::quoted_printable) {
        qp_.finish(out);
    } else if (encoding_ == Encoding::base64 && !carry_.empty()) {
        util::base64_encode_lines(carry_, out);
        carry_.clear();
    }
}

}  // namespace missive::mime::detail
