// SPDX-License-Identifier: Apache-2.0
#pragma once
// A deterministic Rng for tests (splitmix64): a failing run replays from its
// seed. Never for keys outside tests.

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/types/rng.h"

namespace hearth::test {

class SeededRng final : public Rng {
 public:
  explicit SeededRng(std::uint64_t seed) noexcept : state_(seed) {}

  void fill(std::span<std::uint8_t> out) override {
    std::size_t i = 0;
    while (i < out.size()) {
      std::uint64_t word = next();
      for (int b = 0; b < 8 && i < out.size(); ++b, ++i) {
        out[i] = static_cast<std::uint8_t>(word);
        word >>= 8;
      }
    }
  }
  std::uint64_t next() noexcept {
    state_ += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n) up to a modulo bias irrelevant for test sizes. Precondition: n > 0.
  std::size_t below(std::size_t n) noexcept { return static_cast<std::size_t>(next() % n); }
  /// True with probability percent / 100.
  bool chance(unsigned percent) noexcept { return below(100) < percent; }

 private:
  std::uint64_t state_;
};

}  // namespace hearth::test
