// SPDX-License-Identifier: Apache-2.0
#pragma once
// What a delivered envelope does to a room's MLS group (room_group.h), as a
// pure function the engine runs on every envelope of someone else's:
//
//   Welcome      -> join with one of our KeyPackages: the room's first
//                   group, or a newer one when we were re-added; RoomJoined
//   Handshake    -> apply the commit: RosterChanged (as our own state
//                   derives it), RoomLeft when it removed us; or cache a
//                   member's leave proposal: LeaveRequested
//   Application  -> decrypt and decode: MessageReceived with the Content
//                   and the sender MLS authenticated, or DecryptionFailed
//
// Nothing here is silent: an envelope the group cannot take is an event with
// a reason, and the envelope is still stored so the cursor moves past it
// and the failure stays visible in the history. Our own envelopes coming
// back are the engine's (it holds what it sent).

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
  /// is none (not joined yet, or the commit removed us).
  std::optional<RoomGroup> group;
  /// Stored with the envelope in one transaction.
  DeliveryWrite write;
  std::vector<Event> events;
  /// The KeyPackage a Welcome used: its private keys go (unless last resort).
  std::optional<Bytes> used_key_package;
  /// A commit removed us: the room's keys go.
  bool removed = false;
  /// A member asked to leave (its proposal is cached in `group`).
  std::optional<AccountId> leave_from;
  /// Our own commit, adopted from its echo (the engine sets it).
  bool own_commit = false;
  /// A commit for our epoch that the relay accepted and we cannot apply:
  /// the engine reports it to the room (ReportChange).
  std::optional<wire::ChangeProblem> rejected;
  /// Members whose identity keys this envelope showed us first (a Welcome's
  /// whole room, a commit's joiners), to check against our pins.
  std::vector<std::pair<AccountId, Bytes>> seen_keys;
};

/// `group` is the room's group before the envelope (nullopt before we have
/// joined). `now_s` is Unix seconds.
[[nodiscard]] GroupEffects process_group(std::optional<RoomGroup> group, const wire::Deliver& d, const GroupSelf& self,
                                         std::uint64_t now_s);

}  // namespace hearth::client
