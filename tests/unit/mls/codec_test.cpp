// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <stdexcept>

#include "common/mls/codec.h"
#include "common/mls/group_context.h"

using namespace hearth;
using namespace hearth::mls;

namespace {
Bytes hex(std::string_view s) { return *from_hex(s); }
}  // namespace

TEST_CASE("varint round trip at each width boundary", "[mls][codec]") {
  for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{63}, std::uint64_t{64}, std::uint64_t{16383}, std::uint64_t{16384}, kMaxVarint}) {
    const Bytes b = encode_varint(v);
    CHECK(b.size() == (v < 64 ? 1u : v < 16384 ? 2u : 4u));
    CHECK(decode_varint(b) == v);
  }
}

TEST_CASE("varint rejects the reserved prefix, non-minimal forms, truncation, trailing bytes", "[mls][codec]") {
  CHECK(decode_varint(hex("c0")).error() == Error::InvalidVarint);
  CHECK(decode_varint(hex("c000000000000000")).error() == Error::InvalidVarint);
  CHECK(decode_varint(hex("4001")).error() == Error::InvalidVarint);      // 1 in two bytes
  CHECK(decode_varint(hex("80000001")).error() == Error::InvalidVarint);  // 1 in four bytes
  CHECK(decode_varint(hex("80003fff")).error() == Error::InvalidVarint);  // 16383 in four bytes
  CHECK(decode_varint(hex("40")).error() == Error::Truncated);
  CHECK(decode_varint(hex("8000")).error() == Error::Truncated);
  CHECK(decode_varint({}).error() == Error::Truncated);
  CHECK(decode_varint(hex("0000")).error() == Error::TrailingBytes);
}

TEST_CASE("opaque vectors: bounds", "[mls][codec]") {
  Writer w;
  w.opaque(hex("010203"));
  CHECK(to_hex(w.bytes()) == "03010203");
  CHECK(decode<Bytes>(w.bytes()) == hex("010203"));
  CHECK(decode<Bytes>(hex("040102")).error() == Error::Truncated);
  CHECK(decode<Bytes>(hex("0301020304")).error() == Error::TrailingBytes);
  // A length above kMaxVectorSize is refused before anything is read.
  Writer big;
  big.varint(kMaxVectorSize + 1);
  CHECK(decode<Bytes>(big.bytes()).error() == Error::VectorTooLong);
  // kMaxVectorSize itself is accepted when the bytes are there.
  Bytes at_limit = encode_varint(kMaxVectorSize);
  at_limit.resize(at_limit.size() + kMaxVectorSize, 0x5a);
  auto ok = decode<Bytes>(at_limit);
  REQUIRE(ok);
  CHECK(ok->size() == kMaxVectorSize);
  // The maximum varint length with nothing behind it.
  CHECK(decode<Bytes>(hex("bfffffff")).error() == Error::VectorTooLong);
}

TEST_CASE("optional presence byte must be 0 or 1", "[mls][codec]") {
  const Bytes absent = hex("00");
  const Bytes present = hex("0107");
  const Bytes bad = hex("0207");
  Reader r0(absent);
  CHECK(!r0.optional<std::uint8_t>().has_value());
  CHECK(r0.finish());
  Reader r1(present);
  CHECK(r1.optional<std::uint8_t>() == std::uint8_t{7});
  CHECK(r1.finish());
  Reader r2(bad);
  CHECK(!r2.optional<std::uint8_t>().has_value());
  CHECK(r2.finish().error() == Error::InvalidValue);
}

TEST_CASE("a nested vector's error reaches the root and stops every loop", "[mls][codec]") {
  // A vector of uint16 whose body has an odd length: the second element is truncated.
  const Bytes in = hex("03000100");
  Reader r(in);
  const auto list = r.list<std::uint16_t>();
  CHECK(list.size() == 1);
  CHECK(!r.ok());
  CHECK(r.finish().error() == Error::Truncated);
  CHECK(r.u32() == 0);  // sticky: nothing more is read
}

TEST_CASE("struct round trip, truncation at every length, trailing byte", "[mls][codec]") {
  GroupContext gc;
  gc.group_id = hex("0011");
  gc.epoch = 7;
  gc.tree_hash = Bytes(32, 1);
  gc.confirmed_transcript_hash = Bytes(32, 2);
  gc.extensions = {Extension{0xff00, hex("abcd")}};
  const Bytes enc = encode(gc);
  CHECK(decode<GroupContext>(enc) == gc);
  for (std::size_t n = 0; n < enc.size(); ++n) {
    const auto r = decode<GroupContext>(BytesView(enc).first(n));
    REQUIRE(!r);
    CHECK(r.error() == Error::Truncated);
  }
  Bytes longer = enc;
  longer.push_back(0);
  CHECK(decode<GroupContext>(longer).error() == Error::TrailingBytes);
}

TEST_CASE("encoding a length above 2^30 - 1 is a bug and throws", "[mls][codec]") {
  Writer w;
  CHECK_THROWS_AS(w.varint(kMaxVarint + 1), std::length_error);
}
