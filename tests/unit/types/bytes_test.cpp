// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "common/types/bytes.h"
#include "common/types/ids.h"

using namespace hearth;

TEST_CASE("hex round trip and rejection", "[types]") {
  Bytes b{0x00, 0x01, 0xab, 0xff};
  REQUIRE(to_hex(b) == "0001abff");
  REQUIRE(from_hex("0001ABff") == b);
  REQUIRE_FALSE(from_hex("abc").has_value());
  REQUIRE_FALSE(from_hex("zz").has_value());
  REQUIRE(from_hex("")->empty());
}

TEST_CASE("big-endian integers", "[types]") {
  Bytes out;
  put_u32(out, 0x01020304u);
  put_u64(out, 0x0102030405060708ull);
  REQUIRE(out.size() == 12);
  REQUIRE(get_u32(out) == 0x01020304u);
  REQUIRE(get_u64(BytesView(out).subspan(4)) == 0x0102030405060708ull);
}

TEST_CASE("strong ids compare by value", "[types]") {
  RoomId a{{1, 2}}, b{{1, 2}}, c{{1, 3}};
  REQUIRE(a == b);
  REQUIRE(a < c);
  REQUIRE(BytesIdHash{}(a) == BytesIdHash{}(b));
}
