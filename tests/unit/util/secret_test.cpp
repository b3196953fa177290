#include <missive/util/secret.hpp>

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

using missive::Secret;

namespace {

template <typename T>
concept Streamable = requires(std::ostream& out, const T& value) {
    out << value;
};

}  // namespace

// The point of the type: no way to the bytes but reveal().
static_assert(!Streamable<Secret>);
static_assert(!std::is_convertible_v<Secret, std::string>);
static_assert(!std::is_convertible_v<Secret, std::string_view>);
static_assert(!std::is_constructible_v<std::string, Secret>);
static_assert(std::is_convertible_v<const char*, Secret>);  // `.password = "…"`
static_assert(std::is_copy_constructible_v<Secret> && std::is_copy_assignable_v<Secret>);
static_assert(std::is_nothrow_move_constructible_v<Secret>);
static_assert(std::is_nothrow_move_assignable_v<Secret>);

TEST(Secret, Reveal) {
    const Secret empty;
    EXPECT_TRUE(empty.empty());
    EXPECT_EQ(empty.reveal(), "");
    const Secret s = "hunter2";
    EXPECT_FALSE(s.empty());
    EXPECT_EQ(s.reveal(), "hunter2");
    const Secret binary(std::string("a\0b", 3));
    EXPECT_EQ(binary.reveal(), std::string_view("a\0b", 3));
}

TEST(Secret, CopiesAreIndependent) {
    Secret a = "short";
    Secret b = a;
    EXPECT_EQ(b.reveal(), "short");
    a = Secret("a much longer secret that does not fit in a small string");
    EXPECT_EQ(b.reveal(), "short");
    b = a;
    EXPECT_EQ(b.reveal(), "a much longer secret that does not fit in a small string");
    b = Secret("x");
    EXPECT_EQ(b.reveal(), "x");
    EXPECT_EQ(a.reveal(), "a much longer secret that does not fit in a small string");
    const Secret& self = b;
    b = self;
    EXPECT_EQ(b.reveal(), "x");
}

TEST(Secret, MovingEmptiesTheSource) {
    for (const char* value :
         {"short", "a much longer secret that does not fit in a small string"}) {
        Secret a = value;
        Secret b = std::move(a);
        EXPECT_EQ(b.reveal(), value);
        EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the documented state
        Secret c = "other";
        c = std::move(b);
        EXPECT_EQ(c.reveal(), value);
        EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
    }
}
