#pragma once

#include <missive/error.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace missive::test {

/**
 * @return success when `f()` throws an Error of kind `kind` whose what() is exactly `what`;
 * use as EXPECT_TRUE(throws(…)) so that a failure points at the caller.
 */
template <typename Callable>
::testing::AssertionResult throws(Callable&& f, errc kind, std::string_view what) {
    try {
        f();
    } catch (const Error& e) {
        if (e.kind() != kind || e.what() != what) {
            return ::testing::AssertionFailure()
                   << "threw kind " << static_cast<int>(e.kind()) << " \"" << e.what()
                   << "\"\n  expected kind " << static_cast<int>(kind) << " \"" << what << "\"";
        }
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "nothing thrown; expected \"" << what << "\"";
}

/** @return the kind of the Error `f()` throws (its what() in `what` when given), or errc{}
 * when it throws none. */
template <typename Callable>
errc kind_of(Callable&& f, std::string* what = nullptr) {
    try {
        f();
    } catch (const Error& e) {
        if (what != nullptr) {
            *what = e.what();
        }
        return e.kind();
    }
    return errc{};
}

}  // namespace missive::test
