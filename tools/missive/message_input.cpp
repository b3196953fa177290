#include "message_input.hpp"

#include <missive/error.hpp>
#include <missive/mime/address.hpp>
#include <missive/mime/header_reader.hpp>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

namespace missive::cli {

InputBuf::InputBuf(int fd, std::string name)
    : fd_(fd)
    , name_(std::move(name)) {}

InputBuf::int_type InputBuf::underflow() {
    for (;;) {
        const ssize_t n = ::read(fd_, buffer_.data(), buffer_.size());
        if (n > 0) {
            setg(buffer_.data(), buffer_.data(), buffer_.data() + n);
            return traits_type::to_int_type(buffer_[0]);
        }
        if (n == 0) {
            return traits_type::eof();
        }
        if (errno != EINTR) {
            throw InputError("reading " + name_ +
                             " failed: " + std::generic_category().message(errno));
        }
    }
}

InputBuf::pos_type InputBuf::seekoff(off_type off, std::ios_base::seekdir dir,
                                     std::ios_base::openmode which) {
    if ((which & std::ios_base::in) == 0) {
        return {off_type(-1)};
    }
    // What is buffered but not yet read lies before the descriptor's own position.
    const off_type buffered = egptr() - gptr();
    const int whence = dir == std::ios_base::beg   ? SEEK_SET
                       : dir == std::ios_base::cur ? SEEK_CUR
                                                   : SEEK_END;
    if (dir == std::ios_base::cur) {
        off -= buffered;
    }
    const off_t at = ::lseek(fd_, static_cast<off_t>(off), whence);
    if (at < 0) {
        return {off_type(-1)};  // a pipe or a terminal: not seekable
    }
    setg(buffer_.data(), buffer_.data(), buffer_.data());
    return {static_cast<off_type>(at)};
}

InputBuf::pos_type InputBuf::seekpos(pos_type pos, std::ios_base::openmode which) {
    return seekoff(off_type(pos), std::ios_base::beg, which);
}

PrefixedBuf::PrefixedBuf(const std::string& prefix, std::istream& rest)
    : prefix_(prefix)
    , rest_(rest) {}

PrefixedBuf::int_type PrefixedBuf::underflow() {
    if (offset_ < prefix_.size()) {
        const std::size_t n = std::min(buffer_.size(), prefix_.size() - offset_);
        prefix_.copy(buffer_.data(), n, offset_);
        offset_ += n;
        setg(buffer_.data(), buffer_.data(), buffer_.data() + n);
        return traits_type::to_int_type(buffer_[0]);
    }
    if (!error_.empty()) {
        throw InputError(error_);  // failed before: never an end of file
    }
    try {
        rest_.read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    } catch (const std::exception& e) {  // `rest` throws on badbit
        error_ = e.what();
        throw InputError(error_);
    }
    if (rest_.bad()) {
        error_ = "reading the message failed";
        throw InputError(error_);
    }
    const auto got = rest_.gcount();
    if (got <= 0) {
        return traits_type::eof();
    }
    setg(buffer_.data(), buffer_.data(), buffer_.data() + got);
    return traits_type::to_int_type(buffer_[0]);
}

std::optional<std::uint64_t> PrefixedBuf::remaining_size() const {
    if (offset_ != 0 || gptr() != eback()) {
        return std::nullopt;  // only asked before the first read
    }
    std::streambuf* in = rest_.rdbuf();
    if (in == nullptr || !rest_.good()) {
        return std::nullopt;
    }
    const auto here = in->pubseekoff(0, std::ios_base::cur, std::ios_base::in);
    if (here == std::streampos(-1)) {
        return std::nullopt;
    }
    const auto end = in->pubseekoff(0, std::ios_base::end, std::ios_base::in);
    in->pubseekpos(here, std::ios_base::in);
    if (end == std::streampos(-1) || end < here) {
        return std::nullopt;
    }
    return prefix_.size() + static_cast<std::uint64_t>(end - here);
}

namespace {

void add_recipients(smtp::Envelope& e, const std::vector<mime::Mailbox>& list) {
    for (const auto& m : list) {
        const std::string address = mime::envelope_address(m, true);
        const bool seen = std::any_of(e.to.begin(), e.to.end(), [&](const smtp::Recipient& r) {
            return r.address == address;
        });
        if (!seen) {
            e.to.emplace_back(address);
        }
    }
}

}  // namespace

ReadyMessage read_ready_message(std::istream& in, const std::vector<std::string>& recipients,
                                const std::string& sender, bool from_headers,
                                const std::string& fallback_sender) {
    std::string text;
    std::string line;
    while (std::getline(in, line)) {
        text += line;
        text += '\n';
        if (line.empty() || line == "\r") {
            break;
        }
        if (text.size() > mime::HeaderBlock::max_size) {
            throw Error(errc::invalid_input,
                        "the message's header passes " +
                            std::to_string(mime::HeaderBlock::max_size / 1024) +
                            " KiB; is this a message?");
        }
    }
    if (in.bad()) {
        throw InputError("reading the message failed");
    }
    const mime::HeaderBlock block = mime::HeaderBlock::parse(text);
    ReadyMessage ready;
    for (const auto& r : recipients) {
        add_recipients(ready.envelope, mime::flatten(mime::parse_address_list(r)));
    }
    if (from_headers || recipients.empty()) {
        for (const char* field : {"To", "Cc", "Bcc"}) {
            add_recipients(ready.envelope, block.mailboxes(field));
        }
    }
    ready.has_from = block.find("From") != nullptr;
    ready.has_date = block.find("Date") != nullptr;
    ready.has_message_id = block.find("Message-ID") != nullptr;
    ready.removed_bcc = block.find("Bcc") != nullptr || block.find("Resent-Bcc") != nullptr;
    if (ready.envelope.to.empty()) {
        throw Error(errc::invalid_input,
                    "no recipient: the message has no To, Cc or Bcc, and none was given");
    }
    if (!sender.empty()) {
        ready.envelope.from = mime::envelope_address(mime::parse_mailbox(sender), true);
    } else {
        std::vector<mime::Mailbox> from = block.mailboxes("Sender");
        if (from.empty()) {
            from = block.mailboxes("From");
        }
        if (from.empty() && !fallback_sender.empty()) {
            from.push_back(mime::parse_mailbox(fallback_sender));
        }
        if (from.empty()) {
            throw Error(errc::invalid_input,
                        "no sender: the message has no From or Sender, and none was given");
        }
        ready.envelope.from = mime::envelope_address(from.front(), true);
    }
    ready.header = block.write({"Bcc", "Resent-Bcc"});
    return ready;
}

}  // namespace missive::cli
