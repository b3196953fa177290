// The sysexits code of each kind of failure the CLI reports.
#include "exit_codes.hpp"

#include <missive/error.hpp>

#include <gtest/gtest.h>

using missive::errc;
using missive::Error;
using namespace missive::cli;

TEST(ExitCodes, EachKindHasItsCode) {
    EXPECT_EQ(exit_code_for(Error(errc::storage, "outbox: disk full")), exit_cant_create);
    EXPECT_EQ(exit_code_for(Error(errc::outcome_unknown, "dropped after the dot")), exit_io);
    EXPECT_EQ(exit_code_for(Error(errc::config, "bad URL")), exit_config);
    EXPECT_EQ(exit_code_for(Error(errc::invalid_input, "CR in an address")), exit_data);
    EXPECT_EQ(exit_code_for(Error(errc::connection_lost, "reset")), exit_temp_fail);
    EXPECT_EQ(exit_code_for(Error(errc::message_too_large, "too big")), exit_unavailable);
}
