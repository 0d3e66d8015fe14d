// SPDX-License-Identifier: Apache-2.0
#include "common/mls/tree_math.h"

namespace hearth::mls {
namespace {

std::uint32_t log2_floor(std::uint32_t x) noexcept {
  if (x == 0) return 0;
  std::uint32_t k = 0;
  while ((x >> k) > 1) ++k;
  return k;
}

NodeIndex parent_step(NodeIndex x) noexcept {
  const std::uint32_t k = level(x);
  const std::uint32_t b = (x.v >> (k + 1)) & 1u;
  return NodeIndex{(x.v | (1u << k)) ^ (b << (k + 1))};
}

}  // namespace

std::uint32_t level(NodeIndex x) noexcept {
  if ((x.v & 1u) == 0) return 0;
  std::uint32_t k = 0;
  while (k < 32 && ((x.v >> k) & 1u) == 1u) ++k;
  return k;
}

std::uint32_t node_width(std::uint32_t n_leaves) noexcept { return n_leaves == 0 ? 0 : 2 * (n_leaves - 1) + 1; }

NodeIndex root(std::uint32_t n_leaves) noexcept {
  return NodeIndex{(std::uint32_t{1} << log2_floor(node_width(n_leaves))) - 1};
}

std::optional<NodeIndex> left(NodeIndex x) noexcept {
  const std::uint32_t k = level(x);
  if (k == 0) return std::nullopt;
  return NodeIndex{x.v ^ (1u << (k - 1))};
}

std::optional<NodeIndex> right(NodeIndex x) noexcept {
  const std::uint32_t k = level(x);
  if (k == 0) return std::nullopt;
  return NodeIndex{x.v ^ (3u << (k - 1))};
}

std::optional<NodeIndex> parent(NodeIndex x, std::uint32_t n_leaves) noexcept {
  if (n_leaves == 0 || n_leaves > kMaxTreeLeaves) return std::nullopt;
  if (x.v >= node_width(n_leaves) || x == root(n_leaves)) return std::nullopt;
  // In a full tree one step suffices; the loop keeps the result inside a
  // tree whose leaf count is not a power of two.
  NodeIndex p = parent_step(x);
  while (p.v >= node_width(n_leaves)) p = parent_step(p);
  return p;
}

std::optional<NodeIndex> sibling(NodeIndex x, std::uint32_t n_leaves) noexcept {
  const auto p = parent(x, n_leaves);
  if (!p) return std::nullopt;
  return x.v < p->v ? right(*p) : left(*p);
}

std::vector<NodeIndex> direct_path(NodeIndex x, std::uint32_t n_leaves) {
  std::vector<NodeIndex> out;
  for (auto p = parent(x, n_leaves); p; p = parent(*p, n_leaves)) out.push_back(*p);
  return out;
}

std::vector<NodeIndex> copath(NodeIndex x, std::uint32_t n_leaves) {
  std::vector<NodeIndex> out;
  if (n_leaves == 0 || n_leaves > kMaxTreeLeaves) return out;
  if (x.v >= node_width(n_leaves) || x == root(n_leaves)) return out;
  std::vector<NodeIndex> path{x};
  const auto dp = direct_path(x, n_leaves);
  path.insert(path.end(), dp.begin(), dp.end());
  path.pop_back();  // the root has no sibling
  for (const NodeIndex n : path) out.push_back(*sibling(n, n_leaves));
  return out;
}

NodeIndex common_ancestor(NodeIndex x, NodeIndex y) noexcept {
  if (x == y) return x;
  // 64-bit arithmetic: for indices that differ in the top bit k reaches 32.
  std::uint64_t xn = x.v;
  std::uint64_t yn = y.v;
  std::uint64_t k = 0;
  while (xn != yn) {
    xn >>= 1;
    yn >>= 1;
    ++k;
  }
  return NodeIndex{static_cast<std::uint32_t>((xn << k) + (std::uint64_t{1} << (k - 1)) - 1)};
}

}  // namespace hearth::mls
