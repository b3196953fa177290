#pragma once

// DKIM signing (RFC 6376) with rsa-sha256 and ed25519-sha256 (RFC 8463).
//
// Theory of operation
// -------------------
// A DKIM-Signature field goes at the top of the message, yet it holds the hash of the body (bh=),
// which comes last. A sender that streams a large message cannot hold it whole to sign it, so
// signing takes two passes over a message that can be produced twice, identically:
//
//  1. The hashing pass. The message's bytes go through a MessageHasher, in pieces of any size.
//     It keeps the header block (small: at most mime::HeaderBlock::max_size) and feeds the body
//     to a BodyHasher per body canonicalization, which canonicalizes it as it streams
//     (BodyCanonicalizer: a few words of state, whatever the body; trailing empty lines are a
//     count, trailing white space a flag) straight into SHA-256. Nothing of the body is kept.
//  2. Signing. Each Signer takes the header block and its body hash, selects and canonicalizes
//     the header fields it signs, appends its own DKIM-Signature field with an empty b=, hashes
//     that, signs the digest with its key, and returns the complete field.
//  3. The sending pass. The fields go out first, then the message, produced again.
//
// For a built message, the producer is mime::Serializer: `dkim::sign(serializer, signers)` runs
// pass 1 through `Serializer::size(observer)`, which writes the message once without keeping it
// and then starts over (its Date, Message-ID and MIME boundaries are fixed when it is made, and
// attachment files are read again), so pass 3 sends the text that was hashed, and SIZE= comes
// from the same pass. A ready-made message (stdin) is spooled to a file while it is hashed, then
// sent from the file. Either way memory stays bounded for a 1 GiB attachment.
//
// What is hashed is what the wire will carry: line breaks are read as smtp's data encoder writes
// them (CRLF, bare CR and bare LF each become CRLF; a last line without one gets one), so a
// caller's LF-only text signs correctly. BINARYMIME (bytes sent unaltered) is not covered.
//
// Several signatures (RFC 8463 asks for Ed25519 and RSA together) are several Signers over one
// hashing pass: each signs the header as it was, without the others' fields.
//
// Failures come before anything is sent: a bad key, selector, domain or option is errc::config
// when the Signer is made; a message that signing would make unverifiable or misleading (no From,
// several From fields, a From outside d= when alignment is asked for) is errc::invalid_input
// from `sign`. No key material appears in any error.

#include <missive/dkim/canonicalization.hpp>
#include <missive/dkim/hasher.hpp>
#include <missive/dkim/key.hpp>

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace missive::mime {
class Serializer;
}

namespace missive::dkim {

/**
 * @return the header fields signed by default, when present: From, To, Cc, Subject, Date,
 *         Message-ID, MIME-Version, Content-Type, Content-Transfer-Encoding, Reply-To,
 *         In-Reply-To, References, Sender, List-Id, List-Help, List-Unsubscribe,
 *         List-Unsubscribe-Post, List-Subscribe, List-Post, List-Owner, List-Archive
 */
std::vector<std::string> default_signed_headers();

/** How a Signer signs. */
struct SignerOptions {
    std::string domain{};    ///< d=: the signing domain (UTF-8 is written as its A-labels)
    std::string selector{};  ///< s=: where the key is published: SELECTOR._domainkey.DOMAIN
    Canonicalization header_canonicalization = Canonicalization::relaxed;
    Canonicalization body_canonicalization = Canonicalization::relaxed;
    /** The fields to sign, each as often as it occurs (RFC 6376 5.4.2); must include From. */
    std::vector<std::string> headers = default_signed_headers();
    /**
     * Over-signing (RFC 6376 8.15): these names are listed in h= once more than the message has
     * them, so a field of that name added later (or a second From) breaks the signature.
     * nullopt: every name in `headers`; each name must be one of `headers`.
     */
    std::optional<std::vector<std::string>> oversign{};
    std::string identity{};  ///< i=: "@domain" or "user@domain" within d=; "" for none
    /** t=: when it was signed (time is an input: the dkim layer reads no clock); none if unset */
    std::optional<std::chrono::system_clock::time_point> timestamp{};
    /** x=: when the signature expires; later than t= */
    std::optional<std::chrono::system_clock::time_point> expiration{};
    /** Refuse a message whose From domain is not d= or under it (DMARC's alignment, strict
     * about the organizational domain: a From of mail.example.org aligns with d=example.org,
     * the other way round does not). */
    bool require_alignment = false;
};

/**
 * Signs messages with one key and one set of options. Immutable once made: one Signer may sign
 * on several threads at once.
 */
class Signer {
public:
    /**
     * @throws Error errc::config for a domain or selector that is not a domain name, headers
     *         without From, an oversign name not in headers, an identity outside the domain or
     *         with characters DKIM cannot carry, or an expiration not after the timestamp
     */
    Signer(PrivateKey key, SignerOptions options);

    /** @return the body canonicalization this signer's bh= uses */
    [[nodiscard]] Canonicalization body_canonicalization() const {
        return options_.body_canonicalization;
    }

    /** @return the options, checked (domain and selector in lower-case ASCII) */
    [[nodiscard]] const SignerOptions& options() const { return options_; }

    /**
     * Signs a message of which the caller has the header block and the body hash.
     * @param header_block the header fields as they will be sent (the empty line that ends them
     *        may be there or not); line breaks as BodyCanonicalizer reads them
     * @param body_hash the body's hash in this signer's body canonicalization (BodyHasher)
     * @return the DKIM-Signature field, folded, ending in CRLF, to send before the header block
     * @throws Error errc::invalid_input for a header line that is no field, no From or several,
     *         an unreadable From, or (require_alignment) a From domain outside d=
     */
    [[nodiscard]] std::string sign(std::string_view header_block, const Digest& body_hash) const;

    /**
     * @return as above, with the body hash taken from one hashing pass
     * @throws Error errc::invalid_input as above, or when `message` lacks this signer's hash
     */
    [[nodiscard]] std::string sign(const HashedMessage& message) const;

private:
    PrivateKey key_;
    SignerOptions options_;
};

/**
 * Signs a message that a serializer writes, with one hashing pass (`Serializer::size` with an
 * observer) after which the serializer starts over; its `size()` is then known at no cost.
 * @param message a serializer on which `next()` has not been called
 * @param signers each adds its field (Ed25519 and RSA together, say)
 * @return the DKIM-Signature fields, to send before the serializer's text
 * @throws Error errc::invalid_input as Signer::sign, as the serializer, or when `next()` was
 *         already called
 */
[[nodiscard]] std::string sign(mime::Serializer& message, std::span<const Signer> signers);

/**
 * Signs a message held in memory.
 * @return the DKIM-Signature fields, to send before `message`
 * @throws Error errc::invalid_input as Signer::sign
 */
[[nodiscard]] std::string sign(std::string_view message, std::span<const Signer> signers);

}  // namespace missive::dkim
