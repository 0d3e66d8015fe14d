// SPDX-License-Identifier: Apache-2.0
#pragma once
// Proposals (RFC 9420 §12.1-12.3): the per-epoch cache of proposals sent by
// reference, resolving a commit's list, the §12.2 validity rules, and
// applying a valid list to the tree. Shared by the member state and the
// relay's public view, so both apply exactly the same rules.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/mls/content.h"
#include "common/mls/error.h"
#include "common/mls/public_tree.h"
#include "common/mls/roles.h"

namespace hearth::mls {

/// Most proposals one epoch's cache holds, and one commit may carry: a bound
/// on hostile input (InvalidProposal beyond it).
inline constexpr std::size_t kMaxProposalsPerEpoch = 256;

/// A proposal with its origin.
struct ProposalInfo {
  Proposal proposal;
  LeafIndex sender;          // the member who proposed it (the committer for inline ones)
  std::optional<Digest> ref;  // set when it came by reference
  bool operator==(const ProposalInfo&) const = default;
};

/// This epoch's proposals sent as their own messages. Cleared by each commit.
class ProposalCache {
 public:
  /// Caches a proposal message (a Member sender; Unsupported otherwise) and
  /// returns its ProposalRef (over the encoded AuthenticatedContent).
  /// InvalidProposal when the cache is full; a duplicate is ignored.
  [[nodiscard]] MlsResult<Digest> add(const AuthenticatedContent& message);
  [[nodiscard]] const ProposalInfo* find(BytesView ref) const noexcept;
  [[nodiscard]] std::span<const ProposalInfo> all() const noexcept { return items_; }
  [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }
  void clear() noexcept { items_.clear(); }
  /// A cache as all() listed it (GroupState::load): InvalidValue for more
  /// than kMaxProposalsPerEpoch items, one without a reference, or a
  /// reference listed twice.
  [[nodiscard]] static MlsResult<ProposalCache> restore(std::vector<ProposalInfo> items);
  bool operator==(const ProposalCache&) const = default;

 private:
  std::vector<ProposalInfo> items_;
};

/// A commit's list with references looked up (UnknownProposal for a missing
/// one; InvalidProposal above kMaxProposalsPerEpoch), in the commit's order.
[[nodiscard]] MlsResult<std::vector<ProposalInfo>> resolve_proposals(const Commit& commit, LeafIndex committer,
                                                                     const ProposalCache& cache);

/// The §12.2 rules for the list a member commits. InvalidProposal for:
/// an Update or Remove of the committer (an Update by the committer), two
/// Updates or Removes for one leaf or an Update and a Remove, a Remove of a
/// blank leaf, two Adds with the same signature or encryption key, an Add
/// whose KeyPackage is invalid (the error of validate_key_package) or whose
/// leaf clashes with the tree (check_new_leaf), an invalid Update leaf
/// (validate_leaf_node, source Update, binding (group_id, sender)), two PSKs
/// with the same id, a resumption PSK with usage other than application, a
/// psk_nonce not Nh bytes, more than one GroupContextExtensions or one whose
/// extensions a member does not support. ReInit and ExternalInit:
/// Unsupported. Add leaves are checked against the new extensions when the
/// list also changes them.
[[nodiscard]] MlsResult<void> validate_proposals(std::span<const ProposalInfo> proposals, LeafIndex committer,
                                                 const PublicTree& tree, const GroupContext& context,
                                                 std::optional<std::uint64_t> now_s);

/// §12.4: a commit needs a path when its list is empty or holds an Update,
/// Remove, ExternalInit or GroupContextExtensions proposal.
[[nodiscard]] bool path_required(std::span<const ProposalInfo> proposals);

/// The policy's view of a resolved list.
[[nodiscard]] std::vector<PolicyProposal> policy_view(std::span<const ProposalInfo> proposals);

struct AppliedProposals {
  struct Added {
    LeafIndex leaf;
    Digest key_package_ref;
  };
  std::vector<Added> added;
  std::vector<std::pair<LeafIndex, Credential>> removed;  // credential before removal
  std::vector<LeafIndex> updated;
  std::vector<PreSharedKeyId> psks;
  std::optional<std::vector<Extension>> extensions;  // the new GroupContext extensions
  [[nodiscard]] std::vector<LeafIndex> joiners() const;
};
/// §12.3: applies GroupContextExtensions, then Updates, then Removes (with
/// truncation), then Adds. Precondition: validate_proposals passed.
[[nodiscard]] MlsResult<AppliedProposals> apply_proposals(PublicTree& tree, std::span<const ProposalInfo> proposals);

}  // namespace hearth::mls
