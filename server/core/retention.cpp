// SPDX-License-Identifier: Apache-2.0
#include "server/core/retention.h"

#include <algorithm>
#include <limits>

namespace hearth::relay {

Seq min_member_cursor(const RoomState& room) {
  if (room.members.empty()) return room.head;
  Seq low{std::numeric_limits<std::uint64_t>::max()};
  for (const auto& [account, member] : room.members) low = std::min(low, effective_cursor(member, nullptr));
  return low;
}

std::uint64_t effective_lifetime_ms(std::uint64_t room_lifetime_ms, std::uint64_t relay_limit_ms) noexcept {
  if (room_lifetime_ms == 0) return relay_limit_ms;
  return std::min(room_lifetime_ms, relay_limit_ms);
}

RetentionPlan plan_retention(const RoomState& room, std::int64_t now_ms, std::uint64_t relay_limit_ms) {
  RetentionPlan plan;
  plan.all_through = min_member_cursor(room);
  const std::uint64_t lifetime = effective_lifetime_ms(room.lifetime_ms, relay_limit_ms);
  const auto max_lifetime = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  const auto life = static_cast<std::int64_t>(std::min(lifetime, max_lifetime));
  plan.application_before_ms = now_ms > std::numeric_limits<std::int64_t>::min() + life ? now_ms - life : 0;
  return plan;
}

bool is_history_gap(Seq cursor, Seq deleted_through) noexcept { return cursor < deleted_through; }

}  // namespace hearth::relay
