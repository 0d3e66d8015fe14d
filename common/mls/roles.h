// SPDX-License-Identifier: Apache-2.0
#pragma once
// Hearth roles (DESIGN.md §4): the room's facilitators as a private-range
// GroupContext extension, and the one role policy that members and the relay
// both apply to every commit, so they can never disagree.
//
//   - every member may commit (a commit with only a path refreshes keys);
//   - Add and GroupContextExtensions need a facilitator as proposer;
//   - Remove needs a facilitator as proposer, or the removed member itself;
//   - after the commit at least one member of the group is a facilitator;
//   - a leaf that stays in the group keeps its credential (an Update or the
//     committer's new path leaf may not change it), since roles follow the
//     credential identity and a member could otherwise claim a
//     facilitator's identity.
//
// A facilitator is a member whose Basic credential identity is listed in the
// roles extension of the GroupContext *before* the commit (a commit cannot
// grant its own proposer powers). Under RolePolicy::Hearth a group whose
// roles are empty has no facilitator, so every commit in it is refused: the
// creator lists itself.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/mls/error.h"
#include "common/mls/public_tree.h"
#include "common/mls/wire.h"

namespace hearth::mls {

/// The roles extension type, in the private range (RFC 9420 §17.3,
/// 0xF000-0xFFFF). Every Hearth KeyPackage lists it in its capabilities.
inline constexpr std::uint16_t kRolesExtensionType = 0xF4E1;
/// Most facilitators one room may list: a bound on hostile input.
inline constexpr std::size_t kMaxFacilitators = 64;

struct Roles {
  std::vector<Bytes> facilitators;  // credential identities, sorted, no duplicates
  bool operator==(const Roles&) const = default;
};
void write(Writer& w, const Roles& v);
void read(Reader& r, Roles& v);

/// The extension carrying `roles` (facilitators sorted and deduplicated).
[[nodiscard]] Extension roles_extension(Roles roles);
/// The roles in a GroupContext's extensions: empty roles when absent;
/// InvalidValue when malformed, unsorted or duplicated, above kMaxFacilitators.
[[nodiscard]] MlsResult<Roles> roles_from_extensions(std::span<const Extension> extensions);

enum class RolePolicy {
  Hearth,    // the rules above
  AllowAll,  // the official vectors, which know nothing of Hearth's roles
};

/// True when the leaf is occupied and its identity is a facilitator.
[[nodiscard]] bool is_facilitator(const PublicTree& tree, const Roles& roles, LeafIndex leaf);

/// One proposal as the policy sees it.
struct PolicyProposal {
  ProposalType type = ProposalType::Add;
  LeafIndex proposer;                // the member who sent it (the committer for inline proposals)
  std::optional<LeafIndex> removed;  // Remove only
};

struct PolicyInput {
  const PublicTree& tree_before;
  const Roles& roles_before;
  LeafIndex committer;
  std::span<const PolicyProposal> proposals;
  const PublicTree& tree_after;
  const Roles& roles_after;
};

/// The role policy for one commit. PolicyViolation when it is broken.
/// `tree_after` is the tree after the proposals and the committer's path.
/// Total and deterministic: any input gives Ok or PolicyViolation.
[[nodiscard]] MlsResult<void> check_commit_policy(RolePolicy policy, const PolicyInput& input);
/// The proposer rule alone, for a standalone proposal when it arrives (so a
/// forbidden proposal is refused early, not only when committed).
[[nodiscard]] MlsResult<void> check_proposal_policy(RolePolicy policy, const PublicTree& tree, const Roles& roles,
                                                    const PolicyProposal& proposal);

}  // namespace hearth::mls
