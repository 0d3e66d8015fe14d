// SPDX-License-Identifier: Apache-2.0
#include "client/core/backoff.h"

#include <algorithm>
#include <array>

namespace hearth::client {

std::int64_t Backoff::next_delay_ms(Rng& rng) {
  // 2^7 * 250 ms already exceeds the cap; stop doubling there so the shift
  // can never overflow however long the relay stays away.
  constexpr std::uint32_t kMaxShift = 7;
  const auto shift = std::min(failures_, kMaxShift);
  const auto ceiling = std::min(kBackoffMaxMs, kBackoffBaseMs << shift);
  if (failures_ < kMaxShift + 1) ++failures_;
  std::array<std::uint8_t, 4> r{};
  rng.fill(r);
  const std::uint32_t random = (std::uint32_t{r[0]} << 24) | (std::uint32_t{r[1]} << 16) |
                               (std::uint32_t{r[2]} << 8) | std::uint32_t{r[3]};
  const auto half = ceiling / 2;
  return half + static_cast<std::int64_t>(random % static_cast<std::uint32_t>(ceiling - half + 1));
}

}  // namespace hearth::client
