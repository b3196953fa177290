#pragma once

#include <missive/client/options.hpp>

#include <chrono>

namespace missive::test {

/** Options for a client test against a local server: EHLO "client.test", and every wait
 * (connect, each reply, each data write, the final reply) at most `each_wait`, so that a test
 * never hangs. */
inline client::Options client_options(
    std::chrono::milliseconds each_wait = std::chrono::seconds(5)) {
    client::Options o;
    o.local_name = "client.test";
    o.connect_timeout = o.command_timeout = o.data_block_timeout = o.final_reply_timeout =
        each_wait;
    return o;
}

}  // namespace missive::test
