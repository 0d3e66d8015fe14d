// SPDX-License-Identifier: Apache-2.0
#include "common/mls/public_group.h"

#include <algorithm>

#include "common/mls/framing.h"
#include "common/mls/leaf_node.h"
#include "common/mls/transcript.h"
#include "common/mls/treekem.h"
#include "common/mls/welcome.h"

namespace hearth::mls {
namespace {

Bytes to_vec(const Digest& d) { return Bytes(d.begin(), d.end()); }

}  // namespace

MlsResult<PublicGroup> PublicGroup::create(Bytes group_id, PublicTree tree, std::vector<Extension> extensions,
                                           RolePolicy policy) {
  if (tree.n_leaves() == 0) return fail(Error::InvalidTree);
  auto roles = roles_from_extensions(extensions);
  if (!roles) return fail(roles.error());
  PublicGroup g;
  g.context_.group_id = std::move(group_id);
  g.context_.epoch = 0;
  g.context_.tree_hash = to_vec(tree.tree_hash());
  g.context_.extensions = std::move(extensions);
  g.tree_ = std::move(tree);
  g.roles_ = std::move(*roles);
  g.policy_ = policy;
  return g;
}

MlsResult<PublicGroup> PublicGroup::create(Bytes group_id, PublicTree tree, std::vector<Extension> extensions,
                                           RolePolicy policy, BytesView confirmation_tag) {
  auto g = create(std::move(group_id), std::move(tree), std::move(extensions), policy);
  if (!g) return g;
  g->interim_transcript_hash_ = to_vec(mls::interim_transcript_hash(g->context_.confirmed_transcript_hash, confirmation_tag));
  return g;
}

MlsResult<PublicGroup> PublicGroup::from_group_info(const GroupInfo& info, const RatchetTree& wire_tree,
                                                    RolePolicy policy, std::optional<std::uint64_t> now_s) {
  const GroupContext& ctx = info.group_context;
  if (ctx.version != kProtocolVersionMls10) return fail(Error::UnsupportedVersion);
  if (!is_supported_cipher_suite(ctx.cipher_suite)) return fail(Error::UnsupportedCipherSuite);
  auto tree = PublicTree::from_wire(wire_tree);
  if (!tree) return fail(tree.error());
  const LeafNode* signer = tree->leaf(LeafIndex{info.signer});
  if (signer == nullptr) return fail(Error::SenderOutOfRange);
  if (auto ok = verify_group_info(info, signer->signature_key); !ok) return fail(ok.error());
  if (auto ok = tree->validate(ctx.group_id, ctx.tree_hash, ctx.extensions, now_s); !ok) return fail(ok.error());
  auto roles = roles_from_extensions(ctx.extensions);
  if (!roles) return fail(roles.error());
  PublicGroup g;
  g.context_ = ctx;
  g.tree_ = std::move(*tree);
  g.interim_transcript_hash_ = to_vec(mls::interim_transcript_hash(ctx.confirmed_transcript_hash, info.confirmation_tag));
  g.roles_ = std::move(*roles);
  g.policy_ = policy;
  return g;
}

MlsResult<PublicGroup> PublicGroup::restore(GroupContext context, PublicTree tree, Bytes interim_transcript_hash,
                                            ProposalCache cache, RolePolicy policy) {
  if (context.version != kProtocolVersionMls10) return fail(Error::UnsupportedVersion);
  if (!is_supported_cipher_suite(context.cipher_suite)) return fail(Error::UnsupportedCipherSuite);
  if (tree.n_leaves() == 0) return fail(Error::InvalidTree);
  const Digest hash = tree.tree_hash();
  if (!std::equal(hash.begin(), hash.end(), context.tree_hash.begin(), context.tree_hash.end())) {
    return fail(Error::TreeHashMismatch);
  }
  for (const ProposalInfo& p : cache.all()) {
    if (tree.leaf(p.sender) == nullptr) return fail(Error::InvalidValue);
  }
  auto roles = roles_from_extensions(context.extensions);
  if (!roles) return fail(roles.error());
  PublicGroup g;
  g.context_ = std::move(context);
  g.tree_ = std::move(tree);
  g.interim_transcript_hash_ = std::move(interim_transcript_hash);
  g.roles_ = std::move(*roles);
  g.policy_ = policy;
  g.cache_ = std::move(cache);
  return g;
}

std::vector<Member> PublicGroup::members() const {
  std::vector<Member> out;
  for (const LeafIndex l : tree_.members()) {
    const LeafNode* leaf = tree_.leaf(l);
    out.push_back(Member{l, leaf->credential, leaf->signature_key});
  }
  return out;
}

MlsResult<Bytes> PublicGroup::signer_key(const Sender& sender) const {
  if (sender.sender_type != SenderType::Member) return fail(Error::SenderOutOfRange);
  const LeafNode* leaf = tree_.leaf(LeafIndex{sender.index});
  if (leaf == nullptr) return fail(Error::SenderOutOfRange);
  return leaf->signature_key;
}

MlsResult<Digest> PublicGroup::add_proposal(const AuthenticatedContent& message) {
  const FramedContent& fc = message.content;
  if (fc.group_id != context_.group_id) return fail(Error::WrongGroup);
  if (fc.epoch != context_.epoch) return fail(Error::WrongEpoch);
  const auto* proposal = std::get_if<Proposal>(&fc.content);
  if (proposal == nullptr) return fail(Error::WrongWireFormat);
  if (fc.sender.sender_type != SenderType::Member) return fail(Error::Unsupported);
  const LeafIndex sender{fc.sender.index};
  if (tree_.leaf(sender) == nullptr) return fail(Error::SenderOutOfRange);
  const ProposalType type = proposal->type();
  if (type == ProposalType::ReInit || type == ProposalType::ExternalInit) return fail(Error::Unsupported);
  PolicyProposal view{type, sender, std::nullopt};
  if (const auto* remove = std::get_if<Remove>(&proposal->body)) view.removed = LeafIndex{remove->removed};
  if (auto ok = check_proposal_policy(policy_, tree_, roles_, view); !ok) return fail(ok.error());
  return cache_.add(message);
}

MlsResult<PublicCommit> PublicGroup::apply_commit(const AuthenticatedContent& message,
                                                  std::optional<std::uint64_t> now_s) const {
  const FramedContent& fc = message.content;
  if (fc.group_id != context_.group_id) return fail(Error::WrongGroup);
  if (fc.epoch != context_.epoch) return fail(Error::WrongEpoch);
  const auto* commit = std::get_if<Commit>(&fc.content);
  if (commit == nullptr) return fail(Error::WrongWireFormat);
  if (fc.sender.sender_type != SenderType::Member) return fail(Error::Unsupported);
  const LeafIndex committer{fc.sender.index};
  if (tree_.leaf(committer) == nullptr) return fail(Error::SenderOutOfRange);
  if (!message.auth.confirmation_tag || message.auth.confirmation_tag->size() != kHashSize) {
    return fail(Error::InvalidConfirmationTag);
  }
  if (context_.epoch == UINT64_MAX) return fail(Error::InvalidCommit);

  PublicCommit out;
  out.committer = committer;
  auto proposals = resolve_proposals(*commit, committer, cache_);
  if (!proposals) return fail(proposals.error());
  out.proposals = std::move(*proposals);
  if (auto ok = validate_proposals(out.proposals, committer, tree_, context_, now_s); !ok) return fail(ok.error());

  // The proposer rules first: they are cheap and need nothing of the path.
  const std::vector<PolicyProposal> view = policy_view(out.proposals);
  for (const auto& p : view) {
    if (auto ok = check_proposal_policy(policy_, tree_, roles_, p); !ok) return fail(ok.error());
  }

  out.tree = tree_;
  auto applied = apply_proposals(out.tree, out.proposals);
  if (!applied) return fail(applied.error());
  out.applied = std::move(*applied);
  const std::vector<Extension>& extensions = out.applied.extensions ? *out.applied.extensions : context_.extensions;
  if (out.applied.extensions) {
    auto roles = roles_from_extensions(extensions);
    if (!roles) return fail(Error::InvalidProposal);  // validate_proposals refuses these already
    out.roles = std::move(*roles);
  } else {
    out.roles = roles_;
  }

  if (path_required(out.proposals) && !commit->path) return fail(Error::InvalidCommit);
  if (commit->path) {
    const UpdatePath& path = *commit->path;
    const LeafContext lc{LeafNodeSource::Commit, LeafBinding{context_.group_id, committer}, extensions, now_s};
    if (auto ok = validate_leaf_node(path.leaf_node, lc); !ok) return fail(ok.error());
    if (auto ok = out.tree.check_new_leaf(path.leaf_node, committer); !ok) return fail(ok.error());
    // merge_update_path also refuses path keys already in the tree (§12.4.2)
    // and checks the parent-hash chain.
    if (auto ok = merge_update_path(out.tree, committer, path); !ok) return fail(ok.error());
    out.path = path;
  }

  const PolicyInput input{tree_, roles_, committer, view, out.tree, out.roles};
  if (auto ok = check_commit_policy(policy_, input); !ok) return fail(ok.error());

  out.provisional_context = context_;
  out.provisional_context.epoch = context_.epoch + 1;
  out.provisional_context.tree_hash = to_vec(out.tree.tree_hash());
  out.provisional_context.extensions = extensions;
  auto confirmed = confirmed_transcript_hash(interim_transcript_hash_, message);
  if (!confirmed) return fail(confirmed.error());
  out.context = out.provisional_context;
  out.context.confirmed_transcript_hash = to_vec(*confirmed);
  out.interim_transcript_hash = to_vec(mls::interim_transcript_hash(*confirmed, *message.auth.confirmation_tag));
  return out;
}

void PublicGroup::advance(PublicCommit commit) {
  context_ = std::move(commit.context);
  tree_ = std::move(commit.tree);
  interim_transcript_hash_ = std::move(commit.interim_transcript_hash);
  roles_ = std::move(commit.roles);
  cache_.clear();
}

MlsResult<PublicUpdate> PublicGroup::handle(const PublicMessage& message, std::optional<std::uint64_t> now_s) {
  const FramedContent& fc = message.content;
  const ContentType type = content_type(fc.content);
  if (type == ContentType::Application) return fail(Error::WrongWireFormat);
  if (fc.group_id != context_.group_id) return fail(Error::WrongGroup);
  if (fc.epoch != context_.epoch) return fail(Error::WrongEpoch);
  if (fc.sender.sender_type != SenderType::Member) return fail(Error::Unsupported);
  auto key = signer_key(fc.sender);
  if (!key) return fail(key.error());
  const AuthenticatedContent content{WireFormat::PublicMessage, fc, message.auth};
  if (auto ok = verify_content_signature(content, context_, *key); !ok) return fail(ok.error());

  PublicUpdate update;
  update.content_type = type;
  update.sender = LeafIndex{fc.sender.index};
  if (type == ContentType::Proposal) {
    auto ref = add_proposal(content);
    if (!ref) return fail(ref.error());
    update.proposal_ref = *ref;
    update.epoch = context_.epoch;
    return update;
  }
  auto commit = apply_commit(content, now_s);
  if (!commit) return fail(commit.error());
  update.added = commit->applied.added;
  update.removed = commit->applied.removed;
  advance(std::move(*commit));
  update.epoch = context_.epoch;
  return update;
}

}  // namespace hearth::mls
