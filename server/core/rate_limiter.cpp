// SPDX-License-Identifier: Apache-2.0
#include "server/core/rate_limiter.h"

#include <algorithm>

namespace hearth::relay {

TokenBucket::TokenBucket(Rate rate, std::uint32_t burst, std::int64_t now_ms) noexcept
    : scale_(std::max<std::uint32_t>(rate.period_ms, 1)),
      per_ms_(rate.tokens),
      capacity_(std::uint64_t{burst} * scale_),
      level_(capacity_),
      last_ms_(now_ms) {}

void TokenBucket::refill(std::int64_t now_ms) noexcept {
  if (now_ms <= last_ms_) return;  // a clock that steps back adds nothing
  const auto elapsed = static_cast<std::uint64_t>(now_ms - last_ms_);
  const std::uint64_t room = capacity_ - level_;
  std::uint64_t add = 0;
  if (per_ms_ != 0) {
    // Compare before multiplying so a long pause cannot overflow.
    add = elapsed > room / per_ms_ ? room : std::min(room, elapsed * per_ms_);
  }
  level_ += add;
  last_ms_ = now_ms;
}

bool TokenBucket::try_take(std::int64_t now_ms, std::uint32_t cost) noexcept {
  refill(now_ms);
  const std::uint64_t need = std::uint64_t{cost} * scale_;
  if (level_ < need) return false;
  level_ -= need;
  return true;
}

std::uint64_t TokenBucket::available(std::int64_t now_ms) noexcept {
  refill(now_ms);
  return level_ / scale_;
}

}  // namespace hearth::relay
