#include "smtp/data_encoder.hpp"

#include <cstring>

namespace missive::smtp::detail {

void DataEncoder::encode(std::string_view bytes, std::string& out) {
    if (mode_ == Mode::binary) {
        out.append(bytes);
        return;
    }
    const bool stuff = mode_ == Mode::dot_stuffed;
    const char* const data = bytes.data();
    const std::size_t n = bytes.size();
    std::size_t i = 0;
    // Line by line: memchr finds the LF, then any CR before it. A well-formed CRLF line is
    // copied in one append; only bare CRs and LFs take the slow path.
    while (i < n) {
        if (pending_cr_) {
            pending_cr_ = false;
            out.append("\r\n");
            line_start_ = true;
            if (data[i] == '\n') {
                ++i;
                continue;
            }
        }
        if (line_start_ && stuff && data[i] == '.') {
            out.push_back('.');
        }
        const void* lf_at = std::memchr(data + i, '\n', n - i);
        const std::size_t lf =
            lf_at != nullptr ? static_cast<std::size_t>(static_cast<const char*>(lf_at) - data) : n;
        const void* cr_at = std::memchr(data + i, '\r', lf - i);
        if (cr_at == nullptr) {
            out.append(data + i, lf - i);
            if (lf == n) {
                line_start_ = false;
                break;
            }
            out.append("\r\n");  // a bare LF
            line_start_ = true;
            i = lf + 1;
            continue;
        }
        const auto cr = static_cast<std::size_t>(static_cast<const char*>(cr_at) - data);
        if (lf < n && cr + 1 == lf) {
            out.append(data + i, lf + 1 - i);  // a proper CRLF line
            line_start_ = true;
            i = lf + 1;
            continue;
        }
        out.append(data + i, cr - i);
        line_start_ = false;
        if (cr + 1 == n) {
            pending_cr_ = true;  // the LF may come with the next piece
            break;
        }
        out.append("\r\n");  // a bare CR
        line_start_ = true;
        i = cr + 1;
    }
}

void DataEncoder::finish(std::string& out) {
    if (mode_ != Mode::binary) {
        if (pending_cr_) {
            out.append("\r\n");
            pending_cr_ = false;
            line_start_ = true;
        }
        if (!line_start_) {
            out.append("\r\n");  // the message did not end with a line break
            line_start_ = true;
        }
    }
    if (mode_ == Mode::dot_stuffed) {
        out.append(".\r\n");
    }
}

}  // namespace missive::smtp::detail
