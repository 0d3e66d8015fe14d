// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "common/mls/tree_math.h"

using namespace hearth::mls;

TEST_CASE("tree math on an 8-leaf tree", "[mls][tree_math]") {
  CHECK(node_width(8) == 15);
  CHECK(root(8) == NodeIndex{7});
  CHECK(level(NodeIndex{7}) == 3);
  CHECK(!left(NodeIndex{4}).has_value());
  CHECK(left(NodeIndex{3}) == NodeIndex{1});
  CHECK(right(NodeIndex{3}) == NodeIndex{5});
  CHECK(parent(NodeIndex{4}, 8) == NodeIndex{5});
  CHECK(!parent(NodeIndex{7}, 8).has_value());
  CHECK(!parent(NodeIndex{15}, 8).has_value());  // outside the tree
  CHECK(sibling(NodeIndex{4}, 8) == NodeIndex{6});
  CHECK(direct_path(NodeIndex{4}, 8) == std::vector<NodeIndex>{{5}, {3}, {7}});
  CHECK(copath(NodeIndex{4}, 8) == std::vector<NodeIndex>{{6}, {1}, {11}});
  CHECK(direct_path(root(8), 8).empty());
  CHECK(common_ancestor(NodeIndex{0}, NodeIndex{6}) == NodeIndex{3});
  CHECK(common_ancestor(NodeIndex{2}, NodeIndex{12}) == NodeIndex{7});
  CHECK(common_ancestor(NodeIndex{3}, NodeIndex{3}) == NodeIndex{3});
  CHECK(to_leaf(to_node(LeafIndex{5})) == LeafIndex{5});
}

TEST_CASE("tree math at kMaxTreeLeaves stays in 32 bits", "[mls][tree_math]") {
  CHECK(node_width(kMaxTreeLeaves) == 2 * (kMaxTreeLeaves - 1) + 1);
  CHECK(root(kMaxTreeLeaves) == NodeIndex{kMaxTreeLeaves - 1});
  CHECK(direct_path(NodeIndex{0}, kMaxTreeLeaves).size() == 30);
}

TEST_CASE("tree math refuses leaf counts of 0 and above kMaxTreeLeaves", "[mls][tree_math]") {
  CHECK(!parent(NodeIndex{0}, 0).has_value());
  CHECK(!parent(NodeIndex{0}, kMaxTreeLeaves + 1).has_value());
  CHECK(copath(NodeIndex{0}, kMaxTreeLeaves + 1).empty());
  CHECK(common_ancestor(NodeIndex{0}, NodeIndex{0x80000000u}) == NodeIndex{0x7fffffffu});
}
