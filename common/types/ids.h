// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "common/types/bytes.h"

namespace hearth {

/// A strong id over opaque bytes. `Tag` makes each kind its own type, so a
/// RoomId can never be passed where an AccountId is expected.
template <class Tag>
struct BytesId {
  Bytes v;
  /// Lexicographic by bytes, then by length. A byte loop rather than
  /// std::vector's <=>: GCC 12 at -O2 turns that into a memcmp it cannot bound
  /// and fails -Werror builds with a false -Wstringop-overread.
  friend std::strong_ordering operator<=>(const BytesId& a, const BytesId& b) noexcept {
    const std::size_t n = a.v.size() < b.v.size() ? a.v.size() : b.v.size();
    for (std::size_t i = 0; i < n; ++i) {
      if (a.v[i] != b.v[i]) return a.v[i] <=> b.v[i];
    }
    return a.v.size() <=> b.v.size();
  }
  friend bool operator==(const BytesId&, const BytesId&) = default;
  [[nodiscard]] std::string hex() const { return to_hex(v); }
  [[nodiscard]] bool empty() const noexcept { return v.empty(); }
};

struct AccountIdTag {};
struct RoomIdTag {};
struct EnvelopeIdTag {};

using AccountId = BytesId<AccountIdTag>;    // relay-assigned, 16 random bytes
using RoomId = BytesId<RoomIdTag>;          // the MLS group id, 16..255 bytes
using EnvelopeId = BytesId<EnvelopeIdTag>;  // client-generated, 16 bytes

/// A room's sequence number: 1 for the first envelope, then +1.
struct Seq {
  std::uint64_t v = 0;
  friend auto operator<=>(const Seq&, const Seq&) = default;
};

/// The room epoch a membership change builds on.
struct Epoch {
  std::uint64_t v = 0;
  friend auto operator<=>(const Epoch&, const Epoch&) = default;
};

struct BytesIdHash {
  template <class Tag>
  std::size_t operator()(const BytesId<Tag>& id) const noexcept {
    std::size_t h = 1469598103934665603ULL;
    for (auto b : id.v) h = (h ^ b) * 1099511628211ULL;
    return h;
  }
};

}  // namespace hearth
