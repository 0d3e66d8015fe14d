// SPDX-License-Identifier: Apache-2.0
#pragma once
// Decides when to tell the relay how far the device has stored (Ack). The
// local cursor moves with every stored envelope; the relay's moves in
// batches: after kAckBatchSize stored envelopes, or kAckDelayMs after the
// first unacknowledged one, whichever comes first. Pure: time is a parameter.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "common/types/ids.h"
#include "common/wire/messages.h"

namespace hearth::client {

inline constexpr std::size_t kAckBatchSize = 64;
inline constexpr std::int64_t kAckDelayMs = 500;

class AckBatcher {
 public:
  /// Records that `seq` of `room` is stored locally at time `now_ms`.
  void stored(const RoomId& room, Seq seq, std::int64_t now_ms);
  /// True when an Ack should go out now.
  [[nodiscard]] bool due(std::int64_t now_ms) const noexcept;
  /// Takes the cursors to acknowledge (highest seq per room) and clears them.
  [[nodiscard]] std::vector<wire::Cursor> take();
  /// Unacknowledged envelopes counted since the last take().
  [[nodiscard]] std::size_t pending() const noexcept { return count_; }

 private:
  std::map<RoomId, Seq> cursors_;
  std::size_t count_ = 0;
  std::optional<std::int64_t> first_ms_;
};

}  // namespace hearth::client
