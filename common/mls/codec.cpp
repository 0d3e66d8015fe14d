// SPDX-License-Identifier: Apache-2.0
#include "common/mls/codec.h"

#include <stdexcept>

namespace hearth::mls {

void Writer::varint(std::uint64_t v) {
  // Encoding a length MLS cannot express is a bug in the caller (values
  // from peers are bounded by kMaxVectorSize on the way in).
  if (v > kMaxVarint) throw std::length_error("mls varint above 2^30 - 1");
  if (v < (1u << 6)) {
    u8(static_cast<std::uint8_t>(v));
  } else if (v < (1u << 14)) {
    u16(static_cast<std::uint16_t>(0x4000u | v));
  } else {
    u32(static_cast<std::uint32_t>(0x80000000u | (v & kMaxVarint)));
  }
}

void Writer::opaque(BytesView v) {
  varint(v.size());
  raw(v);
}

void Reader::set_error(Error e) noexcept {
  if (!slot()) slot() = e;
  pos_ = in_.size();
}

BytesView Reader::raw(std::size_t n) noexcept {
  if (!ok()) return {};
  if (n > remaining()) {
    set_error(Error::Truncated);
    return {};
  }
  const BytesView out = in_.subspan(pos_, n);
  pos_ += n;
  return out;
}

std::uint8_t Reader::u8() noexcept {
  const BytesView b = raw(1);
  return b.empty() ? 0 : b[0];
}

std::uint16_t Reader::u16() noexcept {
  const BytesView b = raw(2);
  if (b.empty()) return 0;
  return static_cast<std::uint16_t>((b[0] << 8) | b[1]);
}

std::uint32_t Reader::u32() noexcept {
  const BytesView b = raw(4);
  return b.empty() ? 0 : get_u32(b);
}

std::uint64_t Reader::u64() noexcept {
  const BytesView b = raw(8);
  return b.empty() ? 0 : get_u64(b);
}

std::uint64_t Reader::varint() noexcept {
  if (!ok()) return 0;
  if (remaining() == 0) {
    set_error(Error::Truncated);
    return 0;
  }
  const std::uint8_t prefix = static_cast<std::uint8_t>(in_[pos_] >> 6);
  // RFC 9420 §2.1.2: 0b11 is reserved, and the shortest encoding is required.
  switch (prefix) {
    case 0: return u8();
    case 1: {
      const std::uint64_t v = u16() & 0x3fffu;
      if (ok() && v < (1u << 6)) set_error(Error::InvalidVarint);
      return v;
    }
    case 2: {
      const std::uint64_t v = u32() & 0x3fffffffu;
      if (ok() && v < (1u << 14)) set_error(Error::InvalidVarint);
      return v;
    }
    default: set_error(Error::InvalidVarint); return 0;
  }
}

BytesView Reader::opaque() noexcept {
  const std::uint64_t n = varint();
  if (!ok()) return {};
  if (n > kMaxVectorSize) {
    set_error(Error::VectorTooLong);
    return {};
  }
  return raw(static_cast<std::size_t>(n));
}

Reader Reader::vector() noexcept {
  Reader sub(opaque());
  sub.sink_ = &slot();
  return sub;
}

bool Reader::presence() noexcept {
  const std::uint8_t flag = u8();
  if (flag > 1) set_error(Error::InvalidValue);
  return ok() && flag == 1;
}

MlsResult<void> Reader::finish() const {
  if (const auto e = slot()) return fail(*e);
  if (pos_ != in_.size()) return fail(Error::TrailingBytes);
  return {};
}

Bytes encode_varint(std::uint64_t v) {
  Writer w;
  w.varint(v);
  return w.take();
}

MlsResult<std::uint64_t> decode_varint(BytesView in) {
  Reader r(in);
  const std::uint64_t v = r.varint();
  if (auto done = r.finish(); !done) return fail(done.error());
  return v;
}

}  // namespace hearth::mls
