// SPDX-License-Identifier: Apache-2.0
#pragma once
// A log-bucketed latency histogram in nanoseconds (HDR-like): exact below 64,
// then 64 sub-buckets per power of two, so any reported percentile is within
// 1/64 (1.6 %) of the true sample. Fixed size, O(1) record. Not thread-safe.

#include <array>
#include <cstdint>

namespace hearth::bench {

class LogHistogram {
 public:
  void record(std::int64_t ns) noexcept;
  void clear() noexcept;
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  /// The value at quantile q in [0, 1] (a bucket midpoint), 0 when empty.
  [[nodiscard]] std::int64_t quantile(double q) const noexcept;
  [[nodiscard]] std::int64_t max() const noexcept { return max_; }

 private:
  static constexpr int kSubBits = 6;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kMaxShift = 40;  // values up to 2^46 ns (~19 h)
  static constexpr std::size_t kBuckets = static_cast<std::size_t>(kSub) * (kMaxShift + 2);

  [[nodiscard]] static std::size_t index_of(std::uint64_t v) noexcept;
  [[nodiscard]] static std::int64_t value_of(std::size_t index) noexcept;

  std::array<std::uint64_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0;
  std::int64_t max_ = 0;
};

}  // namespace hearth::bench
