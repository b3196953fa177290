#pragma once

#include <missive/dkim/canonicalization.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace missive::dkim {

/** A SHA-256 digest. */
using Digest = std::array<unsigned char, 32>;

/**
 * The body hash of RFC 6376 3.7 (bh=), computed as the body streams: the body is canonicalized
 * (see BodyCanonicalizer) straight into SHA-256, so memory stays the same whatever its size.
 */
class BodyHasher {
public:
    /** @throws Error errc::config when OpenSSL has no SHA-256 */
    explicit BodyHasher(Canonicalization c);
    ~BodyHasher();
    BodyHasher(BodyHasher&& other) noexcept;
    BodyHasher& operator=(BodyHasher&& other) noexcept;
    BodyHasher(const BodyHasher&) = delete;
    BodyHasher& operator=(const BodyHasher&) = delete;

    /** Hashes the next piece of the body (any size, cut anywhere). */
    void update(std::string_view body);

    /** @return the digest of the canonical body; call once, after the last `update`. */
    [[nodiscard]] Digest finish();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/** What one pass over a message gives the signers: its header and its body hashes. */
struct HashedMessage {
    std::string header{};                  ///< the header block as it came, without the empty line
    std::optional<Digest> simple_body{};   ///< the body hash, simple, when it was asked for
    std::optional<Digest> relaxed_body{};  ///< the body hash, relaxed, when it was asked for
};

/**
 * Takes a whole message in pieces of any size (the serializer's chunks, a file, stdin), keeps its
 * header block (at most mime::HeaderBlock::max_size octets) and hashes its body on the fly in
 * each body canonicalization asked for. Line breaks are read as the wire will have them (CRLF,
 * bare CR or bare LF), so the header ends at the first empty line whichever form it takes.
 */
class MessageHasher {
public:
    /**
     * @param body_canonicalizations the body hashes to compute (those of the signers that will
     *        sign; each is computed once however often it is listed)
     */
    explicit MessageHasher(const std::vector<Canonicalization>& body_canonicalizations);

    /**
     * Reads the next piece of the message.
     * @throws Error errc::invalid_input when the header passes mime::HeaderBlock::max_size
     */
    void update(std::string_view bytes);

    /** @return the header and the body hashes; call once, after the last `update`. */
    [[nodiscard]] HashedMessage finish();

private:
    void body(std::string_view bytes);

    std::string header_;
    std::optional<BodyHasher> simple_;
    std::optional<BodyHasher> relaxed_;
    std::size_t line_size_ = 0;  // octets of the header's current line
    bool in_body_ = false;
    bool pending_cr_ = false;  // the header's last octet is a CR: a LF may complete it
    bool skip_lf_ = false;     // the empty line was a CR: a LF right after it belongs to it
};

}  // namespace missive::dkim
