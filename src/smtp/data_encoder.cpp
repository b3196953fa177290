#include "smtp/data_encoder.hpp"

namespace missive::smtp::detail {

void DataEncoder::encode(std::string_view bytes, std::string& out) {
    if (mode_ == Mode::binary) {
        out.append(bytes);
        return;
    }
    const bool stuff = mode_ == Mode::dot_stuffed;
    std::size_t i = 0;
    while (i < bytes.size()) {
        if (pending_cr_) {
            pending_cr_ = false;
            out.append("\r\n");
            line_start_ = true;
            if (bytes[i] == '\n') {
                ++i;
                continue;
            }
        }
        if (line_start_ && stuff && bytes[i] == '.') {
            out.push_back('.');
        }
        // Copy the run of ordinary bytes up to the next CR or LF in one go.
        const std::size_t end = bytes.find_first_of("\r\n", i);
        const std::size_t stop = end == std::string_view::npos ? bytes.size() : end;
        if (stop > i) {
            out.append(bytes.substr(i, stop - i));
            line_start_ = false;
            i = stop;
        }
        if (i == bytes.size()) {
            break;
        }
        if (bytes[i] == '\r') {
            pending_cr_ = true;
        } else {  // a bare LF
            out.append("\r\n");
            line_start_ = true;
        }
        ++i;
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
