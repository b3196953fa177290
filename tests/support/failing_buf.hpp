#pragma once

// A stream buffer that gives some text and then fails, as a disk or a pipe's writer would: a
// read error half way through a message, for the tests that it must never pass for an end.

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <streambuf>
#include <string>

namespace missive::test {

class FailingBuf : public std::streambuf {
public:
    /** Gives `good` octets of `fill`, in pieces of at most `piece`, then throws. */
    explicit FailingBuf(std::size_t good, char fill = 'x', std::size_t piece = 1000)
        : left_(good)
        , chunk_(piece, fill) {}

protected:
    int_type underflow() override {
        if (left_ == 0) {
            throw std::runtime_error("Input/output error");
        }
        const std::size_t n = std::min(left_, chunk_.size());
        left_ -= n;
        setg(chunk_.data(), chunk_.data(), chunk_.data() + n);
        return traits_type::to_int_type(chunk_[0]);
    }

private:
    std::size_t left_;
    std::string chunk_;
};

}  // namespace missive::test
