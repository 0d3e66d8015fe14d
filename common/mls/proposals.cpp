// SPDX-License-Identifier: Apache-2.0
#include "common/mls/proposals.h"

#include <algorithm>

#include "common/mls/leaf_node.h"

namespace hearth::mls {
namespace {

// RFC 9420 §7.2: the proposal types this document defines need not be
// listed in capabilities.
constexpr bool is_default_proposal(std::uint16_t type) noexcept { return type >= 1 && type <= 7; }

bool contains(const std::vector<std::uint16_t>& list, std::uint16_t v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

// RequiredCapabilities (§11.1); part 1 has no codec for it and only this
// file reads it outside leaf validation.
struct RequiredCapabilities {
  std::vector<std::uint16_t> extension_types;
  std::vector<std::uint16_t> proposal_types;
  std::vector<std::uint16_t> credential_types;
};
void read(Reader& r, RequiredCapabilities& v) {
  v.extension_types = r.list<std::uint16_t>();
  v.proposal_types = r.list<std::uint16_t>();
  v.credential_types = r.list<std::uint16_t>();
}

// Whether a member's capabilities cover a GroupContext extension list: every
// non-default extension type, and the required_capabilities if present.
// The extension list itself is checked for shape by the caller.
MlsResult<bool> supports(const Capabilities& caps, std::span<const Extension> extensions) {
  for (const auto& ext : extensions) {
    if (!is_default_extension(ext.extension_type) && !contains(caps.extensions, ext.extension_type)) return false;
    if (ext.extension_type != kExtRequiredCapabilities) continue;
    auto required = decode<RequiredCapabilities>(ext.extension_data);
    if (!required) return fail(Error::InvalidProposal);
    for (const auto t : required->extension_types) {
      if (!is_default_extension(t) && !contains(caps.extensions, t)) return false;
    }
    for (const auto t : required->proposal_types) {
      if (!is_default_proposal(t) && !contains(caps.proposals, t)) return false;
    }
    for (const auto t : required->credential_types) {
      if (!contains(caps.credentials, t)) return false;
    }
  }
  return true;
}

// An extension list a GroupContext may hold: one of each type (§13.4) and a
// roles extension both sides can read.
bool valid_group_extensions(std::span<const Extension> extensions) {
  for (std::size_t i = 0; i < extensions.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (extensions[i].extension_type == extensions[j].extension_type) return false;
    }
  }
  return roles_from_extensions(extensions).has_value();
}

bool valid_psk(const PreSharedKeyId& id) {
  if (id.psk_nonce.size() != kHashSize) return false;
  // §12.1.4: reinit and branch resumption PSKs belong to those operations only.
  return id.psk_type != PskType::Resumption || id.usage == ResumptionPskUsage::Application;
}

}  // namespace

// ---- ProposalCache ----

MlsResult<Digest> ProposalCache::add(const AuthenticatedContent& message) {
  const auto* proposal = std::get_if<Proposal>(&message.content.content);
  if (proposal == nullptr) return fail(Error::WrongWireFormat);
  if (message.content.sender.sender_type != SenderType::Member) return fail(Error::Unsupported);
  const Digest ref = make_proposal_ref(encode(message));
  if (find(ref) != nullptr) return ref;
  if (items_.size() >= kMaxProposalsPerEpoch) return fail(Error::InvalidProposal);
  items_.push_back(ProposalInfo{*proposal, LeafIndex{message.content.sender.index}, ref});
  return ref;
}

const ProposalInfo* ProposalCache::find(BytesView ref) const noexcept {
  for (const auto& item : items_) {
    if (item.ref && std::equal(item.ref->begin(), item.ref->end(), ref.begin(), ref.end())) return &item;
  }
  return nullptr;
}

MlsResult<ProposalCache> ProposalCache::restore(std::vector<ProposalInfo> items) {
  if (items.size() > kMaxProposalsPerEpoch) return fail(Error::InvalidValue);
  ProposalCache out;
  for (ProposalInfo& item : items) {
    if (!item.ref || out.find(*item.ref) != nullptr) return fail(Error::InvalidValue);
    out.items_.push_back(std::move(item));
  }
  return out;
}

// ---- resolving and validating a list ----

MlsResult<std::vector<ProposalInfo>> resolve_proposals(const Commit& commit, LeafIndex committer,
                                                       const ProposalCache& cache) {
  if (commit.proposals.size() > kMaxProposalsPerEpoch) return fail(Error::InvalidProposal);
  std::vector<ProposalInfo> out;
  out.reserve(commit.proposals.size());
  for (const auto& item : commit.proposals) {
    if (const auto* by_value = std::get_if<Proposal>(&item.value)) {
      out.push_back(ProposalInfo{*by_value, committer, std::nullopt});
      continue;
    }
    const ProposalInfo* cached = cache.find(std::get<Bytes>(item.value));
    if (cached == nullptr) return fail(Error::UnknownProposal);
    out.push_back(*cached);
  }
  return out;
}

MlsResult<void> validate_proposals(std::span<const ProposalInfo> proposals, LeafIndex committer,
                                   const PublicTree& tree, const GroupContext& context,
                                   std::optional<std::uint64_t> now_s) {
  if (proposals.size() > kMaxProposalsPerEpoch) return fail(Error::InvalidProposal);

  // Pass 1: what each proposal says on its own, and the list-wide counts.
  const GroupContextExtensions* gce = nullptr;
  std::vector<std::uint32_t> touched;  // leaves updated or removed
  std::vector<const PreSharedKeyId*> psks;
  std::vector<const ProposalInfo*> updates;
  std::vector<const KeyPackage*> adds;
  for (const auto& info : proposals) {
    const auto& body = info.proposal.body;
    if (std::holds_alternative<Update>(body)) {
      if (info.sender == committer) return fail(Error::InvalidProposal);  // the committer updates by its path
      if (tree.leaf(info.sender) == nullptr) return fail(Error::InvalidProposal);
      touched.push_back(info.sender.v);
      updates.push_back(&info);
    } else if (const auto* remove = std::get_if<Remove>(&body)) {
      if (remove->removed == committer.v) return fail(Error::InvalidProposal);
      if (tree.leaf(LeafIndex{remove->removed}) == nullptr) return fail(Error::InvalidProposal);
      touched.push_back(remove->removed);
    } else if (const auto* add = std::get_if<Add>(&body)) {
      adds.push_back(&add->key_package);
    } else if (const auto* psk = std::get_if<PreSharedKey>(&body)) {
      if (!valid_psk(psk->psk)) return fail(Error::InvalidProposal);
      for (const auto* other : psks) {
        if (*other == psk->psk) return fail(Error::InvalidProposal);
      }
      psks.push_back(&psk->psk);
    } else if (const auto* ext = std::get_if<GroupContextExtensions>(&body)) {
      if (gce != nullptr) return fail(Error::InvalidProposal);
      if (!valid_group_extensions(ext->extensions)) return fail(Error::InvalidProposal);
      gce = ext;
    } else {
      return fail(Error::Unsupported);  // ReInit, ExternalInit
    }
  }
  std::sort(touched.begin(), touched.end());
  if (std::adjacent_find(touched.begin(), touched.end()) != touched.end()) return fail(Error::InvalidProposal);

  // §12.3: the new extensions apply to every other proposal of the list.
  const std::span<const Extension> extensions = gce != nullptr ? std::span<const Extension>(gce->extensions)
                                                               : std::span<const Extension>(context.extensions);

  // Leaves entering the tree are checked against the tree with the Removes
  // applied, so a client removed and re-added in one commit is judged by the
  // final tree. Updated leaves keep their old keys there: an Update is
  // checked at its own position (new encryption key, §7.3) and against the
  // others' current keys, which is stricter than the final tree only for a
  // key swapped between two updated leaves.
  std::optional<PublicTree> scratch;
  for (const auto& info : proposals) {
    if (const auto* remove = std::get_if<Remove>(&info.proposal.body)) {
      if (!scratch) scratch = tree;
      scratch->remove_leaf(LeafIndex{remove->removed});
    }
  }
  const PublicTree& after = scratch ? *scratch : tree;

  std::vector<const LeafNode*> entering;  // the Update and Add leaves, for keys repeated among them
  entering.reserve(updates.size() + adds.size());
  const auto repeats_key = [&entering](const LeafNode& leaf) {
    for (const LeafNode* other : entering) {
      if (leaf.signature_key == other->signature_key || leaf.encryption_key == other->encryption_key) return true;
    }
    return false;
  };
  for (const auto* info : updates) {
    const LeafNode& leaf = std::get<Update>(info->proposal.body).leaf_node;
    const LeafContext lc{LeafNodeSource::Update, LeafBinding{context.group_id, info->sender}, extensions, now_s};
    if (auto ok = validate_leaf_node(leaf, lc); !ok) return ok;
    if (auto ok = after.check_new_leaf(leaf, info->sender); !ok) return ok;
    if (repeats_key(leaf)) return fail(Error::InvalidProposal);
    entering.push_back(&leaf);
  }
  for (const KeyPackage* kp : adds) {
    if (repeats_key(kp->leaf_node)) return fail(Error::InvalidProposal);
    if (auto ok = validate_key_package(*kp, extensions, now_s); !ok) return ok;
    if (auto ok = after.check_new_leaf(kp->leaf_node, std::nullopt); !ok) return ok;
    entering.push_back(&kp->leaf_node);
  }

  // New extensions must be supported by every member that stays (the Adds
  // and the Updates' new leaves were checked against them above).
  if (gce != nullptr) {
    for (const LeafIndex l : after.members()) {
      const bool updated =
          std::any_of(updates.begin(), updates.end(), [l](const ProposalInfo* u) { return u->sender == l; });
      if (updated) continue;
      auto ok = supports(after.leaf(l)->capabilities, extensions);
      if (!ok) return fail(ok.error());
      if (!*ok) return fail(Error::InvalidProposal);
    }
  }
  return {};
}

bool path_required(std::span<const ProposalInfo> proposals) {
  if (proposals.empty()) return true;
  for (const auto& info : proposals) {
    switch (info.proposal.type()) {
      case ProposalType::Update:
      case ProposalType::Remove:
      case ProposalType::ExternalInit:
      case ProposalType::GroupContextExtensions:
        return true;
      case ProposalType::Add:
      case ProposalType::PreSharedKey:
      case ProposalType::ReInit:
        break;
    }
  }
  return false;
}

std::vector<PolicyProposal> policy_view(std::span<const ProposalInfo> proposals) {
  std::vector<PolicyProposal> out;
  out.reserve(proposals.size());
  for (const auto& info : proposals) {
    PolicyProposal p{info.proposal.type(), info.sender, std::nullopt};
    if (const auto* remove = std::get_if<Remove>(&info.proposal.body)) p.removed = LeafIndex{remove->removed};
    out.push_back(p);
  }
  return out;
}

// ---- applying a list ----

std::vector<LeafIndex> AppliedProposals::joiners() const {
  std::vector<LeafIndex> out;
  out.reserve(added.size());
  for (const auto& a : added) out.push_back(a.leaf);
  return out;
}

MlsResult<AppliedProposals> apply_proposals(PublicTree& tree, std::span<const ProposalInfo> proposals) {
  AppliedProposals out;
  for (const auto& info : proposals) {
    if (const auto* ext = std::get_if<GroupContextExtensions>(&info.proposal.body)) out.extensions = ext->extensions;
  }
  for (const auto& info : proposals) {
    if (const auto* update = std::get_if<Update>(&info.proposal.body)) {
      if (tree.leaf(info.sender) == nullptr) return fail(Error::InvalidProposal);  // validate_proposals was skipped
      tree.update_leaf(info.sender, update->leaf_node);
      out.updated.push_back(info.sender);
    }
  }
  for (const auto& info : proposals) {
    if (const auto* remove = std::get_if<Remove>(&info.proposal.body)) {
      const LeafIndex leaf{remove->removed};
      const LeafNode* before = tree.leaf(leaf);
      if (before == nullptr) return fail(Error::InvalidProposal);  // validate_proposals was skipped
      out.removed.emplace_back(leaf, before->credential);
      tree.remove_leaf(leaf);
    }
  }
  tree.truncate();
  for (const auto& info : proposals) {
    if (const auto* add = std::get_if<Add>(&info.proposal.body)) {
      auto leaf = tree.add_leaf(add->key_package.leaf_node);
      if (!leaf) return fail(leaf.error());
      out.added.push_back(AppliedProposals::Added{*leaf, key_package_ref(add->key_package)});
    }
  }
  for (const auto& info : proposals) {
    if (const auto* psk = std::get_if<PreSharedKey>(&info.proposal.body)) out.psks.push_back(psk->psk);
  }
  return out;
}

}  // namespace hearth::mls
