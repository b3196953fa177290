#include <missive/dkim/hasher.hpp>
#include <missive/error.hpp>
#include <missive/mime/header_reader.hpp>

#include "dkim/digest.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace missive::dkim {

const EVP_MD* detail::sha256() {
    static const std::unique_ptr<EVP_MD, decltype(&EVP_MD_free)> md(
        EVP_MD_fetch(nullptr, "SHA256", nullptr), EVP_MD_free);
    return md.get();
}

struct BodyHasher::Impl {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), EVP_MD_CTX_free};
    BodyCanonicalizer canon;

    explicit Impl(Canonicalization c)
        : canon(c, [this](std::string_view piece) {
            EVP_DigestUpdate(ctx.get(), piece.data(), piece.size());
        }) {
        if (!ctx || EVP_DigestInit_ex(ctx.get(), detail::sha256(), nullptr) != 1) {
            throw Error(errc::config, "DKIM: OpenSSL has no SHA-256");
        }
    }
};

BodyHasher::BodyHasher(Canonicalization c)
    : impl_(std::make_unique<Impl>(c)) {}

BodyHasher::~BodyHasher() = default;
BodyHasher::BodyHasher(BodyHasher&& other) noexcept = default;
BodyHasher& BodyHasher::operator=(BodyHasher&& other) noexcept = default;

void BodyHasher::update(std::string_view body) {
    impl_->canon.update(body);
}

Digest BodyHasher::finish() {
    impl_->canon.finish();
    Digest digest{};
    unsigned int size = 0;
    EVP_DigestFinal_ex(impl_->ctx.get(), digest.data(), &size);
    return digest;
}

MessageHasher::MessageHasher(const std::vector<Canonicalization>& body_canonicalizations) {
    for (const Canonicalization c : body_canonicalizations) {
        auto& hasher = c == Canonicalization::simple ? simple_ : relaxed_;
        if (!hasher) {
            hasher.emplace(c);
        }
    }
}

void MessageHasher::body(std::string_view bytes) {
    if (skip_lf_ && !bytes.empty()) {
        skip_lf_ = false;
        if (bytes.front() == '\n') {
            bytes.remove_prefix(1);
        }
    }
    if (simple_) {
        simple_->update(bytes);
    }
    if (relaxed_) {
        relaxed_->update(bytes);
    }
}

void MessageHasher::update(std::string_view bytes) {
    if (in_body_) {
        body(bytes);
        return;
    }
    // The header: line by line, with the wire's reading of line breaks, up to an empty line.
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const char c = bytes[i];
        if (pending_cr_) {
            pending_cr_ = false;
            if (c == '\n') {
                header_ += c;  // CRLF
                continue;
            }
        }
        if (c == '\r' || c == '\n') {
            if (line_size_ == 0) {
                in_body_ = true;  // the empty line that ends the header
                skip_lf_ = c == '\r';
                body(bytes.substr(i + 1));
                return;
            }
            header_ += c;
            line_size_ = 0;
            pending_cr_ = c == '\r';
            continue;
        }
        header_ += c;
        ++line_size_;
        if (header_.size() > mime::HeaderBlock::max_size) {
            throw Error(errc::invalid_input,
                        "the message's header passes " +
                            std::to_string(mime::HeaderBlock::max_size / 1024) + " KiB");
        }
    }
}

HashedMessage MessageHasher::finish() {
    HashedMessage out;
    if (simple_) {
        out.simple_body = simple_->finish();
    }
    if (relaxed_) {
        out.relaxed_body = relaxed_->finish();
    }
    out.header = std::move(header_);
    return out;
}

}  // namespace missive::dkim
