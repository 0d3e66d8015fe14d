// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "common/wire/codec.h"
#include "server/core/frame_peek.h"

using namespace hearth;
using namespace hearth::relay;

TEST_CASE("peek_request_id reads field 1 of a frame that does not decode", "[server][core][peek]") {
  const Bytes encoded = wire::encode(wire::Frame{300, wire::Ping{1}});
  REQUIRE(peek_request_id(encoded) == 300u);
  REQUIRE(peek_request_id(Bytes{0x08, 0x05, 0xff}) == 5u);
  REQUIRE_FALSE(peek_request_id(Bytes{}).has_value());
  REQUIRE_FALSE(peek_request_id(Bytes{0x10, 0x05}).has_value());
  REQUIRE_FALSE(peek_request_id(Bytes{0x08}).has_value());
  REQUIRE_FALSE(peek_request_id(Bytes{0x08, 0x80, 0x80}).has_value());  // truncated varint
  Bytes too_long{0x08};
  too_long.insert(too_long.end(), 11, 0x80);
  REQUIRE_FALSE(peek_request_id(too_long).has_value());
  REQUIRE(peek_request_id(wire::encode(wire::Frame{~0ull, wire::Ping{}})) == ~0ull);
}
