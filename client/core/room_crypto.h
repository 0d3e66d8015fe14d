// SPDX-License-Identifier: Apache-2.0
#pragma once
// What a delivered envelope does to a room's MLS group (room_group.h), as a
// pure function beside apply_delivery (room_state.h), which keeps the room
// record:
//
//   Welcome      -> join with one of our KeyPackages: the room's first group
//   Handshake    -> apply the commit (ours coming back changes nothing)
//   Application  -> decrypt: MessageReceived with the plaintext and the
//                   sender MLS authenticated, or DecryptionFailed with why
//
// Nothing here is silent: an envelope the group cannot take is an event with
// a reason, and the envelope is still stored (as received) so the cursor
// moves past it and the failure stays visible in the history.

#include <optional>
#include <vector>

#include "client/core/events.h"
#include "client/core/local_store.h"
#include "client/core/room_group.h"

namespace hearth::client {

/// Who we are, for joining and for recognising our own envelopes.
struct GroupSelf {
  const AccountId& account;
  const crypto::SigningKey& identity;
  const std::vector<StoredKeyPackage>& key_packages;
};

struct GroupEffects {
  /// The room's group afterwards: the one passed in (advanced in place by a
  /// decryption), a new one (a commit or a Welcome), or nullopt when there
  /// is none.
  std::optional<RoomGroup> group;
  /// Stored with the envelope in one transaction.
  DeliveryWrite write;
  std::vector<Event> events;
  /// The KeyPackage a Welcome used: its private keys go (unless last resort).
  std::optional<Bytes> used_key_package;
};

/// `group` is the room's group before the envelope (nullopt before we have
/// joined). `now_s` is Unix seconds.
[[nodiscard]] GroupEffects process_group(std::optional<RoomGroup> group, const wire::Deliver& d, const GroupSelf& self,
                                         std::uint64_t now_s);

}  // namespace hearth::client
