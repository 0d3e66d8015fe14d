// SPDX-License-Identifier: Apache-2.0
#pragma once
// The one way the relay includes Boost.Asio. Boost 1.74 with GCC 12:
// boost/asio/awaitable.hpp uses std::exchange without including <utility>,
// so <utility> must come first.
//
// GCC 12 at -O2 reports -Wnull-dereference inside Asio's scheduler after
// inlining (a false positive in Boost's code); it is switched off for the
// text of these headers only, the relay's own code keeps it.

#include <utility>  // IWYU pragma: keep (must precede Asio)

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio.hpp>                 // IWYU pragma: export
#include <boost/asio/awaitable.hpp>       // IWYU pragma: export
#include <boost/asio/co_spawn.hpp>        // IWYU pragma: export
#include <boost/asio/redirect_error.hpp>  // IWYU pragma: export
#include <boost/asio/ssl.hpp>             // IWYU pragma: export
#include <boost/asio/use_awaitable.hpp>   // IWYU pragma: export
#pragma GCC diagnostic pop

namespace hearth::relay {
namespace asio = boost::asio;
}  // namespace hearth::relay
