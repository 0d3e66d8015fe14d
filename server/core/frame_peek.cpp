// SPDX-License-Identifier: Apache-2.0
#include "server/core/frame_peek.h"

namespace hearth::relay {

std::optional<std::uint64_t> peek_request_id(BytesView body) noexcept {
  constexpr std::uint8_t kRequestIdTag = 0x08;  // field 1, wire type 0 (varint)
  constexpr std::size_t kMaxVarintBytes = 10;
  if (body.empty() || body[0] != kRequestIdTag) return std::nullopt;
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < kMaxVarintBytes && 1 + i < body.size(); ++i) {
    const std::uint8_t b = body[1 + i];
    value |= std::uint64_t{b & 0x7fu} << (7 * i);
    if ((b & 0x80u) == 0) return value;
  }
  return std::nullopt;
}

}  // namespace hearth::relay
