#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>

#include <exception>
#include <memory>
#include <utility>

namespace missive::client {

template <typename Token>
auto async_send(Pool& pool, Letter letter, Token&& token) {
    return asio::async_initiate<Token, void(std::exception_ptr, Outcome)>(
        [&pool](auto handler, Letter l) {
            using Handler = decltype(handler);
            // Shared: Pool::submit takes a copyable std::function, and handlers may be move-only.
            auto held = std::make_shared<Handler>(std::move(handler));
            auto executor = asio::prefer(asio::get_associated_executor(*held),
                                         asio::execution::outstanding_work.tracked);
            auto complete = [held, executor](std::exception_ptr e, Outcome o) {
                asio::post(executor, [held, e = std::move(e), o = std::move(o)]() mutable {
                    (*held)(std::move(e), std::move(o));
                });
            };
            try {
                pool.submit(std::move(l),
                            [complete](Outcome o) { complete(nullptr, std::move(o)); });
            } catch (...) {
                complete(std::current_exception(), Outcome{});
            }
        },
        token, std::move(letter));
}

}  // namespace missive::client
