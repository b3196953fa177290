#pragma once

// A Pool's letters from asynchronous code: co_await an outcome on any executor (this header
// names Asio: link missive::asio as well as missive::missive).

#include <missive/client/letter.hpp>
#include <missive/client/pool.hpp>

namespace missive::client {

/**
 * Gives `letter` to `pool` (as Pool::submit) and completes with its outcome.
 *
 * Completion signature: `void(std::exception_ptr, Outcome)`. The letter's own fate, whatever it
 * is (refused, transient after every attempt, outcome unknown), is in the `Outcome`, as
 * Pool::send returns it; the exception is set only when the pool refused the letter:
 * errc::invalid_input once it is shut down. With `asio::use_awaitable`, `co_await` returns the
 * Outcome and rethrows that Error.
 *
 * The completion is posted to the token's associated executor (the coroutine's, for
 * use_awaitable; the system executor when the token has none), never run on the pool's thread,
 * and the operation keeps that executor's work counted until then. No cancellation: once given, a
 * letter gets its outcome (the pool keeps it until then). `pool` must outlive the operation.
 * Thread-safe as Pool::submit.
 *
 * @param pool the pool that sends it
 * @param letter the message and its envelope
 * @param token an Asio completion token
 */
template <typename Token>
auto async_send(Pool& pool, Letter letter, Token&& token);

}  // namespace missive::client

#include <missive/client/impl/async_pool.hpp>
