// SPDX-License-Identifier: Apache-2.0
#pragma once
// The one way hearth-bench includes Asio. Boost 1.74's awaitable.hpp uses
// std::exchange without including <utility>, which GCC 12 no longer pulls in
// transitively, so <utility> must come first (DESIGN.md §9).
//
// GCC 12 at -O3 reports -Wnull-dereference inside Asio's scheduler after
// inlining (a false positive in Boost's code, not ours); the warning is
// switched off for the text of these headers only, our code keeps it.

#include <utility>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio.hpp>
#pragma GCC diagnostic pop

namespace hearth::bench {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
}  // namespace hearth::bench
