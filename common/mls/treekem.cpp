// SPDX-License-Identifier: Apache-2.0
#include "common/mls/treekem.h"

#include <algorithm>
#include <set>
#include <string_view>
#include <utility>

#include "common/crypto/hpke.h"
#include "common/mls/labeled_crypto.h"

namespace hearth::mls {
namespace {

using PrivateKey = crypto::Secret<crypto::kX25519KeySize>;

constexpr std::string_view kUpdatePathLabel = "UpdatePathNode";

// §7.4: node_secret = DeriveSecret(path_secret, "node"), then DeriveKeyPair.
crypto::X25519KeyPair node_key_pair(BytesView path_secret) {
  const crypto::SecretBytes node_secret = derive_secret(path_secret, "node");
  return crypto::hpke::derive_key_pair(node_secret.view());
}

crypto::SecretBytes next_path_secret(BytesView path_secret) { return derive_secret(path_secret, "path"); }

bool same_bytes(BytesView a, BytesView b) noexcept { return std::ranges::equal(a, b); }

struct BytesLess {
  bool operator()(BytesView a, BytesView b) const noexcept { return std::ranges::lexicographical_compare(a, b); }
};

// True when `x` lies in the subtree rooted at `top`: a node at level k covers
// the 2^(k+1) - 1 indices centred on it.
bool in_subtree(NodeIndex x, NodeIndex top) noexcept {
  const std::uint64_t half = (std::uint64_t{1} << level(top)) - 1;
  return std::uint64_t{x.v} + half >= top.v && x.v <= std::uint64_t{top.v} + half;
}

struct DerivedPath {
  std::vector<std::pair<NodeIndex, PrivateKey>> keys;
  crypto::SecretBytes commit_secret;
};

// Derives the key pairs of `nodes` (a suffix of a filtered direct path, bottom
// up) from the path secret of the first one, checks each public key against
// the tree, and returns the private keys and the secret above the last node.
MlsResult<DerivedPath> derive_path(const PublicTree& tree, std::span<const NodeIndex> nodes,
                                   crypto::SecretBytes path_secret) {
  DerivedPath out;
  out.keys.reserve(nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (i > 0) path_secret = next_path_secret(path_secret.view());
    crypto::X25519KeyPair pair = node_key_pair(path_secret.view());
    const auto pub = tree.encryption_key(nodes[i]);
    if (!pub || !same_bytes(*pub, pair.public_key)) return fail(Error::InvalidTree);
    out.keys.emplace_back(nodes[i], std::move(pair.secret));
  }
  out.commit_secret = next_path_secret(path_secret.view());
  return out;
}

}  // namespace

// ---- PrivateTree ----

PrivateTree::PrivateTree(LeafIndex own, crypto::Secret<crypto::kX25519KeySize> leaf_key) : own_(own) {
  keys_.emplace(to_node(own).v, std::move(leaf_key));
}

PrivateTree PrivateTree::clone() const {
  PrivateTree out;
  out.own_ = own_;
  for (const auto& [n, key] : keys_) out.keys_.emplace(n, key.clone());
  return out;
}

const crypto::Secret<crypto::kX25519KeySize>* PrivateTree::key(NodeIndex n) const noexcept {
  const auto it = keys_.find(n.v);
  return it == keys_.end() ? nullptr : &it->second;
}

void PrivateTree::set_key(NodeIndex n, crypto::Secret<crypto::kX25519KeySize> key) {
  keys_.insert_or_assign(n.v, std::move(key));
}

MlsResult<crypto::SecretBytes> PrivateTree::implant(const PublicTree& tree, NodeIndex start,
                                                    crypto::SecretBytes path_secret) {
  const auto steps = tree.filtered_direct_path(own_);
  const auto first = std::find_if(steps.begin(), steps.end(), [&](const auto& s) { return s.node == start; });
  if (first == steps.end()) return fail(Error::InvalidTree);
  std::vector<NodeIndex> nodes;
  for (auto it = first; it != steps.end(); ++it) nodes.push_back(it->node);
  auto derived = derive_path(tree, nodes, std::move(path_secret));
  if (!derived) return fail(derived.error());
  // All keys checked: only now change the state.
  for (auto& [n, key] : derived->keys) set_key(n, std::move(key));
  return std::move(derived->commit_secret);
}

void PrivateTree::prune(const PublicTree& tree) {
  const NodeIndex own_node = to_node(own_);
  const std::uint32_t n_leaves = tree.n_leaves();
  std::vector<NodeIndex> path;
  if (own_.v < n_leaves) path = direct_path(own_node, n_leaves);
  std::erase_if(keys_, [&](const auto& entry) {
    const NodeIndex n{entry.first};
    if (tree.is_blank(n)) return true;
    if (n == own_node) return false;
    return std::find(path.begin(), path.end(), n) == path.end();
  });
}

MlsResult<void> PrivateTree::check_consistent(const PublicTree& tree) const {
  for (const auto& [n, key] : keys_) {
    const auto pub = tree.encryption_key(NodeIndex{n});
    if (!pub) return fail(Error::InvalidTree);
    const auto pair = crypto::x25519_from_secret(key.view());
    if (!pair || !same_bytes(*pub, pair->public_key)) return fail(Error::InvalidTree);
  }
  return {};
}

// ---- committer ----

MlsResult<PendingPath> prepare_update_path(PublicTree& tree, LeafIndex sender, const LeafTemplate& leaf,
                                           const crypto::SigningKey& key, BytesView group_id, Rng& rng) {
  crypto::SecretBytes leaf_secret(kHashSize);
  rng.fill(leaf_secret.mut());
  return prepare_update_path(tree, sender, leaf, key, group_id, std::move(leaf_secret));
}

MlsResult<PendingPath> prepare_update_path(PublicTree& tree, LeafIndex sender, const LeafTemplate& leaf,
                                           const crypto::SigningKey& key, BytesView group_id,
                                           crypto::SecretBytes leaf_secret) {
  if (tree.leaf(sender) == nullptr) return fail(Error::SenderOutOfRange);
  PendingPath out;
  out.sender = sender;
  // The filtered direct path does not depend on the nodes of the direct path
  // itself (only on the copath subtrees), so it is the same before and after
  // they are blanked.
  out.steps = tree.filtered_direct_path(sender);

  crypto::X25519KeyPair leaf_pair = node_key_pair(leaf_secret.view());
  out.private_tree = PrivateTree(sender, std::move(leaf_pair.secret));

  LeafNode node;
  node.encryption_key = Bytes(leaf_pair.public_key.begin(), leaf_pair.public_key.end());
  node.signature_key = Bytes(key.public_key.begin(), key.public_key.end());
  node.credential = leaf.credential;
  node.capabilities = leaf.capabilities;
  node.leaf_node_source = LeafNodeSource::Commit;
  node.extensions = leaf.extensions;

  tree.set_leaf(sender, node);
  for (const NodeIndex n : direct_path(to_node(sender), tree.n_leaves())) tree.blank(n);

  crypto::SecretBytes path_secret = std::move(leaf_secret);
  out.path_secrets.reserve(out.steps.size());
  for (const auto& step : out.steps) {
    path_secret = next_path_secret(path_secret.view());
    crypto::X25519KeyPair pair = node_key_pair(path_secret.view());
    tree.set_parent(step.node, ParentNode{Bytes(pair.public_key.begin(), pair.public_key.end()), {}, {}});
    out.private_tree.set_key(step.node, std::move(pair.secret));
    out.path_secrets.push_back(path_secret.clone());
  }
  out.commit_secret = next_path_secret(path_secret.view());

  node.parent_hash = tree.set_path_parent_hashes(sender);
  sign_leaf_node(node, key, LeafBinding{group_id, sender});
  tree.set_leaf(sender, node);
  out.leaf = std::move(node);
  return out;
}

MlsResult<UpdatePath> encrypt_update_path(const PendingPath& pending, const PublicTree& tree,
                                          std::span<const LeafIndex> joiners, BytesView group_context, Rng& rng) {
  if (pending.steps.size() != pending.path_secrets.size()) return fail(Error::InvalidCommit);
  UpdatePath out;
  out.leaf_node = pending.leaf;
  out.nodes.reserve(pending.steps.size());
  for (std::size_t i = 0; i < pending.steps.size(); ++i) {
    const auto& step = pending.steps[i];
    const auto pub = tree.encryption_key(step.node);
    if (!pub) return fail(Error::InvalidTree);
    UpdatePathNode node;
    node.encryption_key = Bytes(pub->begin(), pub->end());
    for (const NodeIndex r : tree.resolution(step.copath_child, joiners)) {
      const auto recipient = tree.encryption_key(r);
      if (!recipient) return fail(Error::InvalidTree);
      auto ct = encrypt_with_label(*recipient, kUpdatePathLabel, group_context, pending.path_secrets[i].view(), rng);
      if (!ct) return fail(ct.error());
      node.encrypted_path_secret.push_back(std::move(*ct));
    }
    out.nodes.push_back(std::move(node));
  }
  return out;
}

std::optional<crypto::SecretBytes> path_secret_for(const PendingPath& pending, LeafIndex joiner) {
  const NodeIndex lca = common_ancestor(to_node(pending.sender), to_node(joiner));
  for (std::size_t i = 0; i < pending.steps.size() && i < pending.path_secrets.size(); ++i) {
    if (pending.steps[i].node == lca) return pending.path_secrets[i].clone();
  }
  return std::nullopt;
}

// ---- receiver ----

MlsResult<void> merge_update_path(PublicTree& tree, LeafIndex sender, const UpdatePath& path) {
  const LeafNode* old_leaf = tree.leaf(sender);
  if (old_leaf == nullptr) return fail(Error::SenderOutOfRange);
  const auto steps = tree.filtered_direct_path(sender);
  if (path.nodes.size() != steps.size()) return fail(Error::InvalidCommit);

  // §12.4.2: no public key of the path may already be in the tree (this
  // includes the committer's current leaf key), nor appear twice in it.
  std::set<BytesView, BytesLess> seen;
  for (std::uint32_t n = 0; n < tree.width(); ++n) {
    if (const auto k = tree.encryption_key(NodeIndex{n})) seen.insert(*k);
  }
  if (!seen.insert(path.leaf_node.encryption_key).second) return fail(Error::InvalidLeafNode);
  for (const auto& node : path.nodes) {
    if (node.encryption_key.size() != crypto::hpke::kPublicKeySize) return fail(Error::InvalidCommit);
    if (!seen.insert(node.encryption_key).second) return fail(Error::InvalidCommit);
  }

  tree.set_leaf(sender, path.leaf_node);
  for (const NodeIndex n : direct_path(to_node(sender), tree.n_leaves())) tree.blank(n);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    tree.set_parent(steps[i].node, ParentNode{path.nodes[i].encryption_key, {}, {}});
  }
  const Bytes leaf_parent_hash = tree.set_path_parent_hashes(sender);
  if (!same_bytes(leaf_parent_hash, path.leaf_node.parent_hash)) return fail(Error::InvalidParentHash);
  return tree.verify_path_parent_hashes(sender);
}

MlsResult<PathDecryption> decrypt_update_path(const PublicTree& tree, const PrivateTree& mine, LeafIndex sender,
                                              const UpdatePath& path, std::span<const LeafIndex> joiners,
                                              BytesView group_context) {
  const LeafIndex own = mine.own_leaf();
  if (own == sender) return fail(Error::InvalidCommit);
  const auto steps = tree.filtered_direct_path(sender);
  if (path.nodes.size() != steps.size()) return fail(Error::InvalidCommit);

  // The step whose copath subtree holds our leaf: the lowest common ancestor
  // of us and the sender.
  const NodeIndex own_node = to_node(own);
  std::size_t i = 0;
  while (i < steps.size() && !in_subtree(own_node, steps[i].copath_child)) ++i;
  if (i == steps.size()) return fail(Error::DecryptFailed);

  const auto resolution = tree.resolution(steps[i].copath_child, joiners);
  const auto& cts = path.nodes[i].encrypted_path_secret;
  if (cts.size() != resolution.size()) return fail(Error::InvalidCommit);
  std::size_t j = 0;
  while (j < resolution.size() && mine.key(resolution[j]) == nullptr) ++j;
  // Only a joiner of this commit (excluded) or a state out of step with the
  // tree has no key in the resolution.
  if (j == resolution.size()) return fail(Error::DecryptFailed);

  auto path_secret = decrypt_with_label(mine.key(resolution[j])->view(), kUpdatePathLabel, group_context, cts[j]);
  if (!path_secret) return fail(Error::DecryptFailed);

  std::vector<NodeIndex> nodes;
  nodes.reserve(steps.size() - i);
  for (std::size_t k = i; k < steps.size(); ++k) {
    // The tree is the merged one, but check the path itself too (§7.5 step 6).
    const auto pub = tree.encryption_key(steps[k].node);
    if (!pub || !same_bytes(*pub, path.nodes[k].encryption_key)) return fail(Error::InvalidTree);
    nodes.push_back(steps[k].node);
  }
  auto derived = derive_path(tree, nodes, path_secret->clone());
  if (!derived) return fail(derived.error());

  PathDecryption out;
  out.path_secret = std::move(*path_secret);
  out.path_secret_node = steps[i].node;
  out.private_tree = mine.clone();
  for (auto& [n, key] : derived->keys) out.private_tree.set_key(n, std::move(key));
  out.private_tree.prune(tree);
  out.commit_secret = std::move(derived->commit_secret);
  return out;
}

}  // namespace hearth::mls
