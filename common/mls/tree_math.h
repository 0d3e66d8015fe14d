// SPDX-License-Identifier: Apache-2.0
#pragma once
// Array-based left-balanced binary trees (RFC 9420 §4.2, Appendix C). Leaves
// are at even node indices; trees are full (the leaf count is a power of two).

#include <compare>
#include <cstdint>
#include <optional>
#include <vector>

namespace hearth::mls {

/// Largest leaf count the tree math is defined for (node indices fit 32 bits).
inline constexpr std::uint32_t kMaxTreeLeaves = std::uint32_t{1} << 30;

struct LeafIndex {
  std::uint32_t v = 0;
  auto operator<=>(const LeafIndex&) const = default;
};
struct NodeIndex {
  std::uint32_t v = 0;
  auto operator<=>(const NodeIndex&) const = default;
};

[[nodiscard]] constexpr NodeIndex to_node(LeafIndex l) noexcept { return NodeIndex{2 * l.v}; }
[[nodiscard]] constexpr bool is_leaf(NodeIndex n) noexcept { return n.v % 2 == 0; }
/// Precondition: is_leaf(n).
[[nodiscard]] constexpr LeafIndex to_leaf(NodeIndex n) noexcept { return LeafIndex{n.v / 2}; }

/// Level of a node: 0 for leaves.
[[nodiscard]] std::uint32_t level(NodeIndex x) noexcept;
/// Number of nodes in a tree of `n_leaves` leaves. Precondition: n_leaves <= kMaxTreeLeaves.
[[nodiscard]] std::uint32_t node_width(std::uint32_t n_leaves) noexcept;
/// Precondition: 0 < n_leaves <= kMaxTreeLeaves.
[[nodiscard]] NodeIndex root(std::uint32_t n_leaves) noexcept;
/// Children; nullopt for a leaf.
[[nodiscard]] std::optional<NodeIndex> left(NodeIndex x) noexcept;
[[nodiscard]] std::optional<NodeIndex> right(NodeIndex x) noexcept;
/// Parent and sibling; nullopt for the root, a node outside the tree, or a
/// leaf count of 0 or above kMaxTreeLeaves.
[[nodiscard]] std::optional<NodeIndex> parent(NodeIndex x, std::uint32_t n_leaves) noexcept;
[[nodiscard]] std::optional<NodeIndex> sibling(NodeIndex x, std::uint32_t n_leaves) noexcept;
/// Ancestors from the parent up to and including the root (empty for the root).
[[nodiscard]] std::vector<NodeIndex> direct_path(NodeIndex x, std::uint32_t n_leaves);
/// Siblings of x and of each node of its direct path except the root.
[[nodiscard]] std::vector<NodeIndex> copath(NodeIndex x, std::uint32_t n_leaves);
/// Lowest common ancestor of two nodes.
[[nodiscard]] NodeIndex common_ancestor(NodeIndex x, NodeIndex y) noexcept;

}  // namespace hearth::mls
