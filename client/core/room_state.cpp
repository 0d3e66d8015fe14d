// SPDX-License-Identifier: Apache-2.0
#include "client/core/room_state.h"

namespace hearth::client {

bool already_stored(const std::optional<RoomRecord>& before, const wire::Deliver& d) noexcept {
  return before && d.seq <= before->cursor;
}

DeliveryEffects apply_delivery(const std::optional<RoomRecord>& before, const wire::Deliver& d,
                               const AccountId& self) {
  DeliveryEffects fx;
  fx.after = before.value_or(RoomRecord{d.room, d.epoch, wire::Role::Member, RoomStatus::Active, Seq{}});
  if (fx.after.cursor < d.seq) fx.after.cursor = d.seq;
  switch (d.kind) {
    case wire::EnvelopeKind::Application:
      if (fx.after.epoch < d.epoch) fx.after.epoch = d.epoch;
      fx.events.emplace_back(MessageReceived{d.room, d.seq, d.sender, d.envelope_id, d.timestamp_ms, d.payload});
      break;
    case wire::EnvelopeKind::Handshake: {
      const Epoch next{d.epoch.v + 1};
      if (fx.after.epoch < next) fx.after.epoch = next;
      fx.events.emplace_back(RosterChanged{d.room, d.seq, d.sender, d.roster_changes});
      for (const auto& change : d.roster_changes) {
        if (change.account != self) continue;
        switch (change.op) {
          case wire::RosterOp::Add:
            fx.after.role = change.role;
            if (!before || before->status != RoomStatus::Active) {
              fx.after.status = RoomStatus::Active;
              fx.events.emplace_back(RoomJoined{d.room, change.role});
            }
            break;
          case wire::RosterOp::Remove:
            fx.after.status = RoomStatus::Left;
            fx.events.emplace_back(RoomLeft{d.room});
            break;
          case wire::RosterOp::SetRole: fx.after.role = change.role; break;
        }
      }
      break;
    }
    case wire::EnvelopeKind::Welcome: break;
  }
  return fx;
}

}  // namespace hearth::client
