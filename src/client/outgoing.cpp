#include "client/outgoing.hpp"

#include <missive/client/prepare.hpp>
#include <missive/dkim/signer.hpp>
#include <missive/error.hpp>
#include <missive/mime/serializer.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace missive::client::detail {

namespace {

constexpr std::size_t piece_size = std::size_t{64} * 1024;

std::vector<dkim::Canonicalization> canonicalizations(const std::vector<dkim::Signer>& signers) {
    std::vector<dkim::Canonicalization> out;
    out.reserve(signers.size());
    for (const dkim::Signer& s : signers) {
        out.push_back(s.body_canonicalization());
    }
    return out;
}

// Eight octets at a time: this runs over every message sent.
bool has_8bit(std::string_view bytes) {
    const char* p = bytes.data();
    std::size_t n = bytes.size();
    std::uint64_t seen = 0;
    for (; n >= sizeof seen; p += sizeof seen, n -= sizeof seen) {
        std::uint64_t word = 0;
        std::memcpy(&word, p, sizeof word);
        seen |= word;
    }
    for (; n > 0; ++p, --n) {
        seen |= static_cast<unsigned char>(*p);
    }
    return (seen & 0x8080808080808080ULL) != 0;
}

void require_8bitmime(const smtp::Capabilities& server) {
    if (!server.eight_bit_mime()) {
        throw Error(errc::invalid_input,
                    "the message has 8-bit octets (over 127), and the server does not offer "
                    "8BITMIME (RFC 6152): encode its text as quoted-printable or base64");
    }
}

// The DKIM fields, then a message held in memory, in pieces.
class Text final : public Outgoing {
public:
    Text(std::string fields, std::string_view message)
        : fields_(std::move(fields))
        , rest_(message) {}

    std::string_view next() override {
        if (!std::exchange(fields_sent_, true) && !fields_.empty()) {
            return fields_;
        }
        const std::string_view piece = rest_.substr(0, piece_size);
        rest_.remove_prefix(piece.size());
        return piece;
    }

private:
    std::string fields_;
    bool fields_sent_ = false;
    std::string_view rest_;
};

// Reads a FILE* as a stream buffer.
class FileBuf : public std::streambuf {
public:
    void open_fd(std::FILE* file) { file_ = file; }

protected:
    int_type underflow() override {
        const std::size_t n = std::fread(buffer_.data(), 1, buffer_.size(), file_);
        if (n == 0) {
            if (std::ferror(file_) != 0) {
                throw std::runtime_error("the temporary file of the message cannot be read");
            }
            return traits_type::eof();
        }
        setg(buffer_.data(), buffer_.data(), buffer_.data() + n);
        return traits_type::to_int_type(buffer_[0]);
    }

private:
    std::FILE* file_ = nullptr;
    std::array<char, 65536> buffer_{};
};

// A message that cannot be read twice, kept in an unnamed temporary file (gone when closed,
// even after a crash) between the DKIM hashing pass and the sending pass: memory stays bounded.
class Spool {
public:
    void open() {
        file_.reset(std::tmpfile());
        if (!file_) {
            throw Error(errc::invalid_input, "cannot make a temporary file to sign the message: " +
                                                 std::generic_category().message(errno));
        }
        buf_.emplace();
        buf_->open_fd(file_.get());
    }

    void write(std::string_view bytes) {
        if (std::fwrite(bytes.data(), 1, bytes.size(), file_.get()) != bytes.size()) {
            throw Error(errc::invalid_input,
                        "cannot keep the message in a temporary file to sign it: " +
                            std::generic_category().message(errno));
        }
    }

    std::istream& rewind() {
        if (std::fflush(file_.get()) != 0 || std::fseek(file_.get(), 0, SEEK_SET) != 0) {
            throw Error(errc::invalid_input, "cannot read back the temporary file of the message");
        }
        stream_.emplace(&*buf_);
        return *stream_;
    }

private:
    struct Close {
        void operator()(std::FILE* f) const noexcept { (void)std::fclose(f); }
    };

    std::unique_ptr<std::FILE, Close> file_;
    std::optional<FileBuf> buf_;
    std::optional<std::istream> stream_;
};

// A stream read in pieces; one that fails half way is an error, never an end: a truncated
// message must not go out as if it were whole.
class Stream final : public Outgoing {
public:
    explicit Stream(std::istream& in)
        : source_(&in) {}

    std::string_view read(std::istream& in) {
        in.read(piece_.data(), static_cast<std::streamsize>(piece_.size()));
        const auto got = static_cast<std::size_t>(in.gcount());
        if (in.bad()) {
            throw Error(errc::invalid_input, "reading the message failed after " +
                                                 std::to_string(total_ + got) + " octets");
        }
        total_ += got;
        return {piece_.data(), got};
    }

    std::string_view next() override {
        if (!std::exchange(fields_sent_, true) && !fields_.empty()) {
            return fields_;
        }
        return read(*source_);
    }

    std::string fields_;
    bool fields_sent_ = false;
    std::istream* source_;
    Spool spool_;
    std::uint64_t total_ = 0;
    std::string piece_ = std::string(piece_size, '\0');
};

// A built message, written as it goes out (file attachments read in pieces).
class Built final : public Outgoing {
public:
    Built(const mime::Message& message, const mime::SerializeOptions& options)
        : writer_(message, options) {}

    std::string_view next() override {
        if (!std::exchange(fields_sent_, true) && !fields_.empty()) {
            return fields_;
        }
        return writer_.next();
    }

    mime::Serializer writer_;
    std::string fields_;
    bool fields_sent_ = false;
};

}  // namespace

std::unique_ptr<Outgoing> outgoing_text(std::string_view message, const Options& options,
                                        const smtp::Capabilities& server,
                                        smtp::Envelope& envelope) {
    // RFC 6152: octets over 127 go only as BODY=8BITMIME, to a server that offers it.
    if (envelope.params.body == smtp::BodyType::unspecified && has_8bit(message)) {
        require_8bitmime(server);
        envelope.params.body = smtp::BodyType::eight_bit_mime;
    }
    std::string fields = options.dkim.empty() ? std::string() : dkim::sign(message, options.dkim);
    if (!envelope.params.size) {
        envelope.params.size = fields.size() + message.size();  // RFC 1870: the message's size
    }
    return std::make_unique<Text>(std::move(fields), message);
}

std::unique_ptr<Outgoing> outgoing_stream(std::istream& message, const Options& options,
                                          const smtp::Capabilities& server,
                                          smtp::Envelope& envelope) {
    auto out = std::make_unique<Stream>(message);
    // A seekable stream tells its size, and can be read twice; SIZE= lets the server refuse an
    // oversized message before it is sent.
    const auto start = message.tellg();
    std::optional<std::uint64_t> size;
    if (start != std::istream::pos_type(-1) && message.seekg(0, std::ios::end)) {
        const auto end = message.tellg();
        message.seekg(start);
        if (end != std::istream::pos_type(-1) && end >= start) {
            size = static_cast<std::uint64_t>(end - start);
        }
    }
    message.clear();
    // A first pass, before anything is sent, when DKIM must hash the message (its field comes
    // first but covers all of it) or when the body type is to be found (8-bit octets need
    // BODY=8BITMIME): from the stream again when it can seek, else from a spool file. A read
    // error here costs nothing.
    const bool find_body = envelope.params.body == smtp::BodyType::unspecified;
    if (!options.dkim.empty() || find_body) {
        const bool seekable = size.has_value();
        if (!seekable) {
            out->spool_.open();
        }
        std::optional<dkim::MessageHasher> hasher;
        if (!options.dkim.empty()) {
            hasher.emplace(canonicalizations(options.dkim));
        }
        bool eight_bit = false;
        for (auto p = out->read(message); !p.empty(); p = out->read(message)) {
            if (hasher) {
                hasher->update(p);
            }
            eight_bit = eight_bit || has_8bit(p);
            if (!seekable) {
                out->spool_.write(p);
            }
        }
        if (hasher) {
            const dkim::HashedMessage hashed = hasher->finish();
            for (const dkim::Signer& signer : options.dkim) {
                out->fields_ += signer.sign(hashed);
            }
        }
        if (find_body && eight_bit) {
            require_8bitmime(server);
            envelope.params.body = smtp::BodyType::eight_bit_mime;
        }
        if (seekable) {
            message.clear();
            message.seekg(start);
        } else {
            size = out->total_;
            out->source_ = &out->spool_.rewind();
        }
        out->total_ = 0;
    }
    if (!envelope.params.size && size) {
        envelope.params.size = out->fields_.size() + *size;
    }
    return out;
}

std::unique_ptr<Outgoing> outgoing_message(const mime::Message& message, const Options& options,
                                           const smtp::Capabilities& server,
                                           smtp::Envelope& envelope) {
    const bool utf8 = message.needs_smtputf8();
    if (utf8 && !server.smtputf8()) {
        throw Error(errc::invalid_input,
                    "the message has an address with a non-ASCII local part, and the server "
                    "does not offer SMTPUTF8 (RFC 6531)");
    }
    auto out =
        std::make_unique<Built>(message, serialize_options_for(message, server.eight_bit_mime()));
    if (out->writer_.uses_8bit() && envelope.params.body == smtp::BodyType::unspecified) {
        envelope.params.body = smtp::BodyType::eight_bit_mime;
    }
    envelope.params.smtputf8 = envelope.params.smtputf8 || utf8;
    // DKIM: one hashing pass over the serializer, which then starts over and writes the same
    // text again (file attachments are read twice, never held).
    if (!options.dkim.empty()) {
        out->fields_ = dkim::sign(out->writer_, options.dkim);
    }
    if (!envelope.params.size && (server.max_size() || !out->fields_.empty())) {
        // RFC 1870: with SIZE= the server refuses an oversized message before any of it is
        // sent, and the session refuses one above the advertised limit before MAIL. Measured
        // in one streaming pass (files read, nothing kept), only when the server has a limit
        // (or when signing measured it anyway).
        envelope.params.size = out->fields_.size() + out->writer_.size();
    }
    return out;
}

}  // namespace missive::client::detail
