// SPDX-License-Identifier: Apache-2.0
#include "client/core/safety_number.h"

#include <algorithm>

#include "common/crypto/crypto.h"

namespace hearth::client {

namespace {

constexpr std::string_view kLabel = "hearth.v1.safety-number";
constexpr std::size_t kHalfDigits = kSafetyNumberDigits / 2;
constexpr std::size_t kChunkBytes = 5;  // 40 bits, reduced to 5 decimal digits
static_assert(kHalfDigits % kSafetyNumberGroup == 0);
static_assert((kHalfDigits / kSafetyNumberGroup) * kChunkBytes <= crypto::Digest{}.size());

}  // namespace

std::string safety_half(const AccountId& account, BytesView identity_key) {
  // h0 = SHA-256(label || len(key) || key || account); h(i+1) = SHA-256(h(i) || key).
  Bytes input(kLabel.begin(), kLabel.end());
  input.push_back(static_cast<std::uint8_t>(identity_key.size()));
  append(input, identity_key);
  append(input, account.v);
  crypto::Digest h = crypto::sha256(input);
  Bytes step;
  for (std::uint32_t i = 1; i < kSafetyNumberIterations; ++i) {
    step.assign(h.begin(), h.end());
    append(step, identity_key);
    h = crypto::sha256(step);
  }
  std::string digits;
  for (std::size_t chunk = 0; chunk < kHalfDigits / kSafetyNumberGroup; ++chunk) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < kChunkBytes; ++i) v = (v << 8) | h[chunk * kChunkBytes + i];
    std::string group = std::to_string(v % 100'000);
    digits += std::string(kSafetyNumberGroup - group.size(), '0') + group;
  }
  return digits;
}

std::string safety_number(const AccountId& a, BytesView key_a, const AccountId& b, BytesView key_b) {
  std::string first = safety_half(a, key_a);
  std::string second = safety_half(b, key_b);
  if (second < first) std::swap(first, second);
  const std::string all = first + second;
  std::string out;
  for (std::size_t i = 0; i < all.size(); i += kSafetyNumberGroup) {
    if (!out.empty()) out += ' ';
    out += all.substr(i, kSafetyNumberGroup);
  }
  return out;
}

}  // namespace hearth::client
