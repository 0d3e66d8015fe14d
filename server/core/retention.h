// SPDX-License-Identifier: Apache-2.0
#pragma once
// What retention may delete from a room, and whether a cursor fell into
// deleted history (DESIGN.md §6). Pure: the time is a parameter.
//
// - Application envelopes go once every current member's cursor has passed
//   them, or once they are older than the room's lifetime or the relay's
//   limit, whichever is shorter.
// - Handshake and Welcome envelopes go only once every current member's
//   cursor has passed them (without them a device can never catch up).

#include <cstdint>

#include "common/types/ids.h"
#include "server/core/room_state.h"

namespace hearth::relay {

struct RetentionPlan {
  /// Every envelope (any kind) with seq <= this may go.
  Seq all_through{0};
  /// Application envelopes received before this Unix time (ms) may go too.
  std::int64_t application_before_ms = 0;
};

/// The lowest cursor among the current members (each at least where it
/// joined); the room's head when it has no members.
[[nodiscard]] Seq min_member_cursor(const RoomState& room);

/// The shorter of the room's lifetime (0: none) and the relay's limit.
[[nodiscard]] std::uint64_t effective_lifetime_ms(std::uint64_t room_lifetime_ms, std::uint64_t relay_limit_ms) noexcept;

[[nodiscard]] RetentionPlan plan_retention(const RoomState& room, std::int64_t now_ms, std::uint64_t relay_limit_ms);

/// True when a device that has everything up to `cursor` would miss deleted
/// envelopes, i.e. retention deleted something after the cursor.
[[nodiscard]] bool is_history_gap(Seq cursor, Seq deleted_through) noexcept;

}  // namespace hearth::relay
