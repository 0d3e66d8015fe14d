// SPDX-License-Identifier: Apache-2.0
#include "common/mls/roles.h"

#include <algorithm>

namespace hearth::mls {
namespace {

// Sorted (strictly increasing, so no duplicates) and within the bound: the
// only shape of the list both sides accept.
bool well_formed(const std::vector<Bytes>& facilitators) {
  if (facilitators.size() > kMaxFacilitators) return false;
  for (std::size_t i = 1; i < facilitators.size(); ++i) {
    if (!(facilitators[i - 1] < facilitators[i])) return false;
  }
  return true;
}

// Byte-wise order, the same as Bytes' operator<, across Bytes and views (no copy per lookup).
struct ByteOrder {
  bool operator()(BytesView a, BytesView b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  }
};

bool listed(const Roles& roles, BytesView identity) {
  return std::binary_search(roles.facilitators.begin(), roles.facilitators.end(), identity, ByteOrder{});
}

// A leaf present before and after a commit holds the same credential.
bool keeps_credential(const PublicTree& before, const PublicTree& after, LeafIndex leaf) {
  const LeafNode* old_leaf = before.leaf(leaf);
  const LeafNode* new_leaf = after.leaf(leaf);
  if (old_leaf == nullptr || new_leaf == nullptr) return true;
  return old_leaf->credential == new_leaf->credential;
}

}  // namespace

void write(Writer& w, const Roles& v) { w.list(v.facilitators); }

void read(Reader& r, Roles& v) {
  // By hand rather than Reader::list: a hostile list stops at the bound
  // instead of being read whole first.
  v.facilitators.clear();
  Reader sub = r.vector();
  while (!sub.empty()) {
    if (v.facilitators.size() == kMaxFacilitators) {
      r.set_error(Error::InvalidValue);
      return;
    }
    v.facilitators.push_back(sub.opaque_bytes());
  }
  if (r.ok() && !well_formed(v.facilitators)) r.set_error(Error::InvalidValue);
}

Extension roles_extension(Roles roles) {
  auto& f = roles.facilitators;
  std::sort(f.begin(), f.end());
  f.erase(std::unique(f.begin(), f.end()), f.end());
  return Extension{kRolesExtensionType, encode(roles)};
}

MlsResult<Roles> roles_from_extensions(std::span<const Extension> extensions) {
  const Extension* found = nullptr;
  for (const auto& ext : extensions) {
    if (ext.extension_type != kRolesExtensionType) continue;
    if (found != nullptr) return fail(Error::InvalidValue);  // two lists: which one holds?
    found = &ext;
  }
  if (found == nullptr) return Roles{};
  auto roles = decode<Roles>(found->extension_data);
  if (!roles) return fail(Error::InvalidValue);
  return roles;
}

bool is_facilitator(const PublicTree& tree, const Roles& roles, LeafIndex leaf) {
  const LeafNode* node = tree.leaf(leaf);
  if (node == nullptr || node->credential.credential_type != CredentialType::Basic) return false;
  return listed(roles, node->credential.identity);
}

MlsResult<void> check_proposal_policy(RolePolicy policy, const PublicTree& tree, const Roles& roles,
                                      const PolicyProposal& proposal) {
  if (policy == RolePolicy::AllowAll) return {};
  switch (proposal.type) {
    case ProposalType::Add:
    case ProposalType::GroupContextExtensions:
      if (!is_facilitator(tree, roles, proposal.proposer)) return fail(Error::PolicyViolation);
      return {};
    case ProposalType::Remove:
      if (proposal.removed && *proposal.removed == proposal.proposer) return {};  // leaving is always allowed
      if (!is_facilitator(tree, roles, proposal.proposer)) return fail(Error::PolicyViolation);
      return {};
    case ProposalType::Update:
    case ProposalType::PreSharedKey:
      return {};
    case ProposalType::ReInit:
    case ProposalType::ExternalInit:
      // Not supported at all (validate_proposals says Unsupported); the
      // policy refuses them too so it stays total on its own.
      return fail(Error::PolicyViolation);
  }
  return fail(Error::PolicyViolation);  // a value outside the enum
}

MlsResult<void> check_commit_policy(RolePolicy policy, const PolicyInput& input) {
  if (policy == RolePolicy::AllowAll) return {};
  // The proposers' powers come from the state before the commit, so a
  // commit cannot grant its own proposer powers.
  for (const auto& p : input.proposals) {
    if (auto ok = check_proposal_policy(policy, input.tree_before, input.roles_before, p); !ok) return ok;
  }
  // Only the committer's leaf and the Updated leaves can change in place;
  // every other leaf stays or is blanked, or is a new one from an Add.
  if (!keeps_credential(input.tree_before, input.tree_after, input.committer)) return fail(Error::PolicyViolation);
  for (const auto& p : input.proposals) {
    if (p.type == ProposalType::Update && !keeps_credential(input.tree_before, input.tree_after, p.proposer)) {
      return fail(Error::PolicyViolation);
    }
  }
  const auto facilitator_left = input.tree_after.find_leaf([&](const LeafNode& leaf) {
    return leaf.credential.credential_type == CredentialType::Basic && listed(input.roles_after, leaf.credential.identity);
  });
  if (!facilitator_left) return fail(Error::PolicyViolation);  // the room would have no facilitator left
  return {};
}

}  // namespace hearth::mls
