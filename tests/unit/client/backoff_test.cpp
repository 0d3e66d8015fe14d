// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "client/core/backoff.h"

using namespace hearth;
using namespace hearth::client;

namespace {

// A deterministic Rng: a counter through a simple mixer, or a fixed byte.
class TestRng final : public Rng {
 public:
  explicit TestRng(std::uint64_t seed) : state_(seed) {}
  void fill(std::span<std::uint8_t> out) override {
    for (auto& b : out) {
      state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
      b = static_cast<std::uint8_t>(state_ >> 56);
    }
  }

 private:
  std::uint64_t state_;
};

class FixedRng final : public Rng {
 public:
  explicit FixedRng(std::uint8_t v) : v_(v) {}
  void fill(std::span<std::uint8_t> out) override { std::fill(out.begin(), out.end(), v_); }

 private:
  std::uint8_t v_;
};

}  // namespace

TEST_CASE("backoff: every delay is between half the ceiling and the ceiling, and the ceiling doubles up to the cap",
          "[client][backoff]") {
  TestRng rng(42);
  Backoff b;
  std::int64_t ceiling = kBackoffBaseMs;
  for (int i = 0; i < 40; ++i) {
    const auto d = b.next_delay_ms(rng);
    CHECK(d >= ceiling / 2);
    CHECK(d <= ceiling);
    CHECK(d <= kBackoffMaxMs);
    ceiling = std::min(kBackoffMaxMs, ceiling * 2);
  }
}

TEST_CASE("backoff: the extremes of the random draw hit both bounds", "[client][backoff]") {
  FixedRng zero(0x00);
  Backoff low;
  CHECK(low.next_delay_ms(zero) == kBackoffBaseMs / 2);
  for (int i = 0; i < 20; ++i) (void)low.next_delay_ms(zero);
  CHECK(low.next_delay_ms(zero) == kBackoffMaxMs / 2);

  FixedRng ones(0xff);
  Backoff high;
  for (int i = 0; i < 20; ++i) (void)high.next_delay_ms(ones);
  const auto d = high.next_delay_ms(ones);
  CHECK(d >= kBackoffMaxMs / 2);
  CHECK(d <= kBackoffMaxMs);
}

TEST_CASE("backoff: reset starts small again", "[client][backoff]") {
  TestRng rng(7);
  Backoff b;
  for (int i = 0; i < 10; ++i) (void)b.next_delay_ms(rng);
  CHECK(b.failures() > 0);
  b.reset();
  CHECK(b.failures() == 0);
  CHECK(b.next_delay_ms(rng) <= kBackoffBaseMs);
}

TEST_CASE("backoff: jitter spreads clients apart", "[client][backoff]") {
  std::set<std::int64_t> seen;
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    TestRng rng(seed);
    Backoff b;
    for (int i = 0; i < 5; ++i) (void)b.next_delay_ms(rng);
    seen.insert(b.next_delay_ms(rng));
  }
  CHECK(seen.size() > 25);
}
