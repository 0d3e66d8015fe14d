// SPDX-License-Identifier: Apache-2.0
#pragma once
// TreeKEM (RFC 9420 §7.4-7.6, §12.4.1-12.4.2): the private keys a member
// holds, UpdatePath creation and processing, and the commit secret.
//
//   committer                                        receiver
//   (tree already has the commit's proposals applied)
//   prepare_update_path(tree, ...)  // new leaf + path keys, parent hashes,
//                                   // signed leaf; tree changed in place
//   tree.tree_hash() -> provisional GroupContext ----->
//   encrypt_update_path(pending, tree, joiners, ctx)   merge_update_path(tree, sender, path)
//                                                      tree.tree_hash() -> provisional GroupContext
//                                                      decrypt_update_path(tree, mine, sender, path,
//                                                                          joiners, ctx)
//   commit_secret                                      commit_secret (equal)
//
// path_secret[0] is the leaf's; path_secret[i+1] = DeriveSecret(path_secret[i],
// "path") for each node of the filtered direct path; a node's key pair is
// DeriveKeyPair(DeriveSecret(path_secret, "node")); the commit secret is
// DeriveSecret(last path_secret, "path"). (RFC 9420 §7.4 numbers from the
// first parent node and calls our path_secret[0] "leaf_secret"; receivers
// cannot tell how the leaf key was made, so both interoperate.)
//
// Cost per commit: the committer does one HPKE encryption per node of each
// copath resolution; a receiver O(log n) hashes for the merge, one HPKE
// decryption and O(log n) key derivations.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "common/crypto/secret.h"
#include "common/mls/public_tree.h"
#include "common/types/rng.h"

namespace hearth::mls {

/// The HPKE private keys one member holds: its leaf's and those of the
/// parent nodes on its direct path it has learned. Move-only (secrets);
/// clone() for a transition that may fail.
class PrivateTree {
 public:
  PrivateTree() = default;
  PrivateTree(LeafIndex own, crypto::Secret<crypto::kX25519KeySize> leaf_key);
  /// No keys yet: a saved tree being restored key by key with set_key()
  /// (GroupState::load).
  explicit PrivateTree(LeafIndex own) noexcept : own_(own) {}

  [[nodiscard]] PrivateTree clone() const;
  [[nodiscard]] LeafIndex own_leaf() const noexcept { return own_; }
  /// The private key of node `n`, if held.
  [[nodiscard]] const crypto::Secret<crypto::kX25519KeySize>* key(NodeIndex n) const noexcept;
  void set_key(NodeIndex n, crypto::Secret<crypto::kX25519KeySize> key);
  /// Derives and stores the keys of `start` and of every node above it on
  /// `own_leaf`'s filtered direct path from `path_secret` (a joiner's
  /// path_secret from the Welcome, or a decrypted one). InvalidTree when a
  /// derived public key differs from the tree's or `start` is not on that
  /// path; nothing is stored then. Returns the secret derived above the
  /// last node (the commit secret when the path came from a commit).
  [[nodiscard]] MlsResult<crypto::SecretBytes> implant(const PublicTree& tree, NodeIndex start,
                                                       crypto::SecretBytes path_secret);
  /// Forgets keys of nodes that are blank in `tree` or outside it, and of
  /// nodes no longer on own_leaf's direct path (after a commit).
  void prune(const PublicTree& tree);
  /// InvalidTree unless every held key's public key matches the tree.
  [[nodiscard]] MlsResult<void> check_consistent(const PublicTree& tree) const;
  [[nodiscard]] std::size_t size() const noexcept { return keys_.size(); }
  /// Every held key by node index (GroupState::serialize).
  [[nodiscard]] const std::map<std::uint32_t, crypto::Secret<crypto::kX25519KeySize>>& keys() const noexcept {
    return keys_;
  }

 private:
  LeafIndex own_;
  std::map<std::uint32_t, crypto::Secret<crypto::kX25519KeySize>> keys_;  // node index -> private key
};

/// A committer's new path before encryption.
struct PendingPath {
  LeafIndex sender;
  LeafNode leaf;  // signed, source Commit, parent_hash set
  std::vector<PublicTree::PathStep> steps;  // the filtered direct path it covers
  std::vector<crypto::SecretBytes> path_secrets;  // one per step, bottom-up
  crypto::SecretBytes commit_secret;
  PrivateTree private_tree;  // the committer's keys after the commit
};

/// What the new leaf of a committer looks like apart from its keys.
struct LeafTemplate {
  Credential credential;
  Capabilities capabilities;
  std::vector<Extension> extensions;
};

/// Step 1 of a commit with a path (§7.5): draws a fresh leaf secret from
/// `rng`, blanks `sender`'s direct path, sets the new public keys on its
/// filtered direct path, computes parent hashes, and signs the new leaf with
/// binding (group_id, sender). `tree` must already have the commit's
/// proposals applied; it is changed in place. The leaf's key pair is
/// DeriveKeyPair(DeriveSecret(leaf_secret, "node")) and the first path
/// secret DeriveSecret(leaf_secret, "path") (RFC 9420 §7.4's example).
/// SenderOutOfRange when `sender`'s leaf is blank (tree unchanged then).
[[nodiscard]] MlsResult<PendingPath> prepare_update_path(PublicTree& tree, LeafIndex sender,
                                                         const LeafTemplate& leaf, const crypto::SigningKey& key,
                                                         BytesView group_id, Rng& rng);
/// The same from a given leaf secret (deterministic; tests and vectors).
[[nodiscard]] MlsResult<PendingPath> prepare_update_path(PublicTree& tree, LeafIndex sender,
                                                         const LeafTemplate& leaf, const crypto::SigningKey& key,
                                                         BytesView group_id, crypto::SecretBytes leaf_secret);

/// Step 2: encrypts each path secret to the resolution of its copath child,
/// minus `joiners`, with `group_context` (the encoded provisional
/// GroupContext) as HPKE context, label "UpdatePathNode". `tree` is the one
/// prepare_update_path changed (the path's public keys are read from it).
[[nodiscard]] MlsResult<UpdatePath> encrypt_update_path(const PendingPath& pending, const PublicTree& tree,
                                                        std::span<const LeafIndex> joiners,
                                                        BytesView group_context, Rng& rng);

/// Receiver step 1: checks the path has one node per filtered direct path
/// step of `sender` (InvalidCommit), that no public key of the path is
/// already in `tree` or repeated (§12.4.2: the new leaf key, including the
/// sender's current one, InvalidLeafNode; a parent key, or one not of X25519
/// size, InvalidCommit), replaces the sender's leaf, blanks its direct path
/// and sets the path's public keys with empty unmerged_leaves, then verifies
/// the parent-hash chain from the new leaf (InvalidParentHash). The leaf
/// itself is checked by the caller (validate_leaf_node with source Commit).
/// SenderOutOfRange when `sender`'s leaf is blank. Changes `tree` in place;
/// after a parent-hash failure it is partly changed, so merge into a copy.
/// Costs O(log n) hashes (plus one O(n) scan of keys, no hashing).
[[nodiscard]] MlsResult<void> merge_update_path(PublicTree& tree, LeafIndex sender, const UpdatePath& path);

struct PathDecryption {
  crypto::SecretBytes commit_secret;
  PrivateTree private_tree;  // `mine` plus the keys learned from the path
  crypto::SecretBytes path_secret;  // the one decrypted: of our lowest common ancestor with the sender
  NodeIndex path_secret_node;       // that ancestor
};
/// Receiver step 2: finds the step whose copath resolution holds a node we
/// have a key for, decrypts it (DecryptFailed), derives the secrets above it
/// and checks they give the path's public keys (InvalidTree).
/// `tree` is the tree after merge_update_path. InvalidCommit for our own
/// commit, a path of the wrong length or a ciphertext count that differs
/// from the resolution's size; DecryptFailed also when no node of the
/// resolution is ours (we are one of `joiners`). The returned private tree
/// is pruned (prune()) against `tree`. One HPKE decryption, O(log n) derivations.
[[nodiscard]] MlsResult<PathDecryption> decrypt_update_path(const PublicTree& tree, const PrivateTree& mine,
                                                            LeafIndex sender, const UpdatePath& path,
                                                            std::span<const LeafIndex> joiners,
                                                            BytesView group_context);

/// The path secret a joiner gets in its Welcome: the one at the lowest
/// common ancestor of the committer and the joiner, or nullopt when that
/// node is not on the committer's filtered direct path.
[[nodiscard]] std::optional<crypto::SecretBytes> path_secret_for(const PendingPath& pending, LeafIndex joiner);

}  // namespace hearth::mls
