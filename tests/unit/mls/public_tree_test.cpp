// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "common/mls/public_tree.h"
#include "tests/support/paths.h"
#include "tests/support/seeded_rng.h"

using namespace hearth;
using namespace hearth::mls;
using hearth::test::SeededRng;

namespace {

constexpr std::uint64_t kNow = 1'800'000'000;

Bytes fresh_public_key() {
  static std::uint32_t counter = 0;
  Bytes ikm = to_bytes("node key");
  put_u32(ikm, counter++);
  const auto kp = crypto::hpke::derive_key_pair(ikm);
  return Bytes(kp.public_key.begin(), kp.public_key.end());
}

// A group of signed members, as the tree sees them.
struct Group {
  Bytes group_id = to_bytes("tree test group");
  PublicTree tree;
  std::map<std::uint32_t, crypto::SigningKey> keys;  // leaf -> signing key
  std::uint32_t next_seed = 1;

  LeafNode key_package_leaf(crypto::SigningKey& key_out) {
    const std::uint32_t seed = next_seed++;
    Bytes seed_bytes(32, 0);
    for (int i = 0; i < 4; ++i) seed_bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(seed >> (8 * i));
    key_out = std::move(*crypto::ed25519_from_seed(seed_bytes));
    SeededRng rng(seed);
    KeyPackageOptions o;
    o.lifetime = {kNow - 10, kNow + 1000};
    return create_key_package(basic_credential(to_bytes("m" + std::to_string(seed))), key_out, o, rng)
        .key_package.leaf_node;
  }

  LeafIndex add() {
    crypto::SigningKey key;
    LeafNode leaf = key_package_leaf(key);
    if (tree.width() == 0) {
      tree = PublicTree::with_first_leaf(std::move(leaf));
      keys[0] = std::move(key);
      return LeafIndex{0};
    }
    const auto at = tree.add_leaf(std::move(leaf));
    REQUIRE(at);
    keys[at->v] = std::move(key);
    return *at;
  }

  void remove(LeafIndex l) {
    tree.remove_leaf(l);
    keys.erase(l.v);
  }

  void update(LeafIndex l) {
    LeafNode leaf = *tree.leaf(l);
    leaf.leaf_node_source = LeafNodeSource::Update;
    leaf.lifetime = {};  // not part of an Update leaf
    leaf.encryption_key = fresh_public_key();
    sign_leaf_node(leaf, keys.at(l.v), LeafBinding{group_id, l});
    tree.update_leaf(l, std::move(leaf));
  }

  // What a commit with a path does to the public tree (§7.5, §7.9).
  void commit(LeafIndex l) {
    for (const NodeIndex p : direct_path(to_node(l), tree.n_leaves())) tree.blank(p);
    for (const auto& step : tree.filtered_direct_path(l)) {
      tree.set_parent(step.node, ParentNode{fresh_public_key(), {}, {}});
    }
    LeafNode leaf = *tree.leaf(l);
    leaf.leaf_node_source = LeafNodeSource::Commit;
    leaf.lifetime = {};  // not part of a Commit leaf
    leaf.encryption_key = fresh_public_key();
    leaf.parent_hash = tree.set_path_parent_hashes(l);
    sign_leaf_node(leaf, keys.at(l.v), LeafBinding{group_id, l});
    tree.set_leaf(l, std::move(leaf));
  }

  [[nodiscard]] MlsResult<void> validate() const {
    return tree.validate(group_id, tree.tree_hash(), {}, kNow);
  }
};

LeafNode cheap_leaf(std::uint32_t i) {
  LeafNode leaf;
  leaf.encryption_key = Bytes(32, 0);
  put_u32(leaf.encryption_key, i);
  leaf.signature_key = leaf.encryption_key;
  return leaf;
}

std::vector<std::uint32_t> node_values(const std::vector<NodeIndex>& v) {
  std::vector<std::uint32_t> out;
  for (const NodeIndex n : v) out.push_back(n.v);
  return out;
}

// Every node's hash from a tree rebuilt from the wire, whose cache is empty.
void check_hashes_from_scratch(const PublicTree& tree) {
  const auto scratch = PublicTree::from_wire(tree.to_wire());
  REQUIRE(scratch);
  REQUIRE(scratch->width() == tree.width());
  CHECK(scratch->tree_hash() == tree.tree_hash());
  for (std::uint32_t i = 0; i < tree.width(); ++i) CHECK(scratch->tree_hash(NodeIndex{i}) == tree.tree_hash(NodeIndex{i}));
}

ParentNode& parent_at(RatchetTree& w, std::uint32_t n) { return std::get<ParentNode>(w.nodes.at(n)->value); }
LeafNode& leaf_at(RatchetTree& w, std::uint32_t l) { return std::get<LeafNode>(w.nodes.at(2 * l)->value); }

}  // namespace

TEST_CASE("public tree: add fills the leftmost blank and extends", "[mls][public_tree]") {
  crypto::init();
  PublicTree t = PublicTree::with_first_leaf(cheap_leaf(0));
  CHECK(t.n_leaves() == 1);
  CHECK(t.add_leaf(cheap_leaf(1)).value() == LeafIndex{1});
  CHECK(t.n_leaves() == 2);
  CHECK(t.add_leaf(cheap_leaf(2)).value() == LeafIndex{2});
  CHECK(t.n_leaves() == 4);
  CHECK(t.width() == 7);
  CHECK(t.add_leaf(cheap_leaf(3)).value() == LeafIndex{3});
  CHECK(t.add_leaf(cheap_leaf(4)).value() == LeafIndex{4});
  CHECK(t.n_leaves() == 8);
  t.remove_leaf(LeafIndex{1});
  CHECK(t.n_leaves() == 8);
  CHECK(t.add_leaf(cheap_leaf(5)).value() == LeafIndex{1});
  CHECK(*t.leaf(LeafIndex{1}) == cheap_leaf(5));
  CHECK(t.member_count() == 5);
  CHECK(t.members() == std::vector<LeafIndex>{{0}, {1}, {2}, {3}, {4}});
  CHECK(t.find_leaf([](const LeafNode& l) { return l == cheap_leaf(3); }) == LeafIndex{3});
  CHECK(!t.find_leaf([](const LeafNode&) { return false; }));
  CHECK(t.leaf(LeafIndex{5}) == nullptr);
  CHECK(t.leaf(LeafIndex{100}) == nullptr);
  CHECK(t.node(NodeIndex{1000}) == nullptr);
  CHECK(t.encryption_key(NodeIndex{0}).has_value());
  CHECK(!t.encryption_key(NodeIndex{1}).has_value());
  // An empty tree takes its first leaf at 0.
  PublicTree empty;
  CHECK(empty.n_leaves() == 0);
  CHECK(empty.add_leaf(cheap_leaf(0)).value() == LeafIndex{0});
}

TEST_CASE("public tree: at most kMaxGroupLeaves leaves", "[mls][public_tree]") {
  PublicTree t = PublicTree::with_first_leaf(cheap_leaf(0));
  for (std::uint32_t i = 1; i < kMaxGroupLeaves; ++i) REQUIRE(t.add_leaf(cheap_leaf(i)));
  CHECK(t.n_leaves() == kMaxGroupLeaves);
  CHECK(t.add_leaf(cheap_leaf(kMaxGroupLeaves)).error() == Error::TooManyMembers);
  t.remove_leaf(LeafIndex{7});
  CHECK(t.add_leaf(cheap_leaf(kMaxGroupLeaves)).value() == LeafIndex{7});
  // The wire form of the full tree is accepted; one more leaf is refused.
  RatchetTree w = t.to_wire();
  CHECK(PublicTree::from_wire(w));
  w.nodes.emplace_back();
  w.nodes.emplace_back(Node{cheap_leaf(9999)});
  CHECK(PublicTree::from_wire(w).error() == Error::TooManyMembers);
}

TEST_CASE("public tree: remove blanks the path and truncates", "[mls][public_tree]") {
  crypto::init();
  Group g;
  for (int i = 0; i < 5; ++i) g.add();
  g.commit(LeafIndex{4});
  CHECK(g.tree.n_leaves() == 8);
  CHECK(!g.tree.is_blank(NodeIndex{7}));
  g.remove(LeafIndex{3});
  CHECK(g.tree.n_leaves() == 8);  // leaf 4 keeps the right half
  CHECK(g.tree.is_blank(NodeIndex{6}));
  CHECK(g.tree.is_blank(NodeIndex{5}));
  CHECK(g.tree.is_blank(NodeIndex{3}));
  CHECK(g.tree.is_blank(NodeIndex{7}));
  g.remove(LeafIndex{4});
  CHECK(g.tree.n_leaves() == 4);
  CHECK(g.tree.width() == 7);
  g.remove(LeafIndex{2});
  CHECK(g.tree.n_leaves() == 2);
  CHECK(g.tree.to_wire().nodes.size() == 3);
  g.remove(LeafIndex{0});
  CHECK(g.tree.n_leaves() == 2);  // leaf 1 remains in the right half
  CHECK(g.tree.to_wire().nodes.size() == 3);
  CHECK(g.tree.is_blank(NodeIndex{0}));
  check_hashes_from_scratch(g.tree);
}

TEST_CASE("public tree: unmerged leaves and resolution", "[mls][public_tree]") {
  crypto::init();
  Group g;
  for (int i = 0; i < 3; ++i) g.add();
  g.commit(LeafIndex{0});
  // Leaf 0's filtered direct path: node 1 (copath leaf 1) and node 3 (copath node 5).
  const auto steps = g.tree.filtered_direct_path(LeafIndex{0});
  REQUIRE(steps.size() == 2);
  CHECK(steps[0].node == NodeIndex{1});
  CHECK(steps[0].copath_child == NodeIndex{2});
  CHECK(steps[1].node == NodeIndex{3});
  CHECK(steps[1].copath_child == NodeIndex{5});
  CHECK(g.tree.is_blank(NodeIndex{5}));
  CHECK(g.add() == LeafIndex{3});
  CHECK(g.tree.parent_node(NodeIndex{3})->unmerged_leaves == std::vector<std::uint32_t>{3});
  CHECK(g.tree.parent_node(NodeIndex{1})->unmerged_leaves.empty());
  CHECK(node_values(g.tree.resolution(NodeIndex{3})) == std::vector<std::uint32_t>{3, 6});
  CHECK(node_values(g.tree.resolution(NodeIndex{5})) == std::vector<std::uint32_t>{4, 6});
  const std::vector<LeafIndex> joiners{{3}};
  CHECK(node_values(g.tree.resolution(NodeIndex{3}, joiners)) == std::vector<std::uint32_t>{3});
  CHECK(node_values(g.tree.resolution(NodeIndex{5}, joiners)) == std::vector<std::uint32_t>{4});
  CHECK(node_values(g.tree.resolution(NodeIndex{6})) == std::vector<std::uint32_t>{6});
  CHECK(g.tree.resolution(NodeIndex{99}).empty());
  // The sibling's original tree hash leaves the unmerged leaf 3 out: still valid.
  CHECK(g.tree.verify_parent_hashes());
  CHECK(g.tree.verify_path_parent_hashes(LeafIndex{0}));
  CHECK(g.validate());
  // A commit by 2 merges leaf 3 into node 3 again.
  g.commit(LeafIndex{2});
  CHECK(g.tree.parent_node(NodeIndex{3})->unmerged_leaves.empty());
  CHECK(g.validate());
  // Two adds into a tree with non-blank parents; then the tree doubles.
  g.remove(LeafIndex{1});
  g.commit(LeafIndex{0});
  CHECK(g.add() == LeafIndex{1});
  CHECK(g.tree.is_blank(NodeIndex{1}));  // leaf 1 was blank: not on 0's filtered path
  CHECK(g.tree.parent_node(NodeIndex{3})->unmerged_leaves == std::vector<std::uint32_t>{1});
  CHECK(g.add() == LeafIndex{4});
  CHECK(g.tree.n_leaves() == 8);
  CHECK(g.tree.is_blank(NodeIndex{7}));
  CHECK(g.validate());
  check_hashes_from_scratch(g.tree);
}

TEST_CASE("public tree: wire round trip", "[mls][public_tree]") {
  crypto::init();
  Group g;
  for (int i = 0; i < 6; ++i) g.add();
  g.commit(LeafIndex{1});
  g.add();
  const RatchetTree w = g.tree.to_wire();
  CHECK(w.nodes.back().has_value());
  const auto back = PublicTree::from_wire(w);
  REQUIRE(back);
  CHECK(*back == g.tree);
  CHECK(back->to_wire() == w);
  CHECK(back->tree_hash() == g.tree.tree_hash());
  const auto decoded = decode<RatchetTree>(encode(w));
  REQUIRE(decoded);
  CHECK(*decoded == w);
  // A copy carries its cache and stays equal after the same change.
  PublicTree copy = g.tree;
  copy.remove_leaf(LeafIndex{0});
  g.tree.remove_leaf(LeafIndex{0});
  CHECK(copy == g.tree);
  CHECK(copy.tree_hash() == g.tree.tree_hash());
}

TEST_CASE("public tree: bad shapes in from_wire", "[mls][public_tree]") {
  crypto::init();
  Group g;
  for (int i = 0; i < 3; ++i) g.add();
  g.commit(LeafIndex{0});
  g.add();
  const RatchetTree good = g.tree.to_wire();
  REQUIRE(PublicTree::from_wire(good));

  CHECK(PublicTree::from_wire(RatchetTree{}).error() == Error::InvalidTree);
  RatchetTree w = good;
  w.nodes.emplace_back();  // trailing blank
  CHECK(PublicTree::from_wire(w).error() == Error::InvalidTree);
  w = good;
  w.nodes[2] = Node{ParentNode{fresh_public_key(), {}, {}}};  // parent at a leaf position
  CHECK(PublicTree::from_wire(w).error() == Error::InvalidTree);
  w = good;
  w.nodes[5] = Node{cheap_leaf(77)};  // leaf at a parent position
  CHECK(PublicTree::from_wire(w).error() == Error::InvalidTree);
  w = good;
  parent_at(w, 3).unmerged_leaves = {4};  // outside a 4-leaf tree
  CHECK(PublicTree::from_wire(w).error() == Error::InvalidTree);
  // A tree ending in a parent node is padded to the next full width.
  RatchetTree two{{Node{cheap_leaf(1)}, Node{ParentNode{fresh_public_key(), {}, {}}}}};
  const auto padded = PublicTree::from_wire(two);
  REQUIRE(padded);
  CHECK(padded->n_leaves() == 2);
  CHECK(padded->to_wire() == two);
}

TEST_CASE("public tree: cached tree hash equals a from-scratch one after random changes", "[mls][public_tree]") {
  crypto::init();
  std::mt19937 rng(4711);
  Group g;
  for (int i = 0; i < 4; ++i) g.add();
  for (int step = 0; step < 60; ++step) {
    const auto members = g.tree.members();
    const auto pick = [&] { return members[rng() % members.size()]; };
    switch (rng() % 4) {
      case 0: g.add(); break;
      case 1:
        if (members.size() > 2) g.remove(pick());
        break;
      case 2: g.update(pick()); break;
      default: g.commit(pick()); break;
    }
    // Hash before any other reads, so the cache is what is tested.
    const Digest cached = g.tree.tree_hash();
    const auto scratch = PublicTree::from_wire(g.tree.to_wire());
    REQUIRE(scratch);
    REQUIRE(cached == scratch->tree_hash());
    check_hashes_from_scratch(g.tree);
    REQUIRE(g.validate());
  }
}

TEST_CASE("public tree: a commit recomputes O(log n) tree hashes", "[mls][public_tree]") {
  crypto::init();
  Group g;
  for (int i = 0; i < 200; ++i) g.add();
  REQUIRE(g.tree.n_leaves() == 256);
  const std::size_t width = g.tree.width();
  (void)g.tree.tree_hash();
  CHECK(g.tree.cached_hash_count() == width);
  // A commit changes the committer's leaf and its direct path: 9 nodes of 511.
  g.commit(LeafIndex{77});
  CHECK(g.tree.cached_hash_count() >= width - 9);
  (void)g.tree.tree_hash();
  CHECK(g.tree.cached_hash_count() == width);
  // An add and a remove: the new leaf's path, the removed leaf's path.
  g.add();
  CHECK(g.tree.cached_hash_count() >= width - 9);
  (void)g.tree.tree_hash();
  g.remove(LeafIndex{5});
  CHECK(g.tree.cached_hash_count() >= width - 9);
  check_hashes_from_scratch(g.tree);
}

TEST_CASE("public tree: parent hashes and their tamper", "[mls][public_tree]") {
  crypto::init();
  Group g;
  for (int i = 0; i < 7; ++i) g.add();
  g.commit(LeafIndex{6});
  g.commit(LeafIndex{0});
  g.commit(LeafIndex{3});
  g.add();  // leaf 7, unmerged in the nodes above it
  CHECK(g.tree.verify_path_parent_hashes(LeafIndex{3}));
  CHECK(g.tree.verify_parent_hashes());
  CHECK(g.validate());
  // The paths of 0 and 6 were partly overwritten by 3's: their own chains no
  // longer reach the root, though every parent node is still parent-hash valid.
  CHECK(g.tree.verify_path_parent_hashes(LeafIndex{0}).error() == Error::InvalidParentHash);
  CHECK(g.tree.verify_path_parent_hashes(LeafIndex{6}).error() == Error::InvalidParentHash);
  // A KeyPackage leaf with a non-empty filtered direct path has no chain.
  CHECK(g.tree.verify_path_parent_hashes(LeafIndex{7}).error() == Error::InvalidParentHash);
  CHECK(g.tree.verify_path_parent_hashes(LeafIndex{20}).error() == Error::InvalidParentHash);

  const RatchetTree good = g.tree.to_wire();
  auto validate_wire = [&](const RatchetTree& w) -> MlsResult<void> {
    auto t = PublicTree::from_wire(w);
    REQUIRE(t);
    return t->validate(g.group_id, t->tree_hash(), {}, kNow);
  };
  REQUIRE(validate_wire(good));

  // A wrong parent_hash in a parent node.
  RatchetTree w = good;
  parent_at(w, 3).parent_hash[0] ^= 1;
  CHECK(PublicTree::from_wire(w)->verify_parent_hashes().error() == Error::InvalidParentHash);
  CHECK(validate_wire(w).error() == Error::InvalidParentHash);
  // A replaced key in a parent node.
  w = good;
  parent_at(w, 7).encryption_key = fresh_public_key();
  CHECK(validate_wire(w).error() == Error::InvalidParentHash);
  // A parent node nobody's chain covers.
  w = good;
  REQUIRE(!w.nodes[9].has_value());
  w.nodes[9] = Node{ParentNode{fresh_public_key(), {}, {}}};
  CHECK(validate_wire(w).error() == Error::InvalidParentHash);
  // A removed unmerged leaf changes the original sibling hash.
  w = good;
  REQUIRE(!parent_at(w, 7).unmerged_leaves.empty());
  w.nodes[7]->value = ParentNode{parent_at(w, 7).encryption_key, parent_at(w, 7).parent_hash, {}};
  CHECK(validate_wire(w).error() == Error::InvalidParentHash);

  // The tree hash is checked against the expected one.
  const auto t = PublicTree::from_wire(good);
  Digest wrong = t->tree_hash();
  wrong[0] ^= 1;
  CHECK(t->validate(g.group_id, wrong, {}, kNow).error() == Error::TreeHashMismatch);
  // Commit and Update leaves are bound to the group id.
  CHECK(t->validate(to_bytes("another group"), t->tree_hash(), {}, kNow).error() == Error::InvalidSignature);
}

TEST_CASE("public tree: validate rejects bad leaves, duplicate keys, bad unmerged lists", "[mls][public_tree]") {
  crypto::init();
  Group g;
  for (int i = 0; i < 4; ++i) g.add();
  g.remove(LeafIndex{3});
  g.update(LeafIndex{1});
  g.commit(LeafIndex{0});
  g.add();  // leaf 3, unmerged at node 3
  REQUIRE(g.validate());
  const RatchetTree good = g.tree.to_wire();
  auto validate_wire = [&](const RatchetTree& w, std::optional<std::uint64_t> now = kNow) -> MlsResult<void> {
    auto t = PublicTree::from_wire(w);
    REQUIRE(t);
    return t->validate(g.group_id, t->tree_hash(), {}, now);
  };

  RatchetTree w = good;
  leaf_at(w, 2).signature[3] ^= 1;
  CHECK(validate_wire(w).error() == Error::InvalidSignature);
  w = good;
  leaf_at(w, 1).signature[3] ^= 1;  // an Update leaf
  CHECK(validate_wire(w).error() == Error::InvalidSignature);
  w = good;
  leaf_at(w, 0).signature[3] ^= 1;  // a Commit leaf
  CHECK(validate_wire(w).error() == Error::InvalidSignature);

  // Duplicate keys: two leaves, a leaf and a parent.
  w = good;
  leaf_at(w, 2).signature_key = leaf_at(w, 3).signature_key;
  CHECK(validate_wire(w).error() == Error::InvalidTree);
  w = good;
  leaf_at(w, 2).encryption_key = leaf_at(w, 3).encryption_key;
  CHECK(validate_wire(w).error() == Error::InvalidTree);
  w = good;
  parent_at(w, 3).encryption_key = leaf_at(w, 2).encryption_key;
  CHECK(validate_wire(w).error() == Error::InvalidTree);
  w = good;
  parent_at(w, 3).encryption_key.pop_back();  // not an X25519 key
  CHECK(validate_wire(w).error() == Error::InvalidTree);

  // Unmerged leaves: not below, blank, unsorted, missing in between.
  w = good;
  REQUIRE(parent_at(w, 3).unmerged_leaves == std::vector<std::uint32_t>{3});
  parent_at(w, 1).unmerged_leaves = {3};  // node 1 covers leaves 0 and 1 only
  CHECK(validate_wire(w).error() == Error::InvalidTree);
  w = good;
  parent_at(w, 3).unmerged_leaves = {3, 2};
  CHECK(validate_wire(w).error() == Error::InvalidTree);
  w = good;
  parent_at(w, 3).unmerged_leaves = {3, 3};
  CHECK(validate_wire(w).error() == Error::InvalidTree);
  w = good;
  w.nodes[5] = Node{ParentNode{fresh_public_key(), {}, {}}};  // between leaf 3 and node 3, without it
  CHECK(validate_wire(w).error() == Error::InvalidTree);

  // Lifetimes of KeyPackage leaves, and the skip switch.
  CHECK(validate_wire(good, kNow + 100'000).error() == Error::LifetimeExpired);
  CHECK(validate_wire(good, std::nullopt));
  // Group extensions every leaf must support.
  const auto t = PublicTree::from_wire(good);
  const std::vector<Extension> unsupported{Extension{0xff42, {}}};
  CHECK(t->validate(g.group_id, t->tree_hash(), unsupported, kNow).error() == Error::InvalidLeafNode);
  CHECK(PublicTree().validate(g.group_id, {}, {}, kNow).error() == Error::InvalidTree);
}

TEST_CASE("public tree: check_new_leaf", "[mls][public_tree]") {
  crypto::init();
  Group g;
  for (int i = 0; i < 3; ++i) g.add();
  g.commit(LeafIndex{0});
  crypto::SigningKey key;
  const LeafNode fresh = g.key_package_leaf(key);
  CHECK(g.tree.check_new_leaf(fresh, std::nullopt));

  LeafNode dup = fresh;
  dup.encryption_key = g.tree.leaf(LeafIndex{1})->encryption_key;
  CHECK(g.tree.check_new_leaf(dup, std::nullopt).error() == Error::InvalidLeafNode);
  // Replacing leaf 1 itself: it must bring a new encryption key...
  CHECK(g.tree.check_new_leaf(dup, LeafIndex{1}).error() == Error::InvalidLeafNode);
  // ...but may keep its signature key, and may not take another member's.
  dup = fresh;
  dup.signature_key = g.tree.leaf(LeafIndex{1})->signature_key;
  CHECK(g.tree.check_new_leaf(dup, LeafIndex{1}));
  CHECK(g.tree.check_new_leaf(dup, LeafIndex{2}).error() == Error::InvalidLeafNode);
  dup = fresh;
  dup.signature_key = g.tree.leaf(LeafIndex{2})->signature_key;
  CHECK(g.tree.check_new_leaf(dup, std::nullopt).error() == Error::InvalidLeafNode);
  CHECK(g.tree.check_new_leaf(dup, LeafIndex{2}));
  CHECK(g.tree.check_new_leaf(dup, LeafIndex{0}).error() == Error::InvalidLeafNode);
  dup = fresh;
  dup.encryption_key.assign(g.tree.encryption_key(NodeIndex{3})->begin(), g.tree.encryption_key(NodeIndex{3})->end());
  CHECK(g.tree.check_new_leaf(dup, std::nullopt).error() == Error::InvalidLeafNode);
  // Credential types must be mutually supported.
  LeafNode other = fresh;
  other.capabilities.credentials = {2};
  CHECK(g.tree.check_new_leaf(other, std::nullopt).error() == Error::InvalidLeafNode);
}

TEST_CASE("public tree: hostile encodings never crash from_wire or validate", "[mls][public_tree]") {
  crypto::init();
  Group g;
  for (int i = 0; i < 5; ++i) g.add();
  g.commit(LeafIndex{1});
  g.add();
  const Bytes good = encode(g.tree.to_wire());
  const Digest good_hash = g.tree.tree_hash();
  std::mt19937 rng(99);
  std::size_t decoded = 0;
  std::size_t rejected = 0;
  for (int round = 0; round < 400; ++round) {
    Bytes bad = good;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) bad[rng() % bad.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
    if (round % 10 == 0) bad.resize(rng() % bad.size());
    const auto wire = decode<RatchetTree>(bad);
    if (!wire) continue;
    const auto tree = PublicTree::from_wire(*wire);
    if (!tree) continue;
    ++decoded;
    // Against its own hash, so the other checks run; a changed tree never
    // passes against the original hash.
    const auto own = tree->validate(g.group_id, tree->tree_hash(), {}, kNow);
    const auto orig = tree->validate(g.group_id, good_hash, {}, kNow);
    if (!own) ++rejected;
    if (*wire != g.tree.to_wire()) CHECK(!orig);
    (void)tree->verify_parent_hashes();
    for (const LeafIndex l : tree->members()) (void)tree->verify_path_parent_hashes(l);
  }
  CHECK(decoded > 0);
  CHECK(rejected == decoded);  // every flip lands in a signed, hashed or checked field
}

// The treekem vectors' UpdatePaths, applied to the public tree alone: the
// parent hashes we compute for the merged path are the ones the sender
// signed, and the tree hash after is the vector's (trees with unmerged
// leaves and blank nodes, so the original-sibling-hash rule is exercised).
TEST_CASE("public tree: treekem vector paths merge with matching parent and tree hashes", "[mls][public_tree]") {
  crypto::init();
  std::ifstream in(hearth::test::shared_dir() / "mls-vectors" / "treekem.json");
  REQUIRE(in.good());
  const auto all = nlohmann::json::parse(in);
  auto hex = [](const nlohmann::json& j, const char* key) { return from_hex(j.at(key).get<std::string>()).value(); };
  std::size_t paths = 0;
  for (const auto& c : all) {
    const Bytes group_id = hex(c, "group_id");
    const auto wire = decode<RatchetTree>(hex(c, "ratchet_tree"));
    REQUIRE(wire);
    const auto before = PublicTree::from_wire(*wire);
    REQUIRE(before);
    REQUIRE(before->validate(group_id, before->tree_hash(), {}, std::nullopt));
    for (const auto& u : c.at("update_paths")) {
      const LeafIndex sender{u.at("sender").get<std::uint32_t>()};
      const auto path = decode<UpdatePath>(hex(u, "update_path"));
      REQUIRE(path);
      PublicTree tree = *before;
      for (const NodeIndex p : direct_path(to_node(sender), tree.n_leaves())) tree.blank(p);
      const auto steps = tree.filtered_direct_path(sender);
      REQUIRE(steps.size() == path->nodes.size());
      for (std::size_t i = 0; i < steps.size(); ++i) {
        tree.set_parent(steps[i].node, ParentNode{path->nodes[i].encryption_key, {}, {}});
      }
      CHECK(tree.set_path_parent_hashes(sender) == path->leaf_node.parent_hash);
      tree.set_leaf(sender, path->leaf_node);
      CHECK(tree.verify_path_parent_hashes(sender));
      const Bytes after = hex(u, "tree_hash_after");
      const Digest root_hash = tree.tree_hash();
      CHECK(Bytes(root_hash.begin(), root_hash.end()) == after);
      CHECK(tree.validate(group_id, after, {}, std::nullopt));
      check_hashes_from_scratch(tree);
      ++paths;
    }
  }
  CHECK(paths > 0);
}
