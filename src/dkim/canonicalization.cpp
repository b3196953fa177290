#include <missive/dkim/canonicalization.hpp>

#include <utility>

namespace missive::dkim {

namespace {

bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}

// Neither white space nor a line break: copied as it is by either canonicalization.
bool is_plain(char c) {
    return c != ' ' && c != '\t' && c != '\r' && c != '\n';
}

}  // namespace

std::string_view name(Canonicalization c) {
    return c == Canonicalization::simple ? "simple" : "relaxed";
}

BodyCanonicalizer::BodyCanonicalizer(Canonicalization c, Sink sink)
    : c_(c)
    , sink_(std::move(sink)) {
    buffer_.reserve(flush_size + 2);
}

void BodyCanonicalizer::flush() {
    if (!buffer_.empty()) {
        written_ += buffer_.size();
        sink_(buffer_);
        buffer_.clear();
    }
}

void BodyCanonicalizer::line_break() {
    pending_wsp_ = false;  // RFC 6376 3.4.4: white space at the end of a line is ignored
    line_open_ = false;
    ++pending_lines_;
}

// Something other than a line break follows: the held-back line breaks were not the body's
// trailing empty lines (RFC 6376 3.4.3, 3.4.4), so they are written after all.
void BodyCanonicalizer::flush_lines() {
    while (pending_lines_ > 0) {
        buffer_ += "\r\n";
        --pending_lines_;
        if (buffer_.size() >= flush_size) {
            flush();
        }
    }
    if (pending_wsp_) {
        buffer_ += ' ';  // RFC 6376 3.4.4: a run of white space becomes one space
        pending_wsp_ = false;
    }
}

void BodyCanonicalizer::update(std::string_view bytes) {
    const bool relaxed = c_ == Canonicalization::relaxed;
    const char* p = bytes.data();
    const char* const end = p + bytes.size();
    while (p < end) {
        if (pending_cr_) {
            pending_cr_ = false;
            line_break();  // CRLF, or a bare CR: either is one line break on the wire
            if (*p == '\n') {
                ++p;
                continue;
            }
        }
        const char c = *p;
        if (c == '\r') {
            pending_cr_ = true;
            ++p;
            continue;
        }
        if (c == '\n') {
            line_break();  // a bare LF
            ++p;
            continue;
        }
        if (relaxed && is_wsp(c)) {
            pending_wsp_ = true;
            line_open_ = true;
            ++p;
            continue;
        }
        // A run of octets that are copied as they are, at most flush_size at once. In relaxed
        // mode a lone space between two such octets is one of them (it would become itself):
        // text then goes a line at a time, not a word at a time.
        const char* run = p + 1;
        const char* const run_end = end - p > static_cast<std::ptrdiff_t>(flush_size)
                                        ? p + static_cast<std::ptrdiff_t>(flush_size)
                                        : end;
        if (relaxed) {
            while (run < run_end) {
                if (is_plain(*run)) {
                    ++run;
                } else if (*run == ' ' && run + 1 < run_end && is_plain(run[1])) {
                    run += 2;
                } else {
                    break;
                }
            }
        } else {
            while (run < run_end && *run != '\r' && *run != '\n') {
                ++run;
            }
        }
        flush_lines();
        if (buffer_.size() + static_cast<std::size_t>(run - p) > flush_size) {
            flush();
        }
        buffer_.append(p, run);
        any_content_ = true;
        line_open_ = true;
        if (buffer_.size() >= flush_size) {
            flush();
        }
        p = run;
    }
}

void BodyCanonicalizer::finish() {
    if (pending_cr_) {
        pending_cr_ = false;
        line_break();
    }
    if (line_open_) {
        line_break();  // the wire ends the last line (and RFC 6376 3.4.3/3.4.4 add a CRLF)
    }
    pending_lines_ = 0;  // trailing empty lines are ignored
    pending_wsp_ = false;
    // Simple: the body ends with exactly one CRLF, an empty body is one CRLF. Relaxed: the same,
    // except that an empty body (or only empty lines) stays empty (RFC 6376 3.4.4).
    if (c_ == Canonicalization::simple || any_content_) {
        buffer_ += "\r\n";
    }
    flush();
}

std::string canonicalize_body(std::string_view body, Canonicalization c) {
    std::string out;
    BodyCanonicalizer canon(c, [&out](std::string_view piece) { out.append(piece); });
    canon.update(body);
    canon.finish();
    return out;
}

std::string canonicalize_header(std::string_view field, Canonicalization c) {
    if (c == Canonicalization::simple) {
        return std::string(field);  // RFC 6376 3.4.1: unchanged
    }
    // RFC 6376 3.4.2: the name in lower case; the value unfolded, each run of white space one
    // space, none at either end; none around the colon.
    const std::size_t colon = field.find(':');
    std::string_view name_part = field.substr(0, colon);
    while (!name_part.empty() && is_wsp(name_part.back())) {
        name_part.remove_suffix(1);
    }
    std::string out;
    out.reserve(field.size());
    for (const char ch : name_part) {
        out += ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch;
    }
    out += ':';
    if (colon == std::string_view::npos) {
        return out;
    }
    bool space = false;
    bool started = false;
    for (const char ch : field.substr(colon + 1)) {
        if (ch == '\r' || ch == '\n') {
            continue;  // unfolding: the white space after the break stays, and is collapsed
        }
        if (is_wsp(ch)) {
            space = started;
            continue;
        }
        if (space) {
            out += ' ';
            space = false;
        }
        out += ch;
        started = true;
    }
    return out;
}

}  // namespace missive::dkim
