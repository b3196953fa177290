#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace missive::dkim {

/** The two canonicalization algorithms of RFC 6376 3.4, for the header and for the body. */
enum class Canonicalization {
    simple,   ///< almost no change tolerated (3.4.1, 3.4.3)
    relaxed,  ///< white space and header name case may change in transit (3.4.2, 3.4.4)
};

/** @return "simple" or "relaxed", as in the c= tag. */
std::string_view name(Canonicalization c);

/**
 * Canonicalizes a message body (RFC 6376 3.4.3 simple, 3.4.4 relaxed) as it streams, in pieces
 * of any size: the output does not depend on where the input was cut.
 *
 * The input is the body as it will go on the wire: like smtp's data encoder, the canonicalizer
 * reads CRLF, a bare CR and a bare LF each as one line break (all three go out as CRLF), and a
 * body that does not end with a line break as one that does (one is added on the wire). So what
 * is hashed is what the receiver gets, whatever line ends the caller used.
 *
 * Trailing empty lines are held back as a count and white space as a flag, never as bytes: the
 * state is a few words whatever the body, and the output is handed to `sink` in pieces of at
 * most `flush_size` octets.
 */
class BodyCanonicalizer {
public:
    /** Receives canonical bytes; each view is valid during the call only. */
    using Sink = std::function<void(std::string_view)>;

    /** The largest piece handed to the sink at once. */
    static constexpr std::size_t flush_size = std::size_t{64} * 1024;

    /**
     * @param c the algorithm
     * @param sink where the canonical body goes (a hash, usually); must outlive this object
     */
    BodyCanonicalizer(Canonicalization c, Sink sink);

    /** Canonicalizes the next piece of the body. */
    void update(std::string_view bytes);

    /** Ends the body: writes what the end decides (the last line break). Call once. */
    void finish();

    /** @return the number of canonical octets written so far. */
    [[nodiscard]] std::uint64_t written() const { return written_; }

private:
    void line_break();
    void flush_lines();
    void put(char c);
    void flush();

    Canonicalization c_;
    Sink sink_;
    std::string buffer_;
    std::uint64_t pending_lines_ = 0;  // line breaks not written yet: they may end the body
    std::uint64_t written_ = 0;
    bool pending_cr_ = false;   // a CR ended the last piece: a LF may follow
    bool pending_wsp_ = false;  // relaxed: white space since the last character written
    bool line_open_ = false;    // octets since the last line break
    bool any_content_ = false;  // relaxed: a line with something other than white space
};

/** @return `body` canonicalized at once (tests and small messages). */
std::string canonicalize_body(std::string_view body, Canonicalization c);

/**
 * Canonicalizes one header field (RFC 6376 3.4.1 simple, 3.4.2 relaxed).
 * @param field the field as it goes on the wire: the name, the colon, the value with its folds
 *        (CRLF followed by white space), without the CRLF that ends it
 * @return the canonical form, without the CRLF that ends it
 */
std::string canonicalize_header(std::string_view field, Canonicalization c);

}  // namespace missive::dkim
