// SPDX-License-Identifier: Apache-2.0
#pragma once
// What a delivered envelope does to our view of its room, as a pure function:
// the room record afterwards and the events to emit once it is stored.
//
//   Application  -> MessageReceived
//   Handshake    -> epoch becomes d.epoch + 1; RosterChanged; and, when the
//                   change names us: RoomJoined (added), RoomLeft (removed),
//                   or our role changes (SetRole)
//   Welcome      -> stored only (the joiner learns of the room from the handshake)

#include <optional>
#include <vector>

#include "client/core/events.h"
#include "client/core/local_store.h"

namespace hearth::client {

struct DeliveryEffects {
  RoomRecord after;
  std::vector<Event> events;
};

/// `before` is the stored room, or nullopt when this is the first envelope
/// of a room we have just been added to. `self` is our account.
[[nodiscard]] DeliveryEffects apply_delivery(const std::optional<RoomRecord>& before, const wire::Deliver& d,
                                             const AccountId& self);

/// True when `d` is at or below what is already stored for its room.
[[nodiscard]] bool already_stored(const std::optional<RoomRecord>& before, const wire::Deliver& d) noexcept;

}  // namespace hearth::client
