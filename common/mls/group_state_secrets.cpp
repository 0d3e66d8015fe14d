// SPDX-License-Identifier: Apache-2.0
// Deep copies of the secret tree for GroupState::clone() and for transitions
// that must leave the original state untouched. They live with the group
// state, their only user; secret_tree.h declares them.
#include "common/mls/secret_tree.h"

namespace hearth::mls {

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
