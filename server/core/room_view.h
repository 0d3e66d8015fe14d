// SPDX-License-Identifier: Apache-2.0
#pragma once
// The relay as MLS Delivery Service (DESIGN.md §4): each room's public view
// of its group (common/mls PublicGroup: tree, credentials, signature keys,
// roles; no secrets), opened from the creator's signed GroupInfo and moved
// forward by accepted commits only. From it the relay knows which leaf is
// which account, checks each commit's signature against the logged-in
// submitter's identity key, applies the same role policy as the clients,
// derives the roster change, and learns whom each Welcome is for.
//
// Pure functions: the caller owns the view and replaces it with the planned
// one once the bundle is stored. A refusal leaves it untouched.

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "common/mls/public_group.h"
#include "server/core/room_state.h"

namespace hearth::relay {

/// Largest GroupInfo or commit the relay parses (a 1,000-member tree with
/// its keys and credentials is about 200 KiB).
inline constexpr std::size_t kMaxGroupInfoSize = 512 * 1024;
inline constexpr std::size_t kMaxCommitSize = 256 * 1024;
/// Largest standalone proposal (a self-removal is under 200 bytes).
inline constexpr std::size_t kMaxProposalSize = 4 * 1024;
/// Largest application message (an MLSMessage PrivateMessage) the relay
/// takes: well below the default frame limit, far above a padded chat text.
inline constexpr std::size_t kMaxApplicationMessageSize = 256 * 1024;

/// The identity key the relay's directory holds for an account (nullopt:
/// no such account).
using IdentityLookup = std::function<std::optional<Bytes>(const AccountId&)>;

/// Opens a new room's view from the creator's GroupInfo (MLSMessage bytes
/// with the ratchet_tree extension): signed by its only member, for group id
/// `room` at epoch 0, that member the creator (its credential naming the
/// account, its signature key the creator's identity key) and named a
/// facilitator. InvalidArgument otherwise, with the reason.
[[nodiscard]] Result<mls::PublicGroup, Rejection> open_room_view(const RoomId& room, BytesView group_info,
                                                                 const AccountId& creator, BytesView creator_key,
                                                                 std::uint64_t now_s);

/// open_room_view without the room: the group id is the GroupInfo's own.
[[nodiscard]] Result<mls::PublicGroup, Rejection> open_group_view(BytesView group_info, const AccountId& creator,
                                                                  BytesView creator_key, std::uint64_t now_s);

/// Most bytes the Welcomes of one bundle may come to once shared copies are
/// spelled out (a 1,000-member room's Welcome is some 250 KiB, sent once).
inline constexpr std::size_t kMaxWelcomeBytes = 32u << 20;

/// A bundle names each joiner's Welcome; one commit's joiners share one
/// Welcome, so a Welcome with empty data is the one before it again (the
/// frame carries it once). Fills those in; InvalidArgument when the first
/// is empty or the total would pass kMaxWelcomeBytes.
[[nodiscard]] Result<void, Rejection> share_welcomes(std::vector<wire::WelcomeFor>& welcomes);

/// A commit the relay will accept, and what it does.
struct CommitPlan {
  mls::PublicGroup next;
  std::vector<wire::RosterChange> roster;  // adds (with their role), removes, role changes
  /// Each added account and the KeyPackageRef its Welcome must carry.
  std::vector<std::pair<AccountId, mls::Digest>> joiners;
};

/// Checks a bundle's handshake (MLSMessage PublicMessage commit) against the
/// view: for this group and its current epoch (EpochConflict: another
/// commit won, or a reset replaced the group), sent from the submitter's own leaf with a valid
/// signature (InvalidArgument: "another member's leaf" / bad signature),
/// within the role policy (NotFacilitator), valid per RFC 9420 (InvalidArgument
/// naming the MLS error); every added member an existing account
/// (UnknownAccount) whose leaf carries the account's identity key and
/// credential (InvalidArgument). Each Welcome must be an MLSMessage Welcome
/// whose KeyPackageRefs are exactly those of the joiners its account has
/// (InvalidArgument); `welcomes` pairs each with the account it is for.
[[nodiscard]] Result<CommitPlan, Rejection> plan_commit(const mls::PublicGroup& view, BytesView handshake,
                                                        const AccountId& submitter,
                                                        const std::vector<wire::WelcomeFor>& welcomes,
                                                        const IdentityLookup& identity_of, std::uint64_t now_s);

/// A reset (ResetRoom): the new group opened from `group_info` as a new
/// room's would be (open_group_view: the submitter alone, a facilitator, at
/// epoch 0), with a group id that is neither `current_group` nor `room`
/// (InvalidArgument), then its first commit planned on it (plan_commit: the
/// adds, their Welcomes, the role policy). Whether its members are the
/// room's is the caller's check (room_state.h plan_reset_state).
[[nodiscard]] Result<CommitPlan, Rejection> plan_reset(const RoomId& room, BytesView current_group,
                                                       BytesView group_info, BytesView handshake,
                                                       const AccountId& submitter,
                                                       const std::vector<wire::WelcomeFor>& welcomes,
                                                       const IdentityLookup& identity_of, std::uint64_t now_s);

/// What a handshake envelope claims to be, from its outer header only.
enum class HandshakeKind { Commit, Proposal, Other };
[[nodiscard]] HandshakeKind handshake_kind(BytesView handshake);

/// A standalone proposal the relay accepts and fans out without moving the
/// epoch: a member leaving, i.e. an MLSMessage PublicMessage Remove of the
/// sender's own leaf, from the submitter's leaf (InvalidArgument otherwise,
/// also for any other proposal type), for this group and its current epoch
/// (StaleEpoch), validly signed (InvalidArgument), not from
/// the room's last facilitator (LastFacilitator). Returns the
/// view with the proposal cached: a later commit from any member may include
/// it by reference, and the role policy allows that (a member's own removal
/// needs no facilitator). The cache empties when the epoch moves.
[[nodiscard]] Result<mls::PublicGroup, Rejection> plan_proposal(const mls::PublicGroup& view, BytesView handshake,
                                                                const AccountId& submitter,
                                                                const IdentityLookup& identity_of,
                                                                std::uint64_t now_s);

/// The outer header of an application envelope (RFC 9420 §6.3.1; nothing is
/// decrypted): at most kMaxApplicationMessageSize bytes, an MLSMessage
/// PrivateMessage with content type application, whose MLS epoch is the one
/// the envelope states (InvalidArgument otherwise), of the room's current
/// group `group` (StaleEpoch otherwise: after a reset, a message of the old
/// group is encrypted again by its sender for the new one). Returns the MLS
/// epoch; the caller checks it is current (StaleEpoch).
[[nodiscard]] Result<Epoch, Rejection> check_application_message(BytesView group, Epoch stated, BytesView payload);

}  // namespace hearth::relay
