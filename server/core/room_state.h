// SPDX-License-Identifier: Apache-2.0
#pragma once
// A room as the relay's rules see it, and the pure transitions on it: who may
// send, which membership bundles are valid, and which sequence numbers a
// bundle's envelopes get. No I/O, no clock: the caller owns the state and
// passes in what the rules need to know about the outside (which accounts
// exist). A failed check leaves the state untouched.
//
//   SubmitBundle ──plan_commit(view, ...) (room_view.h)──> CommitPlan{derived roster}
//                ──plan_bundle(state, submitter, epoch, roster, welcomed)──> BundleTransition
//                                                  │ next state, handshake seq S,
//                                                  │ Welcome seqs S+1.., added, removed
//                 caller stores it, then replaces the state with `next`

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/types/ids.h"
#include "common/types/result.h"
#include "common/wire/messages.h"

namespace hearth::relay {

struct MemberState {
  wire::Role role = wire::Role::Member;
  /// The first sequence number this member receives: 1 for the creator, the
  /// handshake that added it for everyone else.
  Seq joined_from{1};
  /// The last sequence number the member acknowledged (0: nothing yet).
  Seq cursor{0};
};

struct RoomState {
  RoomId id;
  std::int64_t row = 0;           // the relay's internal number for the room
  Epoch epoch{0};
  Seq head{0};                    // highest sequence number given out
  std::uint64_t lifetime_ms = 0;  // 0: the relay's limit
  Seq deleted_through{0};         // highest sequence number retention deleted
  std::map<AccountId, MemberState> members;
};

/// A refused request: the code the client gets and a short reason (names no
/// ids, handles or content).
struct Rejection {
  wire::ErrorCode code = wire::ErrorCode::InvalidArgument;
  std::string reason;
};

/// The room a creator starts: the creator is its only member, a facilitator.
[[nodiscard]] RoomState new_room(RoomId id, std::int64_t row, const AccountId& creator, std::uint64_t lifetime_ms);

/// Whether `account` is a member (NotMember otherwise).
[[nodiscard]] Result<const MemberState*, Rejection> require_member(const RoomState& room, const AccountId& account);

/// An application envelope (or a standalone proposal, which moves nothing
/// else either) from `sender` built for `epoch`: NotMember, StaleEpoch. On
/// success, the sequence number it gets.
[[nodiscard]] Result<Seq, Rejection> plan_send(const RoomState& room, const AccountId& sender, Epoch epoch);

struct BundleTransition {
  RoomState next;
  Seq handshake_seq;
  std::vector<Seq> welcome_seqs;  // in the order of SubmitBundle::welcomes
  std::vector<AccountId> added;
  std::vector<AccountId> removed;
};

/// Sequences an accepted commit (room_view.h plan_commit has checked it and
/// derived `roster` from it; the role policy was MLS's) and computes the
/// room after it. `epoch` is the commit's; `welcomed` lists, in bundle
/// order, the account each Welcome is for. Errors: NotMember (submitter),
/// EpochConflict, InvalidArgument (adding a member, removing or re-roling a
/// non-member, touching one account twice, a Welcome for an account not
/// being added), LastFacilitator, QuotaExceeded (room full): the mirror of
/// the MLS roster must stay consistent even if the view and the mirror ever
/// disagreed.
[[nodiscard]] Result<BundleTransition, Rejection> plan_bundle(const RoomState& room, const AccountId& submitter,
                                                              Epoch epoch,
                                                              const std::vector<wire::RosterChange>& roster,
                                                              const std::vector<AccountId>& welcomed);

struct ResetTransition {
  RoomState next;
  Seq reset_seq;                  // the Reset envelope
  std::vector<Seq> welcome_seqs;  // in the order of ResetRoom::welcomes
};

/// Sequences a reset whose new group (room_view.h plan_reset) adds
/// `roster` (each with its role in the new group) to the submitter at
/// `epoch`: the submitter a facilitator of the room (NotMember,
/// NotFacilitator), the new group's members exactly the room's
/// (InvalidArgument), one Welcome per added account (InvalidArgument). The
/// members keep their cursors and where they joined; roles become the new
/// group's.
[[nodiscard]] Result<ResetTransition, Rejection> plan_reset_state(const RoomState& room, const AccountId& submitter,
                                                                  Epoch epoch,
                                                                  const std::vector<wire::RosterChange>& roster,
                                                                  const std::vector<AccountId>& welcomed);

/// Whether `account` may change what the relay keeps of the room (its
/// lifetime, closing it): NotMember, NotFacilitator.
[[nodiscard]] Result<void, Rejection> require_facilitator(const RoomState& room, const AccountId& account,
                                                          const char* change);

/// Moves a member's stored cursor forward (never back, never past head).
/// Returns whether it changed.
bool advance_cursor(RoomState& room, const AccountId& account, Seq seq);

/// The envelope a member's delivery starts after, given the cursor it sent (if any).
[[nodiscard]] Seq effective_cursor(const MemberState& member, const Seq* requested);

/// A handle is 1..kMaxHandleChars bytes of printable ASCII or UTF-8 (no
/// control characters, no leading or trailing space).
[[nodiscard]] bool valid_handle(std::string_view handle);

}  // namespace hearth::relay
