// SPDX-License-Identifier: Apache-2.0
#include "bench/relay/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace hearth::bench {

std::size_t LogHistogram::index_of(std::uint64_t v) noexcept {
  if (v < static_cast<std::uint64_t>(kSub)) return static_cast<std::size_t>(v);
  const int msb = static_cast<int>(std::bit_width(v)) - 1;  // >= kSubBits
  const int shift = std::min(msb - kSubBits, kMaxShift);
  const std::uint64_t top = std::min<std::uint64_t>(v >> shift, 2 * kSub - 1);  // in [kSub, 2 kSub)
  return static_cast<std::size_t>(kSub) * static_cast<std::size_t>(shift + 1) +
         static_cast<std::size_t>(top - static_cast<std::uint64_t>(kSub));
}

std::int64_t LogHistogram::value_of(std::size_t index) noexcept {
  if (index < static_cast<std::size_t>(kSub)) return static_cast<std::int64_t>(index);
  const auto shift = static_cast<int>(index / static_cast<std::size_t>(kSub)) - 1;
  const auto top = static_cast<std::uint64_t>(index % static_cast<std::size_t>(kSub)) + static_cast<std::uint64_t>(kSub);
  const std::uint64_t low = top << shift;
  const std::uint64_t half = (std::uint64_t{1} << shift) / 2;
  return static_cast<std::int64_t>(low + half);
}

void LogHistogram::record(std::int64_t ns) noexcept {
  const auto v = static_cast<std::uint64_t>(std::max<std::int64_t>(ns, 0));
  ++buckets_[index_of(v)];
  ++count_;
  max_ = std::max(max_, static_cast<std::int64_t>(v));
}

void LogHistogram::clear() noexcept {
  buckets_.fill(0);
  count_ = 0;
  max_ = 0;
}

std::int64_t LogHistogram::quantile(double q) const noexcept {
  if (count_ == 0) return 0;
  const double clamped = std::clamp(q, 0.0, 1.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(clamped * static_cast<double>(count_)));
  rank = std::max<std::uint64_t>(rank, 1);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::min(value_of(i), max_);
  }
  return max_;
}

}  // namespace hearth::bench
