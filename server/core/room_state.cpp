// SPDX-License-Identifier: Apache-2.0
#include "server/core/room_state.h"

#include <algorithm>
#include <set>

#include "server/core/limits.h"

namespace hearth::relay {

using wire::ErrorCode;
using wire::Role;
using wire::RosterOp;

RoomState new_room(RoomId id, std::int64_t row, const AccountId& creator, std::uint64_t lifetime_ms) {
  RoomState r;
  r.id = std::move(id);
  r.row = row;
  r.lifetime_ms = lifetime_ms;
  r.members.emplace(creator, MemberState{Role::Facilitator, Seq{1}, Seq{0}});
  return r;
}

Result<const MemberState*, Rejection> require_member(const RoomState& room, const AccountId& account) {
  auto it = room.members.find(account);
  if (it == room.members.end()) return fail(Rejection{ErrorCode::NotMember, "not a member of the room"});
  return &it->second;
}

Result<Seq, Rejection> plan_send(const RoomState& room, const AccountId& sender, Epoch epoch) {
  auto member = require_member(room, sender);
  if (!member) return fail(member.error());
  if (epoch != room.epoch) return fail(Rejection{ErrorCode::StaleEpoch, "the room is at another epoch"});
  return Seq{room.head.v + 1};
}

namespace {

[[nodiscard]] bool has_facilitator(const RoomState& room) {
  return std::any_of(room.members.begin(), room.members.end(),
                     [](const auto& m) { return m.second.role == Role::Facilitator; });
}

}  // namespace

Result<BundleTransition, Rejection> plan_bundle(const RoomState& room, const AccountId& submitter, Epoch epoch,
                                                const std::vector<wire::RosterChange>& roster,
                                                const std::vector<AccountId>& welcomed) {
  auto self = require_member(room, submitter);
  if (!self) return fail(self.error());
  if (epoch != room.epoch)
    return fail(Rejection{ErrorCode::EpochConflict, "the bundle builds on an epoch that is not current"});

  BundleTransition t;
  t.next = room;
  t.handshake_seq = Seq{room.head.v + 1};
  std::set<AccountId> touched;
  for (const auto& change : roster) {
    if (!touched.insert(change.account).second)
      return fail(Rejection{ErrorCode::InvalidArgument, "one account changed twice in a bundle"});
    auto& members = t.next.members;
    switch (change.op) {
      case RosterOp::Add: {
        if (members.contains(change.account))
          return fail(Rejection{ErrorCode::InvalidArgument, "the added account is already a member"});
        if (members.size() >= kMaxRoomMembers) return fail(Rejection{ErrorCode::QuotaExceeded, "the room is full"});
        members.emplace(change.account, MemberState{change.role, t.handshake_seq, Seq{t.handshake_seq.v - 1}});
        t.added.push_back(change.account);
        break;
      }
      case RosterOp::Remove: {
        if (!members.contains(change.account))
          return fail(Rejection{ErrorCode::InvalidArgument, "the removed account is not a member"});
        members.erase(change.account);
        t.removed.push_back(change.account);
        break;
      }
      case RosterOp::SetRole: {
        auto it = members.find(change.account);
        if (it == members.end())
          return fail(Rejection{ErrorCode::InvalidArgument, "the account whose role changes is not a member"});
        it->second.role = change.role;
        break;
      }
    }
  }
  if (!has_facilitator(t.next))
    return fail(Rejection{ErrorCode::LastFacilitator, "the room must keep a facilitator"});

  std::set<AccountId> welcomes;
  std::uint64_t seq = t.handshake_seq.v;
  for (const auto& account : welcomed) {
    const bool being_added = std::find(t.added.begin(), t.added.end(), account) != t.added.end();
    if (!being_added || !welcomes.insert(account).second)
      return fail(Rejection{ErrorCode::InvalidArgument, "a Welcome must go to an account being added, once"});
    t.welcome_seqs.push_back(Seq{++seq});
  }
  t.next.head = Seq{seq};
  t.next.epoch = Epoch{room.epoch.v + 1};
  return t;
}

Result<void, Rejection> require_facilitator(const RoomState& room, const AccountId& account, const char* change) {
  auto member = require_member(room, account);
  if (!member) return fail(member.error());
  if ((*member)->role != Role::Facilitator) {
    return fail(Rejection{ErrorCode::NotFacilitator, std::string("only a facilitator ") + change});
  }
  return {};
}

Result<ResetTransition, Rejection> plan_reset_state(const RoomState& room, const AccountId& submitter, Epoch epoch,
                                                    const std::vector<wire::RosterChange>& roster,
                                                    const std::vector<AccountId>& welcomed) {
  if (auto may = require_facilitator(room, submitter, "resets a room"); !may) return fail(may.error());
  ResetTransition t;
  t.next = room;
  t.reset_seq = Seq{room.head.v + 1};
  for (auto& [account, m] : t.next.members) m.role = Role::Member;
  std::set<AccountId> in_new_group{submitter};
  for (const auto& change : roster) {
    auto it = t.next.members.find(change.account);
    if (change.op != RosterOp::Add || it == t.next.members.end() || !in_new_group.insert(change.account).second) {
      return fail(Rejection{ErrorCode::InvalidArgument, "a reset's new group has exactly the room's members"});
    }
    it->second.role = change.role;
  }
  if (in_new_group.size() != room.members.size()) {
    return fail(Rejection{ErrorCode::InvalidArgument, "a reset's new group has exactly the room's members"});
  }
  // The submitter created the new group as its facilitator (open_group_view).
  t.next.members.at(submitter).role = Role::Facilitator;
  std::set<AccountId> welcomes;
  std::uint64_t seq = t.reset_seq.v;
  for (const auto& account : welcomed) {
    if (account == submitter || !in_new_group.contains(account) || !welcomes.insert(account).second) {
      return fail(Rejection{ErrorCode::InvalidArgument, "a Welcome must go to each other member, once"});
    }
    t.welcome_seqs.push_back(Seq{++seq});
  }
  if (welcomes.size() + 1 != in_new_group.size()) {
    return fail(Rejection{ErrorCode::InvalidArgument, "a Welcome must go to each other member, once"});
  }
  t.next.head = Seq{seq};
  t.next.epoch = epoch;
  return t;
}

bool advance_cursor(RoomState& room, const AccountId& account, Seq seq) {
  auto it = room.members.find(account);
  if (it == room.members.end()) return false;
  const Seq bounded{std::min(seq.v, room.head.v)};
  if (bounded <= it->second.cursor) return false;
  it->second.cursor = bounded;
  return true;
}

Seq effective_cursor(const MemberState& member, const Seq* requested) {
  const Seq floor{member.joined_from.v - 1};
  const Seq from = requested != nullptr ? *requested : member.cursor;
  return std::max(from, floor);
}

bool valid_handle(std::string_view handle) {
  if (handle.empty() || handle.size() > kMaxHandleChars) return false;
  if (handle.front() == ' ' || handle.back() == ' ') return false;
  std::size_t i = 0;
  while (i < handle.size()) {
    const auto c = static_cast<unsigned char>(handle[i]);
    std::size_t extra = 0;
    if (c < 0x20 || c == 0x7f) return false;
    if (c < 0x80) {
      extra = 0;
    } else if ((c & 0xe0) == 0xc0 && c >= 0xc2) {
      extra = 1;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
    } else if ((c & 0xf8) == 0xf0 && c <= 0xf4) {
      extra = 3;
    } else {
      return false;
    }
    if (i + extra >= handle.size() && extra > 0) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(handle[i + k]) & 0xc0) != 0x80) return false;
    }
    // C1 control characters (U+0080..U+009F) are encoded as C2 80..C2 9F.
    if (c == 0xc2 && static_cast<unsigned char>(handle[i + 1]) < 0xa0) return false;
    i += extra + 1;
  }
  return true;
}

}  // namespace hearth::relay
