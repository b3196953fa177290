#include <missive/error.hpp>
#include <missive/mime/encoded_word.hpp>
#include <missive/mime/serializer.hpp>

#include "mime/content.hpp"
#include "mime/fold.hpp"
#include "mime/parameters.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <ostream>

namespace missive::mime {

namespace {

using detail::Encoding;

// Fields whose syntax is structured ASCII (message identifiers, dates, URLs in brackets):
// written as given, never encoded.
bool is_structured_field(std::string_view name) {
    static constexpr std::array<std::string_view, 15> fields{"Date",
                                                             "Message-ID",
                                                             "In-Reply-To",
                                                             "References",
                                                             "Resent-Date",
                                                             "Resent-Message-ID",
                                                             "Received",
                                                             "Return-Path",
                                                             "DKIM-Signature",
                                                             "List-Unsubscribe",
                                                             "List-Unsubscribe-Post",
                                                             "List-Help",
                                                             "List-Post",
                                                             "List-Archive",
                                                             "Auto-Submitted"};
    return std::any_of(fields.begin(), fields.end(),
                       [&](std::string_view f) { return iequals(f, name); });
}

// Fields the serializer writes itself from the Part.
bool is_content_field(std::string_view name) {
    return iequals(name, "Content-Type") || iequals(name, "Content-Transfer-Encoding") ||
           iequals(name, "Content-Disposition") || iequals(name, "Content-ID") ||
           iequals(name, "MIME-Version");
}

bool is_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 128; });
}

bool is_text(const Part& p) {
    return p.type.type == "text";
}

// One step of the output: literal text (headers, boundaries), then a leaf's content if any.
struct Segment {
    std::string literal;
    const Part* leaf = nullptr;
    Encoding encoding = Encoding::seven_bit;
};

}  // namespace

struct Serializer::Impl {
    const Message* message;
    SerializeOptions options;
    std::vector<Segment> plan;
    std::string boundary_base;
    int boundaries = 0;
    bool eight_bit = false;

    // Writing state.
    std::size_t index = 0;
    bool literal_done = false;
    std::optional<detail::ContentSource> source;
    std::optional<detail::ContentEncoder> encoder;
    std::string out;
    std::string raw;
    bool ends_with_newline = false;
    bool started = false;               // next() was called
    std::optional<std::uint64_t> size;  // once measured

    Impl(const Message& m, SerializeOptions o)
        : message(&m)
        , options(std::move(o)) {
        std::array<unsigned char, 12> random{};
        if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
            throw Error(errc::invalid_input, "no random bytes for a MIME boundary");
        }
        // "=_" cannot occur in quoted-printable or base64 text, so no encoded part can hold the
        // boundary; the random rest keeps 7bit text from holding it by chance.
        static constexpr std::string_view hex = "0123456789abcdef";
        boundary_base = "=_missive_";
        for (const unsigned char b : random) {
            boundary_base += hex[b >> 4];
            boundary_base += hex[b & 15];
        }
        std::string head = message_headers();
        walk(m.body, head, true);
    }

    std::string field_value(std::string_view name, const std::string& value) const {
        if (is_address_field(name)) {
            std::vector<Address> list;
            try {
                list = parse_address_list(value);
            } catch (const Error& e) {
                throw Error(errc::invalid_input, std::string(name) + ": " + e.what());
            }
            if (!options.allow_utf8) {
                for (const Mailbox& mb : flatten(list)) {
                    if (needs_smtputf8(mb)) {
                        throw Error(errc::invalid_input,
                                    std::string(name) + ": address '" + mb.address +
                                        "' has a non-ASCII local part and can only be written "
                                        "with SMTPUTF8 (RFC 6531)");
                    }
                }
            }
            return format_address_list(list, options.allow_utf8);
        }
        if (is_structured_field(name)) {
            if (!options.allow_utf8 && !is_ascii(value)) {
                throw Error(errc::invalid_input,
                            "header '" + std::string(name) + "' must be ASCII");
            }
            return value;
        }
        // The first encoded word fits on the line after "Name: " (a fold right after the colon
        // would be legal, but readers such as Python's keep the space it leaves).
        const std::size_t room =
            name.size() + 2 < detail::fold_width ? detail::fold_width - name.size() - 2 : 0;
        return encode_header_text(value, WordContext::text, room);
    }

    std::string message_headers() const {
        std::string head;
        const Headers& h = message->headers;
        if (!h.contains("Date") && options.date) {
            detail::append_field(head, "Date", format_date(*options.date));
        }
        for (const Header& field : h) {
            if (iequals(field.name, "Bcc") || iequals(field.name, "Resent-Bcc")) {
                continue;  // envelope only
            }
            if (is_content_field(field.name)) {
                throw Error(errc::invalid_input,
                            "header '" + field.name +
                                "' is written from the message's body (Message::body); set the "
                                "part's type, disposition or content id there");
            }
            check_header(field.name, field.value);
            detail::append_field(head, field.name, field_value(field.name, field.value));
        }
        if (!h.contains("Message-ID") && !options.message_id.empty()) {
            detail::append_field(head, "Message-ID", options.message_id);
        }
        detail::append_field(head, "MIME-Version", "1.0");
        return head;
    }

    Encoding choose(const Part& p) const {
        if (!is_text(p)) {
            detail::ContentSource check(p);  // a file that cannot be opened fails here, not later
            return Encoding::base64;
        }
        detail::ContentStats stats;
        detail::ContentSource src(p);
        std::string chunk;
        while (src.read(chunk, detail::raw_chunk)) {
            stats.add(chunk);
        }
        return stats.choose(options.allow_8bit);
    }

    // Writes the Content-* fields and the part's own fields into `head`.
    void part_headers(const Part& p, std::string& head, const std::string& boundary,
                      Encoding encoding) const {
        MediaType type = p.type;
        if (p.is_multipart()) {
            type.set_param("boundary", boundary);
        } else if (is_text(p) && type.param("charset") == nullptr) {
            type.set_param("charset", "utf-8");
        }
        const bool attachment = !p.filename.empty() || p.disposition == "attachment";
        if (!p.is_multipart() && !p.filename.empty() && type.param("name") == nullptr) {
            type.set_param("name", p.filename);  // for mail readers that look only here
        }
        for (const auto& [name, value] : type.params) {
            check_header("Content-Type", value);
        }
        detail::append_field(head, "Content-Type",
                             type.essence() + detail::format_parameters(type.params));
        if (!p.is_multipart() || encoding == Encoding::eight_bit) {
            detail::append_field(head, "Content-Transfer-Encoding",
                                 detail::encoding_name(encoding));
        }
        if (!p.disposition.empty() || attachment) {
            std::vector<std::pair<std::string, std::string>> params;
            if (!p.filename.empty()) {
                params.emplace_back("filename", p.filename);
            }
            const std::string disposition = p.disposition.empty() ? "attachment" : p.disposition;
            check_header("Content-Disposition", disposition);
            detail::append_field(head, "Content-Disposition",
                                 disposition + detail::format_parameters(params));
        }
        if (!p.content_id.empty()) {
            check_header("Content-ID", p.content_id);
            detail::append_field(head, "Content-ID", '<' + p.content_id + '>');
        }
        for (const Header& field : p.headers) {
            if (is_content_field(field.name) && !iequals(field.name, "MIME-Version")) {
                throw Error(errc::invalid_input, "header '" + field.name +
                                                     "' of a part is written from the Part's "
                                                     "fields; set those instead");
            }
            check_header(field.name, field.value);
            detail::append_field(head, field.name, field_value(field.name, field.value));
        }
    }

    // Plans `p`: `head` holds what comes before its header fields; returns whether it is 8bit.
    bool walk(const Part& p, std::string& head, bool top) {
        if (!p.is_multipart()) {
            const Encoding encoding = choose(p);
            part_headers(p, head, {}, encoding);
            head += "\r\n";
            plan.push_back({std::move(head), &p, encoding});
            head.clear();
            eight_bit = eight_bit || encoding == Encoding::eight_bit;
            return encoding == Encoding::eight_bit;
        }
        if (p.parts.empty()) {
            throw Error(errc::invalid_input,
                        "a multipart/" + p.type.subtype + " part has no parts");
        }
        const std::string boundary = boundary_base + '.' + std::to_string(boundaries++);
        // The header fields wait for the children: an 8bit child makes the multipart 8bit.
        const std::size_t at = plan.size();
        plan.push_back({});
        bool any_8bit = false;
        std::string child_head;
        for (std::size_t i = 0; i < p.parts.size(); ++i) {
            child_head = (i == 0 ? "--" : "\r\n--") + boundary + "\r\n";
            any_8bit = walk(p.parts[i], child_head, false) || any_8bit;
        }
        plan.push_back({"\r\n--" + boundary + "--\r\n", nullptr, Encoding::seven_bit});
        part_headers(p, head, boundary, any_8bit ? Encoding::eight_bit : Encoding::seven_bit);
        if (top) {
            head += "\r\nThis is a multipart message in MIME format.\r\n\r\n";
        } else {
            head += "\r\n";
        }
        plan[at].literal = std::move(head);
        head.clear();
        return any_8bit;
    }

    void emit(std::string_view s) {
        if (!s.empty()) {
            out.append(s);
            ends_with_newline = s.back() == '\n';
        }
    }

    // Back to the start: the plan (boundaries included) is kept, so the same text follows.
    void rewind() {
        index = 0;
        literal_done = false;
        source.reset();
        encoder.reset();
        out.clear();
        ends_with_newline = false;
        started = false;
    }

    std::string_view next() {
        started = true;
        out.clear();
        constexpr std::size_t target = std::size_t{64} * 1024;
        while (out.size() < target && index < plan.size()) {
            const Segment& seg = plan[index];
            if (!literal_done) {
                emit(seg.literal);
                literal_done = true;
                if (seg.leaf == nullptr) {
                    ++index;
                    literal_done = false;
                    continue;
                }
                source.emplace(*seg.leaf);
                encoder.emplace(seg.encoding, is_text(*seg.leaf));
            }
            const std::size_t before = out.size();
            if (source->read(raw, detail::raw_chunk)) {
                encoder->encode(raw, out);
            } else {
                encoder->finish(out);
                source.reset();
                encoder.reset();
                ++index;
                literal_done = false;
                if (index == plan.size() &&
                    !(out.size() > before ? out.back() == '\n' : ends_with_newline)) {
                    out += "\r\n";  // a message ends with a line break
                }
            }
            if (out.size() > before) {
                ends_with_newline = out.back() == '\n';
            }
        }
        return out;
    }
};

Serializer::Serializer(const Message& message, SerializeOptions options)
    : impl_(std::make_unique<Impl>(message, std::move(options))) {}

Serializer::~Serializer() = default;
Serializer::Serializer(Serializer&& other) noexcept = default;
Serializer& Serializer::operator=(Serializer&& other) noexcept = default;

std::string_view Serializer::next() {
    return impl_->next();
}

std::uint64_t Serializer::size() {
    if (impl_->size) {
        return *impl_->size;
    }
    return size([](std::string_view) {});
}

std::uint64_t Serializer::size(const std::function<void(std::string_view)>& observer) {
    Impl& m = *impl_;
    if (m.started) {
        throw Error(errc::invalid_input, "Serializer::size() must come before next()");
    }
    std::uint64_t total = 0;
    for (auto chunk = m.next(); !chunk.empty(); chunk = m.next()) {
        observer(chunk);
        total += chunk.size();
    }
    m.rewind();
    m.size = total;
    return total;
}

bool Serializer::uses_8bit() const {
    return impl_->eight_bit;
}

std::string to_string(const Message& message, const SerializeOptions& options) {
    Serializer s(message, options);
    std::string all;
    for (auto chunk = s.next(); !chunk.empty(); chunk = s.next()) {
        all.append(chunk);
    }
    return all;
}

std::ostream& operator<<(std::ostream& out, const Message& message) {
    Serializer s(message, {.allow_8bit = true, .allow_utf8 = true});
    for (auto chunk = s.next(); !chunk.empty(); chunk = s.next()) {
        out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    }
    return out;
}

}  // namespace missive::mime
