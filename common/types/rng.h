// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace hearth {

/// A source of random bytes, passed to code that must not draw randomness on
/// its own (common/mls, server/core). `crypto::SystemRng` is the real one;
/// tests use a seeded deterministic one.
class Rng {
 public:
  virtual ~Rng() = default;
  virtual void fill(std::span<std::uint8_t> out) = 0;
};

}  // namespace hearth
