// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <limits>

#include "server/core/rate_limiter.h"

using namespace hearth::relay;

TEST_CASE("token bucket: burst, then the rate", "[server][core][rate]") {
  TokenBucket b(Rate{10, 1000}, 5, 0);
  for (int i = 0; i < 5; ++i) REQUIRE(b.try_take(0));
  REQUIRE_FALSE(b.try_take(0));
  REQUIRE_FALSE(b.try_take(99));  // 0.99 tokens
  REQUIRE(b.try_take(100));       // one token per 100 ms
  REQUIRE_FALSE(b.try_take(100));
  REQUIRE(b.available(1000) == 5);  // capped at the burst
}

TEST_CASE("token bucket: slow rates per minute", "[server][core][rate]") {
  TokenBucket b(Rate{6, 60'000}, 1, 0);
  REQUIRE(b.try_take(0));
  REQUIRE_FALSE(b.try_take(9'999));
  REQUIRE(b.try_take(10'000));
}

TEST_CASE("token bucket: cost, clock steps back, long pauses", "[server][core][rate]") {
  TokenBucket b(Rate{1000, 1000}, 100, 1'000);
  REQUIRE_FALSE(b.try_take(1'000, 101));  // more than the burst never fits
  REQUIRE(b.try_take(1'000, 100));
  REQUIRE_FALSE(b.try_take(500));  // time going back adds nothing
  REQUIRE(b.available(std::numeric_limits<std::int64_t>::max()) == 100);  // no overflow
}

TEST_CASE("token bucket: zero rate never refills", "[server][core][rate]") {
  TokenBucket b(Rate{0, 1000}, 2, 0);
  REQUIRE(b.try_take(0, 2));
  REQUIRE_FALSE(b.try_take(1'000'000));
}
