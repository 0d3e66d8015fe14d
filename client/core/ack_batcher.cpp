// SPDX-License-Identifier: Apache-2.0
#include "client/core/ack_batcher.h"

namespace hearth::client {

void AckBatcher::stored(const RoomId& room, Seq seq, std::int64_t now_ms) {
  auto& cur = cursors_[room];
  if (seq > cur) cur = seq;
  ++count_;
  if (!first_ms_) first_ms_ = now_ms;
}

bool AckBatcher::due(std::int64_t now_ms) const noexcept {
  if (count_ == 0) return false;
  return count_ >= kAckBatchSize || (first_ms_ && now_ms - *first_ms_ >= kAckDelayMs);
}

std::vector<wire::Cursor> AckBatcher::take() {
  std::vector<wire::Cursor> out;
  out.reserve(cursors_.size());
  for (auto& [room, seq] : cursors_) out.push_back(wire::Cursor{room, seq});
  cursors_.clear();
  count_ = 0;
  first_ms_.reset();
  return out;
}

}  // namespace hearth::client
