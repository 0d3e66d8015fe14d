// SPDX-License-Identifier: Apache-2.0
#pragma once
// Reconnect delays: exponential from kBackoffBaseMs, capped at kBackoffMaxMs,
// with "equal jitter" (half fixed, half random) so many clients that lost the
// same relay do not come back in lock-step. Pure apart from the Rng it is given.

#include <cstdint>

#include "common/types/rng.h"

namespace hearth::client {

inline constexpr std::int64_t kBackoffBaseMs = 250;
inline constexpr std::int64_t kBackoffMaxMs = 30'000;

class Backoff {
 public:
  /// The delay before the next attempt, in [d/2, d] where d = min(max, base * 2^failures).
  [[nodiscard]] std::int64_t next_delay_ms(Rng& rng);
  /// Called once a connection got through login: the next failure starts small again.
  void reset() noexcept { failures_ = 0; }
  [[nodiscard]] std::uint32_t failures() const noexcept { return failures_; }

 private:
  std::uint32_t failures_ = 0;
};

}  // namespace hearth::client
