// SPDX-License-Identifier: Apache-2.0
#pragma once
// A group followed without any secret (DESIGN.md §4): what the relay knows
// of a room, and the public half of every member's state. It tracks the
// tree, the GroupContext, the interim transcript hash, the roles and this
// epoch's proposal cache; it verifies handshake signatures against the
// sender leaf's key, applies the §12.2 rules and the role policy, and says
// which KeyPackages a commit's Welcome is for.
//
//   from_group_info(info, tree)        // signature, full tree validation
//   handle(public_message)             // proposal -> cache; commit -> next epoch
//     = verify signature, then add_proposal / apply_commit + advance
//   serialize() / load(bytes, policy)  // the relay's database, across restarts
//
// A member's GroupState calls add_proposal / apply_commit with content it
// has already unprotected (membership tag, decryption), then checks what
// only it can: the path secrets and the confirmation tag.
//
// Thread affinity: none; a PublicGroup is a value. Failed calls change nothing.

#include <cstdint>
#include <optional>
#include <vector>

#include "common/mls/content.h"
#include "common/mls/error.h"
#include "common/mls/proposals.h"
#include "common/mls/public_tree.h"
#include "common/mls/roles.h"

namespace hearth::mls {

/// The version PublicGroup::serialize writes first.
inline constexpr std::uint16_t kPublicGroupFormat = 1;

struct Member {
  LeafIndex leaf;
  Credential credential;
  Bytes signature_key;
  bool operator==(const Member&) const = default;
};

/// The public result of one commit, not yet adopted.
struct PublicCommit {
  LeafIndex committer;
  std::vector<ProposalInfo> proposals;  // resolved, in the commit's order
  AppliedProposals applied;
  std::optional<UpdatePath> path;
  PublicTree tree;                  // after proposals and path
  GroupContext provisional_context;  // the HPKE context of the path secrets
  GroupContext context;             // the new epoch's
  Bytes interim_transcript_hash;    // the new epoch's
  Roles roles;                      // the new epoch's
};

/// What one handled message did, for the relay.
struct PublicUpdate {
  ContentType content_type = ContentType::Proposal;
  LeafIndex sender;
  std::optional<Digest> proposal_ref;             // a proposal
  std::vector<AppliedProposals::Added> added;     // a commit: the leaves and KeyPackageRefs its Welcome is for
  std::vector<std::pair<LeafIndex, Credential>> removed;
  std::uint64_t epoch = 0;                        // the epoch after the message
};

class PublicGroup {
 public:
  PublicGroup() = default;
  /// A new group at epoch 0 (its creator's view): confirmed and interim
  /// transcript hashes empty, tree hash computed from `tree`.
  [[nodiscard]] static MlsResult<PublicGroup> create(Bytes group_id, PublicTree tree,
                                                     std::vector<Extension> extensions, RolePolicy policy);
  /// The same with the epoch-0 confirmation tag (RFC 9420 §11: the creator
  /// computes it over the empty confirmed transcript hash), so the interim
  /// transcript hash is H("" || confirmation_tag<V>) as the RFC requires and
  /// as from_group_info computes it for joiners. A creator that uses the
  /// overload without the tag starts from an empty interim hash instead.
  [[nodiscard]] static MlsResult<PublicGroup> create(Bytes group_id, PublicTree tree,
                                                     std::vector<Extension> extensions, RolePolicy policy,
                                                     BytesView confirmation_tag);
  /// From a signed GroupInfo and its tree: the signature against the signer
  /// leaf's key (InvalidSignature; SenderOutOfRange for a blank signer),
  /// full tree validation with the context's tree hash, the roles extension.
  /// The interim transcript hash follows from the confirmation tag.
  [[nodiscard]] static MlsResult<PublicGroup> from_group_info(const GroupInfo& info, const RatchetTree& tree,
                                                              RolePolicy policy, std::optional<std::uint64_t> now_s);
  /// A member's own view as it saved it (GroupState::load): the exact
  /// tree, interim transcript hash and proposal cache, with the roles read
  /// from the context's extensions (InvalidValue when malformed). Checks
  /// only what ties the parts together, not what the member checked when it
  /// got them: the version and suite (UnsupportedVersion,
  /// UnsupportedCipherSuite), the tree against the context's tree hash
  /// (TreeHashMismatch), the cached proposals' senders occupied
  /// (InvalidValue).
  [[nodiscard]] static MlsResult<PublicGroup> restore(GroupContext context, PublicTree tree,
                                                      Bytes interim_transcript_hash, ProposalCache cache,
                                                      RolePolicy policy);

  // ---- the relay's database (public_group_codec.cpp) ----
  /// The view for the relay's database: context, tree, interim transcript
  /// hash and cached proposals (roles come from the context; the policy is
  /// the caller's). A versioned encoding (kPublicGroupFormat) whose body is
  /// the public part of GroupState::serialize(); the layout is in
  /// public_group_codec.h. Nothing secret: the relay may store it as is.
  [[nodiscard]] Bytes serialize() const;
  /// What serialize() wrote, checked as GroupState::load checks its public
  /// part. Errors: the codec's (Truncated, TrailingBytes, InvalidValue for
  /// an unknown format version), InvalidValue for a count above its bound
  /// (kMaxProposalsPerEpoch; refused before anything is read) or an interim
  /// transcript hash that is neither Nh bytes nor empty at epoch 0, the
  /// tree's shape (InvalidTree: empty, not truncated, a node in the wrong
  /// slot; TooManyMembers), a cached proposal listed twice (InvalidValue),
  /// and restore()'s. Never a crash or an unbounded allocation on hostile
  /// bytes. Not re-checked: leaf signatures and parent hashes, verified
  /// when the view first received them.
  [[nodiscard]] static MlsResult<PublicGroup> load(BytesView encoded, RolePolicy policy);

  [[nodiscard]] const GroupContext& context() const noexcept { return context_; }
  [[nodiscard]] std::uint64_t epoch() const noexcept { return context_.epoch; }
  [[nodiscard]] const PublicTree& tree() const noexcept { return tree_; }
  [[nodiscard]] const Roles& roles() const noexcept { return roles_; }
  [[nodiscard]] RolePolicy policy() const noexcept { return policy_; }
  [[nodiscard]] BytesView interim_transcript_hash() const noexcept { return interim_transcript_hash_; }
  [[nodiscard]] const ProposalCache& proposals() const noexcept { return cache_; }
  [[nodiscard]] std::vector<Member> members() const;
  /// The signature key of a Member sender (SenderOutOfRange otherwise);
  /// fits framing's SignerKeyLookup.
  [[nodiscard]] MlsResult<Bytes> signer_key(const Sender& sender) const;

  /// Caches a proposal whose signature is already verified: group and epoch
  /// (WrongGroup, WrongEpoch), Member sender, proposer rule of the policy,
  /// ReInit/ExternalInit Unsupported. Returns its reference.
  [[nodiscard]] MlsResult<Digest> add_proposal(const AuthenticatedContent& proposal);
  /// The public processing of a commit whose signature is already verified
  /// (§12.4.2): group, epoch (WrongGroup, WrongEpoch), a Commit
  /// (WrongWireFormat), Member sender (Unsupported) at an occupied leaf
  /// (SenderOutOfRange), confirmation tag present and Nh bytes
  /// (InvalidConfirmationTag), proposals resolved and valid (the errors of
  /// resolve_proposals / validate_proposals), the role policy before and
  /// after (PolicyViolation), a path where required (InvalidCommit), the
  /// path's leaf valid (source Commit, binding (group_id, committer)) and
  /// unique in the tree (check_new_leaf), then merge_update_path (no path key
  /// already in the tree, the parent-hash chain), new tree hash, transcript
  /// hashes. The confirmation tag's value is the member's to check.
  [[nodiscard]] MlsResult<PublicCommit> apply_commit(const AuthenticatedContent& commit,
                                                     std::optional<std::uint64_t> now_s) const;
  /// Adopts a commit's result: the next epoch, with an empty proposal cache.
  void advance(PublicCommit commit);

  /// For the relay: verifies a PublicMessage proposal or commit (group,
  /// epoch, signature against the sender's leaf; no membership tag, which
  /// needs a member's secret), then caches or applies it. Application
  /// messages are WrongWireFormat.
  [[nodiscard]] MlsResult<PublicUpdate> handle(const PublicMessage& message, std::optional<std::uint64_t> now_s);

  bool operator==(const PublicGroup&) const = default;

 private:
  GroupContext context_;
  PublicTree tree_;
  Bytes interim_transcript_hash_;
  Roles roles_;
  RolePolicy policy_ = RolePolicy::Hearth;
  ProposalCache cache_;
};

}  // namespace hearth::mls
