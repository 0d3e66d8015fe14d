// SPDX-License-Identifier: Apache-2.0
#pragma once
// A room's MLS group as one member holds it (DESIGN.md §3-5): the MLS group
// state (common/mls) with Hearth's identities on top. Every member is an
// account: its leaf carries a Basic credential naming the account id, its
// signature key is the account's identity key, and facilitators are listed
// by account id in the roles extension. What travels in envelopes comes out
// of here as bytes: MLSMessage-encoded commits (PublicMessage), Welcomes,
// GroupInfo, and application messages (PrivateMessage padded to a multiple
// of kPaddingBlock, content.h).
//
// A value: operations that change the group return the next RoomGroup and
// leave this one as it was, except encrypt()/decrypt(), which advance the
// message ratchets in place (the caller saves the state before the
// ciphertext leaves, and with the plaintext after it arrived).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/core/content.h"
#include "client/core/local_store.h"
#include "common/mls/group_state.h"
#include "common/wire/messages.h"

namespace hearth::client {


struct RoomMember {
  AccountId account;
  mls::LeafIndex leaf;
  Bytes identity_key;
  bool facilitator = false;
  friend bool operator==(const RoomMember&, const RoomMember&) = default;
};

/// A change to send as one bundle (SubmitBundle): the commit, the Welcome
/// for each added account, the roster change the commit makes, and the
/// state to adopt once the relay accepted it.
struct RoomCommit;

/// An application message opened.
struct RoomMessage {
  AccountId sender;
  std::uint64_t epoch = 0;
  Bytes content;  // hearth.v1.Content bytes
};

/// What a commit from someone else did.
struct RoomChange;

class RoomGroup {
 public:
  /// A new group with us as its only member, at epoch 0, for a new room
  /// (group id = room id) or a room's reset (a new group id). We are its
  /// facilitator, and so are `also_facilitators` once a commit adds them.
  [[nodiscard]] static mls::MlsResult<RoomGroup> create(const RoomId& group_id, const AccountId& self,
                                                        const crypto::SigningKey& identity, std::uint64_t now_s,
                                                        Rng& rng, const std::vector<AccountId>& also_facilitators = {});
  /// Joins from a Welcome (MLSMessage bytes) made for one of our KeyPackages.
  /// Returns the group and the ref of the KeyPackage it used (so the caller
  /// deletes its private keys). InvalidWelcome when it is for none of ours;
  /// the Welcome's checks otherwise; ForeignIdentity when our leaf in it is
  /// not ours.
  struct Joined;
  [[nodiscard]] static mls::MlsResult<Joined> join(BytesView welcome, const AccountId& self,
                                                   const crypto::SigningKey& identity,
                                                   const std::vector<StoredKeyPackage>& ours, std::uint64_t now_s);

  /// A group save() wrote (the local store keeps it sealed), for our identity.
  [[nodiscard]] static mls::MlsResult<RoomGroup> load(BytesView saved, const crypto::SigningKey& identity);
  /// Everything needed to go on after a restart, secrets included.
  [[nodiscard]] Bytes save() const { return state_.serialize(); }

  RoomGroup(RoomGroup&&) noexcept = default;
  RoomGroup& operator=(RoomGroup&&) noexcept = default;
  [[nodiscard]] RoomGroup clone() const;

  /// The MLS group id: the room id, until a reset gives the room a new group.
  [[nodiscard]] RoomId group_id() const;
  /// The member on the first leaf: a new group's creator (for a reset's
  /// group, the facilitator who reset the room).
  [[nodiscard]] std::optional<RoomMember> first_member() const;
  /// The epoch a ciphertext of ours (an MLSMessage PrivateMessage) was
  /// encrypted for, when it is of this group; nullopt for another group's
  /// (the room was reset since) or what does not parse.
  [[nodiscard]] std::optional<std::uint64_t> epoch_of(BytesView ciphertext) const;
  [[nodiscard]] std::uint64_t epoch() const noexcept { return state_.epoch(); }
  [[nodiscard]] bool removed() const noexcept { return state_.is_removed(); }
  [[nodiscard]] std::vector<RoomMember> members() const;
  [[nodiscard]] std::optional<RoomMember> member(const AccountId& account) const;
  [[nodiscard]] bool is_facilitator(const AccountId& account) const;
  /// The signed GroupInfo with the ratchet tree (MLSMessage bytes), for the
  /// relay's public view of the room.
  [[nodiscard]] Bytes group_info() const;
  /// The per-epoch safety code: everyone in the room on this epoch sees the
  /// same 20 digits (4 groups of 5) from the epoch authenticator.
  [[nodiscard]] std::string safety_code() const;
  [[nodiscard]] const mls::GroupState& state() const noexcept { return state_; }

  // ---- changes (need the relay's acceptance: adopt RoomCommit::next on BundleOk) ----
  /// Adds the accounts whose KeyPackages the relay handed out (checked
  /// against the account and identity key the answers name).
  [[nodiscard]] mls::MlsResult<RoomCommit> add(const std::vector<wire::KeyPackageOk>& packages, Rng& rng,
                                               std::uint64_t now_s) const;
  /// Removes these accounts (InvalidProposal when one is not a member).
  [[nodiscard]] mls::MlsResult<RoomCommit> remove(const std::vector<AccountId>& accounts, Rng& rng,
                                                  std::uint64_t now_s) const;
  /// Makes `account` (a member) a facilitator or a member again: a
  /// GroupContextExtensions commit with the new roles extension.
  /// InvalidProposal when it is no member, or already has that role.
  [[nodiscard]] mls::MlsResult<RoomCommit> set_role(const AccountId& account, bool facilitator, Rng& rng,
                                                    std::uint64_t now_s) const;
  /// Refreshes our own keys (a commit with a path), committing the
  /// proposals this epoch holds as well (a member's leave).
  [[nodiscard]] mls::MlsResult<RoomCommit> refresh(Rng& rng, std::uint64_t now_s) const;
  /// Leaving: a proposal (PublicMessage) that removes our own leaf, sent as
  /// a bundle without Welcomes; the next commit by any other member carries
  /// it out. `next` holds the proposal too (the commit refers to it), to
  /// adopt once the relay accepted it. Whether we may leave (the last
  /// facilitator may not) is the caller's to decide.
  struct Leave;
  [[nodiscard]] mls::MlsResult<Leave> propose_leave() const;

  // ---- receiving a handshake ----
  /// Applies someone else's commit, or caches someone's leave proposal
  /// (MLSMessage bytes of a handshake envelope). InvalidCommit for our own
  /// commit; InvalidProposal for any proposal but a member's removal of
  /// itself; the MLS checks otherwise (signature, policy, epoch,
  /// confirmation tag, ...).
  [[nodiscard]] mls::MlsResult<RoomChange> apply(BytesView handshake, std::uint64_t now_s) const;

  // ---- application messages (in place) ----
  [[nodiscard]] mls::MlsResult<Bytes> encrypt(BytesView content, Rng& rng);
  /// WrongEpoch for an epoch no longer (or not yet) held; DecryptFailed,
  /// GenerationExpired (already read), InvalidSignature, ForeignIdentity
  /// (the sender's credential names no account) and codec errors.
  [[nodiscard]] mls::MlsResult<RoomMessage> decrypt(BytesView payload);

 private:
  explicit RoomGroup(mls::GroupState state) : state_(std::move(state)) {}
  mls::GroupState state_;
};

/// The roster change from one state of a group to a later one, from their
/// member lists: adds (with their role), removes, role changes.
[[nodiscard]] std::vector<wire::RosterChange> roster_between(const RoomGroup& before, const RoomGroup& after);

struct RoomGroup::Joined {
  RoomGroup group;
  Bytes key_package_ref;
};

struct RoomGroup::Leave {
  Bytes proposal;  // MLSMessage (PublicMessage)
  RoomGroup next;
};

struct RoomCommit {
  Bytes commit;  // MLSMessage (PublicMessage)
  struct WelcomeFor {
    AccountId account;
    Bytes welcome;  // MLSMessage (Welcome)
  };
  std::vector<WelcomeFor> welcomes;
  std::vector<wire::RosterChange> roster;
  RoomGroup next;
};

struct RoomChange {
  RoomGroup next;
  AccountId committer;  // or the member whose leave proposal this was
  std::vector<wire::RosterChange> roster;
  bool removed_us = false;
  bool leave_proposal = false;  // a proposal, not a commit: the epoch stays
};

}  // namespace hearth::client
