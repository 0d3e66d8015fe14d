// SPDX-License-Identifier: Apache-2.0
#pragma once
// The public ratchet tree (RFC 9420 §4, §7.1, §7.7-7.9, §12.1, §12.4.3.1):
// leaves, parent nodes, unmerged leaves, blanking, truncation, resolution,
// tree hash, parent hash and full validation. No secrets live here; the
// private keys a member holds are a PrivateTree (treekem.h).
//
// The tree hash is cached per node and the cache is invalidated along the
// path of every change, so processing a commit costs O(log n) hashes, not
// O(n). Copies are plain values (the cache is copied too).
//
// Thread affinity: none; a PublicTree is a value. Const members fill the
// hash cache, so one tree must not be read from two threads at once (copy it).
//
// Preconditions (a violation is a bug and throws std::logic_error, never a
// peer's doing once the caller has checked its input): the changes below
// take positions inside the tree, tree_hash() a non-empty tree,
// parent_hash() and set_path_parent_hashes() non-blank parent nodes.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "common/mls/error.h"
#include "common/mls/labeled_crypto.h"
#include "common/mls/leaf_node.h"
#include "common/mls/tree_math.h"
#include "common/mls/wire.h"

namespace hearth::mls {

/// Most leaves a Hearth group's tree may have: a bound on hostile input (a
/// GroupInfo's tree, a stream of Adds). Peer-support rooms are far smaller.
inline constexpr std::uint32_t kMaxGroupLeaves = 4096;

class PublicTree {
 public:
  PublicTree() = default;

  /// A one-leaf tree (group creation).
  [[nodiscard]] static PublicTree with_first_leaf(LeafNode leaf);
  /// From the ratchet_tree extension's nodes. Shape checks only: a LeafNode
  /// at every even position and a ParentNode at every odd one, a non-blank
  /// last node (the tree is truncated), a leaf count of at most
  /// kMaxGroupLeaves (TooManyMembers), unmerged leaf indices inside the tree
  /// (InvalidTree otherwise). Semantic checks are validate().
  [[nodiscard]] static MlsResult<PublicTree> from_wire(const RatchetTree& wire);
  /// The nodes as the ratchet_tree extension carries them, truncated.
  [[nodiscard]] RatchetTree to_wire() const;

  /// Leaf count: a power of two (0 for an empty tree).
  [[nodiscard]] std::uint32_t n_leaves() const noexcept;
  [[nodiscard]] std::uint32_t width() const noexcept { return static_cast<std::uint32_t>(nodes_.size()); }

  /// The node at `n`, or nullptr when blank or outside the tree.
  [[nodiscard]] const Node* node(NodeIndex n) const noexcept;
  [[nodiscard]] const LeafNode* leaf(LeafIndex l) const noexcept;
  [[nodiscard]] const ParentNode* parent_node(NodeIndex n) const noexcept;
  [[nodiscard]] bool is_blank(NodeIndex n) const noexcept { return node(n) == nullptr; }
  /// The HPKE public key of a non-blank node (leaf or parent).
  [[nodiscard]] std::optional<BytesView> encryption_key(NodeIndex n) const noexcept;

  /// Non-blank leaves, in index order.
  [[nodiscard]] std::vector<LeafIndex> members() const;
  [[nodiscard]] std::size_t member_count() const noexcept;
  /// First non-blank leaf satisfying `pred`.
  [[nodiscard]] std::optional<LeafIndex> find_leaf(const std::function<bool(const LeafNode&)>& pred) const;

  // ---- changes (§12.1, §7.7); each invalidates the cached hashes it affects ----

  /// Add: the leftmost blank leaf, or a new one after doubling the tree; the
  /// new leaf joins the unmerged_leaves of every non-blank ancestor.
  /// TooManyMembers above kMaxGroupLeaves.
  [[nodiscard]] MlsResult<LeafIndex> add_leaf(LeafNode leaf);
  /// Update: replaces the leaf and blanks its direct path. Precondition: the leaf is occupied.
  void update_leaf(LeafIndex l, LeafNode leaf);
  /// Remove: blanks the leaf and its direct path, then truncates.
  void remove_leaf(LeafIndex l);
  /// Drops the right half while it is entirely blank.
  void truncate();
  /// Sets a leaf or a parent node as is (UpdatePath merge, tests).
  void set_leaf(LeafIndex l, LeafNode leaf);
  void set_parent(NodeIndex n, ParentNode parent);
  void blank(NodeIndex n);

  // ---- TreeKEM support (§4.1.1, §7.5) ----

  /// Resolution of `n`, minus the leaves in `exclude` (a commit's joiners).
  [[nodiscard]] std::vector<NodeIndex> resolution(NodeIndex n, std::span<const LeafIndex> exclude = {}) const;
  /// One step of a filtered direct path: the ancestor and the child of it
  /// that is not on the path (its copath child), whose resolution is non-empty.
  struct PathStep {
    NodeIndex node;
    NodeIndex copath_child;
  };
  /// The filtered direct path of `l` (§4.1.2), from the leaf's parent upward.
  [[nodiscard]] std::vector<PathStep> filtered_direct_path(LeafIndex l) const;

  // ---- hashes (§7.8, §7.9) ----

  /// TreeHash of the root. Precondition: the tree is not empty.
  [[nodiscard]] Digest tree_hash() const;
  /// TreeHash of the subtree at `n`.
  [[nodiscard]] Digest tree_hash(NodeIndex n) const;
  /// How many nodes have a cached tree hash (tests check that a change
  /// invalidates only the O(log n) nodes above it).
  [[nodiscard]] std::size_t cached_hash_count() const noexcept;
  /// ParentHash(P) as P's child on the path sees it: H(ParentHashInput{
  /// P.encryption_key, P.parent_hash, original_sibling_tree_hash}), where the
  /// sibling's tree hash is taken with P's unmerged leaves removed.
  [[nodiscard]] Digest parent_hash(NodeIndex parent, NodeIndex sibling) const;
  /// After a committer's new path keys are set on its filtered direct path:
  /// fills the parent_hash of each of those nodes top-down and returns the
  /// value the committer's leaf must carry in `parent_hash`. A receiver
  /// merging an UpdatePath calls it too (UpdatePathNode carries no parent
  /// hash) and compares the result with the received leaf's parent_hash, or
  /// sets the leaf and calls verify_path_parent_hashes.
  [[nodiscard]] Bytes set_path_parent_hashes(LeafIndex committer);
  /// §7.9.2: every non-blank parent node is parent-hash valid (its hash is
  /// claimed by exactly one descendant chain). InvalidParentHash otherwise.
  [[nodiscard]] MlsResult<void> verify_parent_hashes() const;
  /// The chain from `l`'s leaf up its filtered direct path verifies (used
  /// after merging one UpdatePath): the leaf (source Commit unless the path
  /// is empty) claims ParentHash of the first node, each node the next, and
  /// the top node's parent_hash is empty. InvalidParentHash otherwise.
  [[nodiscard]] MlsResult<void> verify_path_parent_hashes(LeafIndex l) const;

  // ---- validation ----

  /// The group-wide checks for a leaf entering at `at` (§7.3): its
  /// encryption and signature keys unique in the tree (InvalidLeafNode), its
  /// credential type supported by every member and every member's
  /// credential type supported by it (InvalidLeafNode). `at` is the leaf an
  /// Update or a commit's path replaces: it is skipped, except that the new
  /// encryption key must differ from its current one (§7.3, §12.4.2).
  [[nodiscard]] MlsResult<void> check_new_leaf(const LeafNode& leaf, std::optional<LeafIndex> at) const;
  /// Full validation of a received tree (§12.4.3.1): tree hash equals
  /// `expected_tree_hash` (TreeHashMismatch), parent hashes (InvalidParentHash),
  /// every leaf valid for its source with binding (group_id, index) where it
  /// applies (validate_leaf_node, lifetime per `now_s`), keys unique across
  /// leaves and parents and parent keys of the HPKE size (InvalidTree), unmerged leaves consistent (a leaf in
  /// a node's unmerged_leaves is occupied, below it, and listed in every
  /// ancestor between: InvalidTree).
  [[nodiscard]] MlsResult<void> validate(BytesView group_id, BytesView expected_tree_hash,
                                         std::span<const Extension> group_extensions,
                                         std::optional<std::uint64_t> now_s) const;

  bool operator==(const PublicTree& o) const { return nodes_ == o.nodes_; }

 private:
  void invalidate(NodeIndex n);  // the node and its ancestors

  std::vector<std::optional<Node>> nodes_;
  mutable std::vector<std::optional<Digest>> hash_cache_;
};

}  // namespace hearth::mls
