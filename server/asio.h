// SPDX-License-Identifier: Apache-2.0
#pragma once
// The one way the relay includes Boost.Asio. Boost 1.74 with GCC 12:
// boost/asio/awaitable.hpp uses std::exchange without including <utility>,
// so <utility> must come first.

#include <utility>  // IWYU pragma: keep (must precede Asio)

#include <boost/asio.hpp>                 // IWYU pragma: export
#include <boost/asio/awaitable.hpp>       // IWYU pragma: export
#include <boost/asio/co_spawn.hpp>        // IWYU pragma: export
#include <boost/asio/redirect_error.hpp>  // IWYU pragma: export
#include <boost/asio/ssl.hpp>             // IWYU pragma: export
#include <boost/asio/use_awaitable.hpp>   // IWYU pragma: export

namespace hearth::relay {
namespace asio = boost::asio;
}  // namespace hearth::relay
