// SPDX-License-Identifier: Apache-2.0
#include "common/mls/secret_tree.h"

#include <algorithm>
#include <limits>

#include "common/mls/labeled_crypto.h"

namespace hearth::mls {
namespace {

// Every length below is a suite constant, far under the HKDF limit, so the
// derivations cannot fail.
crypto::SecretBytes tree_secret(const crypto::HkdfExpander& secret, std::string_view label,
                                std::uint32_t generation, std::size_t length) {
  return std::move(*derive_tree_secret(secret, label, generation, length));
}

crypto::SecretBytes expand_nh(const crypto::HkdfExpander& secret, std::string_view label, std::string_view context) {
  return std::move(*expand_with_label(secret, label, as_bytes(context), kHashSize));
}

}  // namespace

RatchetKey HashRatchet::derive_and_advance() {
  RatchetKey out;
  out.generation = next_generation_;
  // Key, nonce and next secret all expand from the same secret: key it once.
  const crypto::HkdfExpander secret(secret_.view());
  out.key = crypto::Secret<kAeadKeySize>(tree_secret(secret, "key", next_generation_, kAeadKeySize).view());
  const auto nonce = tree_secret(secret, "nonce", next_generation_, kAeadNonceSize);
  std::copy(nonce.view().begin(), nonce.view().end(), out.nonce.begin());
  secret_ = tree_secret(secret, "secret", next_generation_, kHashSize);
  ++next_generation_;
  return out;
}

MlsResult<RatchetKey> HashRatchet::next() {
  if (next_generation_ == std::numeric_limits<std::uint32_t>::max()) return fail(Error::GenerationTooFarAhead);
  return derive_and_advance();
}

MlsResult<RatchetKey> HashRatchet::get(std::uint32_t generation) {
  if (generation < next_generation_) {
    auto it = skipped_.find(generation);
    if (it == skipped_.end()) return fail(Error::GenerationExpired);
    RatchetKey out = std::move(it->second);
    skipped_.erase(it);
    return out;
  }
  if (generation - next_generation_ > kMaxForwardRatchetDistance) return fail(Error::GenerationTooFarAhead);
  if (generation == std::numeric_limits<std::uint32_t>::max()) return fail(Error::GenerationTooFarAhead);
  while (next_generation_ < generation) {
    RatchetKey skipped = derive_and_advance();
    skipped_.emplace(skipped.generation, std::move(skipped));
    if (skipped_.size() > kOutOfOrderWindow) skipped_.erase(skipped_.begin());
  }
  return derive_and_advance();
}

void HashRatchet::restore(RatchetKey key) {
  if (key.generation >= next_generation_ || skipped_.contains(key.generation)) return;
  skipped_.emplace(key.generation, std::move(key));
  if (skipped_.size() > kOutOfOrderWindow) skipped_.erase(skipped_.begin());
}

SecretTree::SecretTree(crypto::SecretBytes encryption_secret, std::uint32_t n_leaves)
    : n_leaves_(n_leaves) {
  nodes_.emplace(root(n_leaves).v, std::move(encryption_secret));
}

MlsResult<SecretTree> SecretTree::create(crypto::SecretBytes encryption_secret, std::uint32_t n_leaves) {
  if (n_leaves == 0 || n_leaves > kMaxTreeLeaves) return fail(Error::InvalidValue);
  return SecretTree(std::move(encryption_secret), n_leaves);
}

MlsResult<HashRatchet*> SecretTree::ratchet(LeafIndex sender, RatchetType type) {
  if (sender.v >= n_leaves_) return fail(Error::SenderOutOfRange);
  auto it = ratchets_.find(sender.v);
  if (it == ratchets_.end()) {
    // Find the lowest node on the path from the leaf to the root that still
    // holds a secret, then derive down to the leaf, deleting as we go.
    const NodeIndex leaf = to_node(sender);
    std::vector<NodeIndex> path{leaf};
    const auto up = direct_path(leaf, n_leaves_);
    path.insert(path.end(), up.begin(), up.end());
    std::size_t start = 0;
    while (start < path.size() && !nodes_.contains(path[start].v)) ++start;
    // Every leaf's path keeps a secret until that leaf's ratchets exist.
    if (start == path.size()) return fail(Error::GenerationExpired);
    for (std::size_t i = start; i > 0; --i) {
      const auto node = nodes_.extract(path[i].v);
      const crypto::HkdfExpander secret(node.mapped().view());
      nodes_.insert_or_assign(left(path[i])->v, expand_nh(secret, "tree", "left"));
      nodes_.insert_or_assign(right(path[i])->v, expand_nh(secret, "tree", "right"));
    }
    const auto leaf_node = nodes_.extract(leaf.v);
    const crypto::HkdfExpander leaf_secret(leaf_node.mapped().view());
    HashRatchet handshake(expand_nh(leaf_secret, "handshake", ""));
    HashRatchet application(expand_nh(leaf_secret, "application", ""));
    it = ratchets_.emplace(sender.v, std::make_pair(std::move(handshake), std::move(application))).first;
  }
  return type == RatchetType::Handshake ? &it->second.first : &it->second.second;
}

MlsResult<RatchetKey> SecretTree::next_key(LeafIndex sender, RatchetType type) {
  auto r = ratchet(sender, type);
  if (!r) return fail(r.error());
  return (*r)->next();
}

MlsResult<RatchetKey> SecretTree::key_for(LeafIndex sender, RatchetType type, std::uint32_t generation) {
  auto r = ratchet(sender, type);
  if (!r) return fail(r.error());
  return (*r)->get(generation);
}

void SecretTree::restore(LeafIndex sender, RatchetType type, RatchetKey key) {
  const auto it = ratchets_.find(sender.v);
  if (it == ratchets_.end()) return;
  (type == RatchetType::Handshake ? it->second.first : it->second.second).restore(std::move(key));
}

SenderDataKey sender_data_key(BytesView sender_data_secret, BytesView ciphertext) {
  const BytesView sample = ciphertext.first(std::min(ciphertext.size(), kHashSize));
  const crypto::HkdfExpander secret(sender_data_secret);
  SenderDataKey out;
  out.key = crypto::Secret<kAeadKeySize>(std::move(*expand_with_label(secret, "key", sample, kAeadKeySize)).view());
  const auto nonce = std::move(*expand_with_label(secret, "nonce", sample, kAeadNonceSize));
  std::copy(nonce.view().begin(), nonce.view().end(), out.nonce.begin());
  return out;
}

// Deep copies, for group states whose transitions must leave the original
// untouched.
HashRatchet HashRatchet::clone() const {
  HashRatchet out(secret_.clone());
  out.next_generation_ = next_generation_;
  for (const auto& [generation, key] : skipped_) {
    RatchetKey copy;
    copy.generation = key.generation;
    copy.key = key.key.clone();
    copy.nonce = key.nonce;
    out.skipped_.emplace(generation, std::move(copy));
  }
  return out;
}

MlsResult<HashRatchet> HashRatchet::restore(crypto::SecretBytes secret, std::uint32_t next_generation,
                                            std::map<std::uint32_t, RatchetKey> skipped) {
  if (secret.size() != kHashSize || skipped.size() > kOutOfOrderWindow) return fail(Error::InvalidValue);
  for (const auto& [generation, key] : skipped) {
    if (key.generation != generation || generation >= next_generation) return fail(Error::InvalidValue);
  }
  HashRatchet out(std::move(secret));
  out.next_generation_ = next_generation;
  out.skipped_ = std::move(skipped);
  return out;
}

MlsResult<SecretTree> SecretTree::restore(std::uint32_t n_leaves, std::map<std::uint32_t, crypto::SecretBytes> nodes,
                                          std::map<std::uint32_t, RatchetPair> ratchets) {
  if (n_leaves == 0 || n_leaves > kMaxTreeLeaves) return fail(Error::InvalidValue);
  const std::uint32_t width = node_width(n_leaves);
  for (const auto& [node, secret] : nodes) {
    if (node >= width || secret.size() != kHashSize) return fail(Error::InvalidValue);
  }
  // Maps are ordered: the last key is the largest.
  if (!ratchets.empty() && ratchets.rbegin()->first >= n_leaves) return fail(Error::InvalidValue);
  SecretTree out(crypto::SecretBytes{}, n_leaves);
  out.nodes_ = std::move(nodes);
  out.ratchets_ = std::move(ratchets);
  return out;
}

SecretTree SecretTree::clone() const {
  SecretTree out(crypto::SecretBytes{}, n_leaves_);
  out.nodes_.clear();
  for (const auto& [node, secret] : nodes_) out.nodes_.emplace(node, secret.clone());
  for (const auto& [leaf, pair] : ratchets_) {
    out.ratchets_.emplace(leaf, std::make_pair(pair.first.clone(), pair.second.clone()));
  }
  return out;
}

}  // namespace hearth::mls
