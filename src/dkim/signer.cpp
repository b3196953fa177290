#include <missive/dkim/signer.hpp>
#include <missive/error.hpp>
#include <missive/mime/address.hpp>
#include <missive/mime/headers.hpp>
#include <missive/mime/serializer.hpp>
#include <missive/util/base64.hpp>

#include "dkim/digest.hpp"
#include "dkim/names.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <utility>

namespace missive::dkim {

namespace {

constexpr std::size_t fold_width = 78;  // RFC 5322 2.1.1: lines SHOULD be at most 78 octets

bool is_field_name(std::string_view name) {
    // RFC 5322 3.6.8: printable ASCII but the colon
    return !name.empty() && std::all_of(name.begin(), name.end(),
                                        [](char c) { return c > ' ' && c < 127 && c != ':'; });
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
    return std::any_of(names.begin(), names.end(),
                       [&](const std::string& n) { return mime::iequals(n, name); });
}

std::vector<std::string> unique(const std::vector<std::string>& names) {
    std::vector<std::string> out;
    for (const std::string& n : names) {
        if (!contains(out, n)) {
            out.push_back(n);
        }
    }
    return out;
}

// The header block with every line break as CRLF, as the wire will carry it.
std::string wire_lines(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 64);
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\r') {
            out += "\r\n";
            if (i + 1 < text.size() && text[i + 1] == '\n') {
                ++i;
            }
        } else if (c == '\n') {
            out += "\r\n";
        } else {
            out += c;
        }
    }
    if (!out.empty() && out.back() != '\n') {
        out += "\r\n";
    }
    return out;
}

struct Field {
    std::string_view name;
    std::string_view text;  // the whole field with its folds, without its final CRLF
};

// Splits the header block into fields (a line starting with white space continues the field
// before it); stops at an empty line.
std::vector<Field> split_fields(std::string_view block) {
    std::vector<Field> fields;
    std::size_t at = 0;
    std::size_t number = 0;
    while (at < block.size()) {
        const std::size_t end = block.find("\r\n", at);
        const std::string_view line = block.substr(at, end - at);
        ++number;
        if (line.empty()) {
            break;
        }
        if (line.front() == ' ' || line.front() == '\t') {
            if (fields.empty()) {
                throw Error(errc::invalid_input,
                            "DKIM: the header's first line starts with white space");
            }
            Field& last = fields.back();
            const auto start = static_cast<std::size_t>(last.text.data() - block.data());
            last.text = block.substr(start, at + line.size() - start);
        } else {
            const std::size_t colon = line.find(':');
            std::string_view name = line.substr(0, colon);
            while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) {
                name.remove_suffix(1);  // obsolete "Name :" (RFC 5322 4.5)
            }
            if (colon == std::string_view::npos || !is_field_name(name)) {
                throw Error(errc::invalid_input, "DKIM: header line " + std::to_string(number) +
                                                     " is not a field: '" +
                                                     std::string(line.substr(0, 80)) + "'");
            }
            fields.push_back({name, line});
        }
        at = end + 2;
    }
    return fields;
}

// The value unfolded, without white space at either end.
std::string unfolded_value(const Field& f) {
    std::string out;
    for (const char c : f.text.substr(f.text.find(':') + 1)) {
        if (c != '\r' && c != '\n' && !(out.empty() && (c == ' ' || c == '\t'))) {
            out += c;
        }
    }
    while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) {
        out.pop_back();
    }
    return out;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](char c) {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    });
    return s;
}

bool within(std::string_view sub, std::string_view domain) {
    return sub == domain || (sub.size() > domain.size() && sub.ends_with(domain) &&
                             sub[sub.size() - domain.size() - 1] == '.');
}

// RFC 6376 3.5, i=: the local part is dkim-quoted-printable; only characters that need no
// encoding are accepted (dot-atom text without '=').
bool is_plain_local_part(std::string_view local) {
    return std::all_of(local.begin(), local.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::string_view("!#$%&'*+-/?^_`{|}~.").find(c) != std::string_view::npos;
    });
}

long long seconds(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

class Sha256 {
public:
    Sha256() {
        if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), detail::sha256(), nullptr) != 1) {
            throw Error(errc::config, "DKIM: OpenSSL has no SHA-256");
        }
    }

    void update(std::string_view s) { EVP_DigestUpdate(ctx_.get(), s.data(), s.size()); }

    std::string finish() {
        std::string digest(32, '\0');
        unsigned int size = 0;
        EVP_DigestFinal_ex(ctx_.get(), reinterpret_cast<unsigned char*>(digest.data()), &size);
        return digest;
    }

private:
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_{EVP_MD_CTX_new(), EVP_MD_CTX_free};
};

// Writes atoms separated by a space, or by a fold when the line would pass 78 octets.
class Folder {
public:
    explicit Folder(std::string start)
        : text_(std::move(start))
        , column_(text_.size()) {}

    void atom(std::string_view a, std::size_t keep_room = 0) {
        if (column_ + 1 + a.size() + keep_room > fold_width) {
            text_ += "\r\n ";
            column_ = 1;
        } else {
            text_ += ' ';
            ++column_;
        }
        text_ += a;
        column_ += a.size();
    }

    // A value without spaces, cut across lines (b=: verifiers drop the folds inside it).
    void cut(std::string_view value) {
        while (!value.empty()) {
            if (column_ >= fold_width) {
                text_ += "\r\n ";
                column_ = 1;
            }
            const std::size_t n = std::min(value.size(), fold_width - column_);
            text_ += value.substr(0, n);
            column_ += n;
            value.remove_prefix(n);
        }
    }

    [[nodiscard]] const std::string& text() const { return text_; }

private:
    std::string text_;
    std::size_t column_;
};

}  // namespace

std::vector<std::string> default_signed_headers() {
    return {"From",
            "To",
            "Cc",
            "Subject",
            "Date",
            "Message-ID",
            "MIME-Version",
            "Content-Type",
            "Content-Transfer-Encoding",
            "Reply-To",
            "In-Reply-To",
            "References",
            "Sender",
            "List-Id",
            "List-Help",
            "List-Unsubscribe",
            "List-Unsubscribe-Post",
            "List-Subscribe",
            "List-Post",
            "List-Owner",
            "List-Archive"};
}

Signer::Signer(PrivateKey key, SignerOptions options)
    : key_(std::move(key))
    , options_(std::move(options)) {
    SignerOptions& o = options_;
    o.domain = detail::checked_domain(o.domain, "DKIM domain");
    o.selector = detail::checked_selector(o.selector);
    for (const std::string& h : o.headers) {
        if (!is_field_name(h)) {
            throw Error(errc::config, "DKIM: '" + h + "' in the signed headers is no field name");
        }
    }
    o.headers = unique(o.headers);
    if (!contains(o.headers, "From")) {
        throw Error(errc::config, "DKIM: the signed headers must include From (RFC 6376 5.4)");
    }
    if (!o.oversign) {
        o.oversign = o.headers;
    }
    o.oversign = unique(*o.oversign);
    for (const std::string& h : *o.oversign) {
        if (!contains(o.headers, h)) {
            throw Error(errc::config,
                        "DKIM: '" + h + "' is to be over-signed but is not in the signed headers");
        }
    }
    if (!o.identity.empty()) {
        const std::size_t at = o.identity.rfind('@');
        if (at == std::string::npos || !is_plain_local_part(o.identity.substr(0, at))) {
            throw Error(errc::config, "DKIM identity (i=) '" + o.identity +
                                          "' is not [local-part]@domain of plain characters");
        }
        const std::string domain =
            detail::checked_domain(o.identity.substr(at + 1), "DKIM identity (i=) domain");
        if (!within(domain, o.domain)) {
            throw Error(errc::config, "DKIM identity (i=) '" + o.identity +
                                          "' is not within the signing domain " + o.domain +
                                          " (RFC 6376 3.5)");
        }
        o.identity = o.identity.substr(0, at + 1) + domain;
    }
    if ((o.timestamp && seconds(*o.timestamp) < 0) ||
        (o.expiration && seconds(*o.expiration) < 0)) {
        throw Error(errc::config, "DKIM: t= and x= cannot be before 1970");
    }
    if (o.timestamp && o.expiration && seconds(*o.expiration) <= seconds(*o.timestamp)) {
        throw Error(errc::config,
                    "DKIM: the expiration (x=) must come after the timestamp (t=) (RFC 6376 3.5)");
    }
}

std::string Signer::sign(const HashedMessage& message) const {
    const auto& digest = options_.body_canonicalization == Canonicalization::simple
                             ? message.simple_body
                             : message.relaxed_body;
    if (!digest) {
        throw Error(errc::invalid_input, std::string("DKIM: the message was hashed without the ") +
                                             std::string(name(options_.body_canonicalization)) +
                                             " body canonicalization this signer uses");
    }
    return sign(message.header, *digest);
}

std::string Signer::sign(std::string_view header_block, const Digest& body_hash) const {
    const SignerOptions& o = options_;
    const std::string block = wire_lines(header_block);
    const std::vector<Field> fields = split_fields(block);

    // From: exactly one (RFC 5322 3.6), readable, and aligned if asked.
    const auto from_count = std::count_if(
        fields.begin(), fields.end(), [](const Field& f) { return mime::iequals(f.name, "From"); });
    if (from_count == 0) {
        throw Error(errc::invalid_input,
                    "DKIM: the message has no From field (RFC 5322 3.6 requires one, and DKIM "
                    "signs it)");
    }
    if (from_count > 1) {
        throw Error(errc::invalid_input,
                    "DKIM: the message has " + std::to_string(from_count) +
                        " From fields; RFC 5322 3.6 allows one, and a verifier could not tell "
                        "which was signed");
    }
    const Field& from = *std::find_if(fields.begin(), fields.end(),
                                      [](const Field& f) { return mime::iequals(f.name, "From"); });
    std::vector<mime::Mailbox> authors;
    try {
        authors = mime::flatten(mime::parse_address_list(unfolded_value(from)));
    } catch (const Error& e) {
        throw Error(errc::invalid_input, std::string("DKIM: From: ") + e.what());
    }
    if (authors.empty()) {
        throw Error(errc::invalid_input, "DKIM: From has no address");
    }
    if (o.require_alignment) {
        for (const mime::Mailbox& m : authors) {
            const std::string_view domain =
                std::string_view(m.address).substr(m.address.rfind('@') + 1);
            std::string ascii;
            try {
                ascii = lower(mime::to_ascii_domain(domain));
            } catch (const Error& e) {
                throw Error(errc::invalid_input, std::string("DKIM: From: ") + e.what());
            }
            if (!within(ascii, o.domain)) {
                throw Error(errc::invalid_input, "DKIM: From address '" + m.address +
                                                     "' is not in the signing domain " + o.domain +
                                                     " (alignment was asked for)");
            }
        }
    }

    // h=: each signed name as often as it occurs, then the over-signed ones once more.
    std::vector<std::string_view> signed_names;
    for (const std::string& h : o.headers) {
        const auto n = std::count_if(fields.begin(), fields.end(),
                                     [&](const Field& f) { return mime::iequals(f.name, h); });
        signed_names.insert(signed_names.end(), static_cast<std::size_t>(n), h);
    }
    for (const std::string& h : *o.oversign) {
        signed_names.emplace_back(h);
    }

    // RFC 6376 5.4.2: each name in h= takes the last field of that name not yet taken.
    Sha256 hash;
    std::vector<bool> used(fields.size(), false);
    for (const std::string_view h : signed_names) {
        for (std::size_t i = fields.size(); i-- > 0;) {
            if (!used[i] && mime::iequals(fields[i].name, h)) {
                used[i] = true;
                hash.update(canonicalize_header(fields[i].text, o.header_canonicalization));
                hash.update("\r\n");
                break;
            }
        }
    }

    // The field, in the tag order of RFC 6376's and RFC 8463's examples.
    Folder f("DKIM-Signature:");
    f.atom("v=1;");
    f.atom("a=" + std::string(name(key_.type())) + "-sha256;");
    f.atom("c=" + std::string(name(o.header_canonicalization)) + '/' +
           std::string(name(o.body_canonicalization)) + ';');
    f.atom("d=" + o.domain + ';');
    if (!o.identity.empty()) {
        f.atom("i=" + o.identity + ';');
    }
    f.atom("q=dns/txt;");
    f.atom("s=" + o.selector + ';');
    if (o.timestamp) {
        f.atom("t=" + std::to_string(seconds(*o.timestamp)) + ';');
    }
    if (o.expiration) {
        f.atom("x=" + std::to_string(seconds(*o.expiration)) + ';');
    }
    for (std::size_t i = 0; i < signed_names.size(); ++i) {
        std::string a = (i == 0 ? "h=" : "") + std::string(signed_names[i]);
        if (i + 1 == signed_names.size()) {
            a += ';';
        }
        f.atom(a);
        if (i + 1 < signed_names.size()) {
            f.atom(":");
        }
    }
    f.atom("bh=" +
           util::base64_encode(std::string_view(reinterpret_cast<const char*>(body_hash.data()),
                                                body_hash.size())) +
           ';');
    f.atom("b=", 16);  // some of the value on the same line: no fold right after "b="

    // RFC 6376 3.7: the field itself last, with b= empty and without its CRLF.
    hash.update(canonicalize_header(f.text(), o.header_canonicalization));
    f.cut(util::base64_encode(key_.sign_digest(hash.finish())));
    return f.text() + "\r\n";
}

namespace {

MessageHasher hasher_for(std::span<const Signer> signers) {
    std::vector<Canonicalization> bodies;
    bodies.reserve(signers.size());
    for (const Signer& s : signers) {
        bodies.push_back(s.body_canonicalization());
    }
    return MessageHasher(bodies);
}

std::string sign_all(MessageHasher& hasher, std::span<const Signer> signers) {
    const HashedMessage hashed = hasher.finish();
    std::string fields;
    for (const Signer& s : signers) {
        fields += s.sign(hashed);
    }
    return fields;
}

}  // namespace

std::string sign(mime::Serializer& message, std::span<const Signer> signers) {
    MessageHasher hasher = hasher_for(signers);
    (void)message.size([&hasher](std::string_view chunk) { hasher.update(chunk); });
    return sign_all(hasher, signers);
}

std::string sign(std::string_view message, std::span<const Signer> signers) {
    MessageHasher hasher = hasher_for(signers);
    hasher.update(message);
    return sign_all(hasher, signers);
}

}  // namespace missive::dkim
