#pragma once

#include <string>
#include <string_view>

namespace missive::smtp::detail {

/**
 * Turns message data into what goes on the wire, in pieces of any size: every bare CR and every
 * bare LF becomes CRLF (so no line ending the server might read differently reaches it: SMTP
 * smuggling), and for DATA a "." at the start of a line is doubled (RFC 5321 4.5.2). `finish`
 * ends the last line and, for DATA, appends the terminating ".\r\n". In binary mode (BODY=
 * BINARYMIME) bytes pass unaltered.
 */
class DataEncoder {
public:
    enum class Mode { dot_stuffed, chunked, binary };

    explicit DataEncoder(Mode mode = Mode::dot_stuffed)
        : mode_(mode) {}

    /** Appends the wire form of `bytes` to `out`. */
    void encode(std::string_view bytes, std::string& out);

    /** Appends what ends the data to `out`. */
    void finish(std::string& out);

private:
    Mode mode_;
    bool line_start_ = true;
    bool pending_cr_ = false;
};

}  // namespace missive::smtp::detail
