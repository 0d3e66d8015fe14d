// SPDX-License-Identifier: Apache-2.0
#pragma once
// A token bucket with integer arithmetic. Time is a parameter (any
// millisecond clock, as long as the caller is consistent), so the limiter is
// tested without a clock.

#include <cstdint>

namespace hearth::relay {

/// `tokens` arrive every `period_ms` (e.g. {60, 60'000} is one per second,
/// {5, 60'000} five per minute).
struct Rate {
  std::uint32_t tokens = 1;
  std::uint32_t period_ms = 1000;
};

class TokenBucket {
 public:
  /// At most `burst` tokens are kept. The bucket starts full at `now_ms`.
  TokenBucket(Rate rate, std::uint32_t burst, std::int64_t now_ms) noexcept;

  /// Takes `cost` tokens if there are enough; otherwise takes nothing.
  [[nodiscard]] bool try_take(std::int64_t now_ms, std::uint32_t cost = 1) noexcept;
  /// Whole tokens available at `now_ms`.
  [[nodiscard]] std::uint64_t available(std::int64_t now_ms) noexcept;

 private:
  void refill(std::int64_t now_ms) noexcept;

  // Tokens are counted in units of 1/period_ms, so `tokens` units arrive per ms.
  std::uint64_t scale_;
  std::uint64_t per_ms_;
  std::uint64_t capacity_;
  std::uint64_t level_;
  std::int64_t last_ms_;
};

}  // namespace hearth::relay
