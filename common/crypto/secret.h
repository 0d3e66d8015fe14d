// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/types/bytes.h"

namespace hearth::crypto {

/// Overwrites memory so the compiler cannot elide it (sodium_memzero).
void wipe(void* p, std::size_t n) noexcept;
/// Constant-time equality; false when the sizes differ (sizes are public).
[[nodiscard]] bool equal_ct(BytesView a, BytesView b) noexcept;

/// A fixed-size secret: move-only, wiped on destruction and when moved from.
template <std::size_t N>
class Secret {
 public:
  static constexpr std::size_t kSize = N;
  Secret() noexcept { bytes_.fill(0); }
  explicit Secret(BytesView src) noexcept {
    bytes_.fill(0);
    for (std::size_t i = 0; i < N && i < src.size(); ++i) bytes_[i] = src[i];
  }
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&& o) noexcept : bytes_(o.bytes_) { wipe(o.bytes_.data(), N); }
  Secret& operator=(Secret&& o) noexcept {
    if (this != &o) {
      bytes_ = o.bytes_;
      wipe(o.bytes_.data(), N);
    }
    return *this;
  }
  ~Secret() { wipe(bytes_.data(), N); }

  /// An explicit copy, so every duplication of a secret is visible in review.
  [[nodiscard]] Secret clone() const noexcept { return Secret(view()); }
  [[nodiscard]] BytesView view() const noexcept { return {bytes_.data(), N}; }
  [[nodiscard]] std::span<std::uint8_t> mut() noexcept { return {bytes_.data(), N}; }
  [[nodiscard]] const std::uint8_t* data() const noexcept { return bytes_.data(); }
  [[nodiscard]] static constexpr std::size_t size() noexcept { return N; }

 private:
  std::array<std::uint8_t, N> bytes_;
};

/// A variable-size secret (MLS secrets whose size follows the suite, HPKE
/// shared secrets, exporter outputs): move-only, wiped like Secret.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(BytesView src) : bytes_(src.begin(), src.end()) {}
  explicit SecretBytes(std::size_t n) : bytes_(n, 0) {}
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& o) noexcept : bytes_(std::move(o.bytes_)) { o.bytes_.clear(); }
  SecretBytes& operator=(SecretBytes&& o) noexcept {
    if (this != &o) {
      clear();
      bytes_ = std::move(o.bytes_);
      o.bytes_.clear();
    }
    return *this;
  }
  ~SecretBytes() { clear(); }

  [[nodiscard]] SecretBytes clone() const { return SecretBytes(view()); }
  [[nodiscard]] BytesView view() const noexcept { return {bytes_.data(), bytes_.size()}; }
  [[nodiscard]] std::span<std::uint8_t> mut() noexcept { return {bytes_.data(), bytes_.size()}; }
  [[nodiscard]] std::size_t size() const noexcept { return bytes_.size(); }
  [[nodiscard]] bool empty() const noexcept { return bytes_.empty(); }
  void clear() noexcept {
    if (!bytes_.empty()) wipe(bytes_.data(), bytes_.size());
    bytes_.clear();
  }

 private:
  std::vector<std::uint8_t> bytes_;
};

}  // namespace hearth::crypto
