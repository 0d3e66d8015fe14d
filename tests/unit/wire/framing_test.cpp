// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "common/wire/framing.h"

using namespace hearth;
using namespace hearth::wire;

namespace {
Bytes framed(std::uint32_t len, std::uint8_t fill = 0x41) {
  Bytes out;
  put_u32(out, len);
  out.insert(out.end(), len, fill);
  return out;
}
}  // namespace

TEST_CASE("length prefix checks", "[wire][framing]") {
  Bytes p;
  put_u32(p, 0);
  REQUIRE(check_length(p, kDefaultMaxFrameSize).error() == FramingError::ZeroLength);
  p.clear();
  put_u32(p, kDefaultMaxFrameSize);
  REQUIRE(check_length(p, kDefaultMaxFrameSize).value() == kDefaultMaxFrameSize);
  p.clear();
  put_u32(p, kDefaultMaxFrameSize + 1);
  REQUIRE(check_length(p, kDefaultMaxFrameSize).error() == FramingError::TooLarge);
  p.clear();
  put_u32(p, 0xffffffffu);
  REQUIRE(check_length(p, kDefaultMaxFrameSize).error() == FramingError::TooLarge);
}

TEST_CASE("frame reader splits a stream byte by byte", "[wire][framing]") {
  Bytes stream = framed(3, 'a');
  append(stream, framed(5, 'b'));
  FrameReader r(64);
  std::vector<Bytes> got;
  for (auto byte : stream) {
    r.feed(BytesView(&byte, 1));
    while (true) {
      auto next = r.next();
      REQUIRE(next);
      if (!*next) break;
      got.push_back(std::move(**next));
    }
  }
  REQUIRE(got.size() == 2);
  REQUIRE(got[0] == Bytes{'a', 'a', 'a'});
  REQUIRE(got[1] == Bytes(5, 'b'));
  REQUIRE(r.buffered() == 0);
}

TEST_CASE("frame reader fails on oversize before buffering the body", "[wire][framing]") {
  FrameReader r(16);
  Bytes prefix;
  put_u32(prefix, 17);
  r.feed(prefix);
  REQUIRE(r.next().error() == FramingError::TooLarge);
  // Stays failed: the stream is out of sync.
  r.feed(framed(2));
  REQUIRE(r.next().error() == FramingError::TooLarge);
}

TEST_CASE("frame reader rejects zero length", "[wire][framing]") {
  FrameReader r(16);
  r.feed(framed(0));
  REQUIRE(r.next().error() == FramingError::ZeroLength);
}

TEST_CASE("frame reader waits for a partial body", "[wire][framing]") {
  FrameReader r(16);
  auto f = framed(10);
  r.feed(BytesView(f).first(9));
  auto n = r.next();
  REQUIRE(n);
  REQUIRE_FALSE(n->has_value());
  r.feed(BytesView(f).subspan(9));
  REQUIRE(r.next().value()->size() == 10);
}
