// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "common/crypto/hpke.h"
#include "common/mls/treekem.h"
#include "tests/support/seeded_rng.h"

using namespace hearth;
using namespace hearth::mls;
using hearth::test::SeededRng;

namespace {

bool same(BytesView a, BytesView b) { return std::ranges::equal(a, b); }

Capabilities test_capabilities() {
  Capabilities c;
  c.versions = {kProtocolVersionMls10};
  c.cipher_suites = {kCipherSuite};
  c.credentials = {static_cast<std::uint16_t>(CredentialType::Basic)};
  return c;
}

Credential credential_for(std::uint32_t id) {
  return Credential{CredentialType::Basic, to_bytes("member-" + std::to_string(id)), {}};
}

bool has_unmerged_leaves(const PublicTree& tree) {
  for (std::uint32_t n = 1; n < tree.width(); n += 2) {
    const ParentNode* p = tree.parent_node(NodeIndex{n});
    if (p != nullptr && !p->unmerged_leaves.empty()) return true;
  }
  return false;
}

struct Committed {
  PublicTree tree;  // after proposals and path
  PendingPath pending;
  UpdatePath path;
  Bytes context;
};

// A group of members who each hold a PrivateTree over one shared public tree.
struct Group {
  Bytes group_id = to_bytes("treekem test room");
  std::uint64_t epoch = 0;
  PublicTree tree;
  std::map<std::uint32_t, PrivateTree> keys;            // leaf -> private keys
  std::map<std::uint32_t, crypto::SigningKey> signers;  // leaf -> signing key
  std::map<std::uint32_t, std::uint32_t> ids;           // leaf -> member id
  std::uint32_t next_id = 0;
  SeededRng rng{7};

  struct NewMember {
    std::uint32_t id;
    LeafNode leaf;
    crypto::X25519KeyPair enc;
    crypto::SigningKey sig;
  };

  NewMember new_member() {
    const std::uint32_t id = next_id++;
    Bytes seed(32, 0);
    put_u32(seed, id);
    crypto::SecretBytes ikm(32);
    rng.fill(ikm.mut());
    NewMember m{id, {}, crypto::hpke::derive_key_pair(ikm.view()),
                std::move(*crypto::ed25519_from_seed(BytesView(seed).last(32)))};
    m.leaf.encryption_key = Bytes(m.enc.public_key.begin(), m.enc.public_key.end());
    m.leaf.signature_key = Bytes(m.sig.public_key.begin(), m.sig.public_key.end());
    m.leaf.credential = credential_for(id);
    m.leaf.capabilities = test_capabilities();
    m.leaf.leaf_node_source = LeafNodeSource::KeyPackage;
    m.leaf.lifetime = Lifetime{0, ~std::uint64_t{0}};
    m.leaf.signature = Bytes(64, 0x5a);
    return m;
  }

  static Group with_creator() {
    Group g;
    NewMember m = g.new_member();
    g.tree = PublicTree::with_first_leaf(m.leaf);
    g.keys.emplace(0, PrivateTree(LeafIndex{0}, std::move(m.enc.secret)));
    g.signers.emplace(0, std::move(m.sig));
    g.ids.emplace(0, m.id);
    return g;
  }

  LeafTemplate leaf_template(LeafIndex l) const {
    return LeafTemplate{credential_for(ids.at(l.v)), test_capabilities(), {}};
  }

  Bytes context_for(const PublicTree& t) const {
    GroupContext gc;
    gc.group_id = group_id;
    gc.epoch = epoch + 1;
    const Digest h = t.tree_hash();
    gc.tree_hash = Bytes(h.begin(), h.end());
    gc.confirmed_transcript_hash = Bytes(32, 0xcc);
    return encode(gc);
  }

  /// `base` already has the commit's proposals applied.
  Committed make_commit(LeafIndex sender, PublicTree base, std::span<const LeafIndex> joiners) {
    auto pending = prepare_update_path(base, sender, leaf_template(sender), signers.at(sender.v), group_id, rng);
    REQUIRE(pending);
    Bytes ctx = context_for(base);
    auto path = encrypt_update_path(*pending, base, joiners, ctx, rng);
    REQUIRE(path);
    return Committed{std::move(base), std::move(*pending), std::move(*path), std::move(ctx)};
  }

  /// Adds without a path: the new leaves become unmerged at their non-blank ancestors.
  void add_without_path(int count) {
    for (int i = 0; i < count; ++i) {
      NewMember m = new_member();
      const auto l = tree.add_leaf(m.leaf);
      REQUIRE(l);
      keys.emplace(l->v, PrivateTree(*l, std::move(m.enc.secret)));
      signers.insert_or_assign(l->v, std::move(m.sig));
      ids.insert_or_assign(l->v, m.id);
    }
  }

  void remove(LeafIndex l) {
    tree.remove_leaf(l);
    keys.erase(l.v);
    signers.erase(l.v);
    ids.erase(l.v);
    for (auto& [m, priv] : keys) {
      priv.prune(tree);
      REQUIRE(priv.check_consistent(tree));
    }
  }

  /// A commit by `sender` that adds `adds` members: every other member merges
  /// and decrypts it, every joiner implants its Welcome path secret, and all
  /// must reach the committer's commit secret. Returns how many members
  /// decrypted. With `adopt`, the group moves to the new epoch.
  std::size_t commit(LeafIndex sender, int adds, bool adopt) {
    PublicTree next = tree;
    std::vector<NewMember> added;
    std::vector<LeafIndex> joiners;
    for (int i = 0; i < adds; ++i) {
      added.push_back(new_member());
      const auto l = next.add_leaf(added.back().leaf);
      REQUIRE(l);
      joiners.push_back(*l);
    }
    Committed c = make_commit(sender, next, joiners);
    const BytesView expected = c.pending.commit_secret.view();

    std::map<std::uint32_t, PrivateTree> new_keys;
    std::size_t decrypted = 0;
    for (const auto& [m, priv] : keys) {
      if (m == sender.v) continue;
      PublicTree theirs = tree;
      for (const auto& a : added) REQUIRE(theirs.add_leaf(a.leaf));
      REQUIRE(merge_update_path(theirs, sender, c.path));
      REQUIRE(theirs == c.tree);
      CHECK(theirs.tree_hash() == c.tree.tree_hash());
      auto dec = decrypt_update_path(theirs, priv, sender, c.path, joiners, c.context);
      REQUIRE(dec);
      CHECK(same(dec->commit_secret.view(), expected));
      CHECK(dec->path_secret_node == common_ancestor(to_node(sender), to_node(LeafIndex{m})));
      REQUIRE(dec->private_tree.check_consistent(theirs));
      new_keys.emplace(m, std::move(dec->private_tree));
      ++decrypted;
    }
    for (std::size_t i = 0; i < joiners.size(); ++i) {
      PrivateTree mine(joiners[i], added[i].enc.secret.clone());
      // Excluded from the resolutions: nothing in the path is for a joiner.
      CHECK(decrypt_update_path(c.tree, mine, sender, c.path, joiners, c.context).error() == Error::DecryptFailed);
      auto secret = path_secret_for(c.pending, joiners[i]);
      REQUIRE(secret);
      auto commit_secret =
          mine.implant(c.tree, common_ancestor(to_node(sender), to_node(joiners[i])), std::move(*secret));
      REQUIRE(commit_secret);
      CHECK(same(commit_secret->view(), expected));
      REQUIRE(mine.check_consistent(c.tree));
      new_keys.emplace(joiners[i].v, std::move(mine));
    }
    REQUIRE(c.pending.private_tree.check_consistent(c.tree));
    if (adopt) {
      new_keys.emplace(sender.v, c.pending.private_tree.clone());
      for (std::size_t i = 0; i < joiners.size(); ++i) {
        signers.insert_or_assign(joiners[i].v, std::move(added[i].sig));
        ids.insert_or_assign(joiners[i].v, added[i].id);
      }
      tree = std::move(c.tree);
      keys = std::move(new_keys);
      ++epoch;
    }
    return decrypted;
  }
};

/// 16 leaf slots: 13 members, blanks (removed leaves, an empty right edge)
/// and unmerged leaves (added without a path under non-blank parents).
Group messy_group() {
  Group g = Group::with_creator();
  g.commit(LeafIndex{0}, 11, true);  // leaves 0..11
  g.remove(LeafIndex{3});
  g.remove(LeafIndex{8});
  g.commit(LeafIndex{5}, 0, true);  // 5's path, root included, is set again
  g.add_without_path(3);            // leaves 3, 8 and 12, unmerged
  return g;
}

}  // namespace

TEST_CASE("treekem: every member decrypts every other member's path", "[mls][treekem]") {
  crypto::init();
  Group g = messy_group();
  REQUIRE(g.tree.n_leaves() == 16);
  REQUIRE(g.keys.size() == 13);
  REQUIRE(has_unmerged_leaves(g.tree));
  REQUIRE(g.tree.is_blank(to_node(LeafIndex{13})));

  std::vector<std::uint32_t> members;
  for (const auto& [m, priv] : g.keys) members.push_back(m);
  for (const std::uint32_t s : members) {
    INFO("sender " << s);
    CHECK(g.commit(LeafIndex{s}, 0, false) == members.size() - 1);
  }
  // Commits that are adopted, from unmerged leaves first, with an Add too.
  for (const std::uint32_t s : {3u, 12u, 0u, 8u, 10u}) {
    INFO("adopted commit from " << s);
    g.commit(LeafIndex{s}, s == 0 ? 1 : 0, true);
    for (const auto& [m, priv] : g.keys) REQUIRE(priv.check_consistent(g.tree));
  }
  CHECK_FALSE(has_unmerged_leaves(g.tree));
}

TEST_CASE("treekem: an unmerged leaf gets its own ciphertext", "[mls][treekem]") {
  crypto::init();
  Group g = messy_group();
  // Leaf 12 is unmerged at the root; a commit from the left half encrypts
  // the root's path secret to the right subtree's resolution, which lists it.
  const auto c = g.make_commit(LeafIndex{1}, g.tree, {});
  const auto steps = c.tree.filtered_direct_path(LeafIndex{1});
  REQUIRE(steps.size() == c.path.nodes.size());
  bool found = false;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const auto res = c.tree.resolution(steps[i].copath_child);
    CHECK(res.size() == c.path.nodes[i].encrypted_path_secret.size());
    if (std::find(res.begin(), res.end(), to_node(LeafIndex{12})) != res.end()) found = true;
  }
  CHECK(found);
}

TEST_CASE("treekem: joiners are excluded from the path", "[mls][treekem]") {
  crypto::init();
  Group g = Group::with_creator();
  g.commit(LeafIndex{0}, 3, true);  // leaves 0..3
  PublicTree next = g.tree;
  Group::NewMember joiner = g.new_member();
  const auto j = next.add_leaf(joiner.leaf);
  REQUIRE(j);
  REQUIRE(j->v == 4);
  const std::vector<LeafIndex> joiners{*j};
  const auto c = g.make_commit(LeafIndex{1}, next, joiners);
  // The root's copath child is node 11 (leaves 4..7): its resolution is the
  // joiner alone, so nobody gets a ciphertext for it.
  const auto steps = c.tree.filtered_direct_path(LeafIndex{1});
  REQUIRE(steps.back().copath_child == NodeIndex{11});
  CHECK(c.path.nodes.back().encrypted_path_secret.empty());
  const PrivateTree mine(*j, joiner.enc.secret.clone());
  CHECK(decrypt_update_path(c.tree, mine, LeafIndex{1}, c.path, joiners, c.context).error() == Error::DecryptFailed);

  // Without the exclusion it would have been able to read it.
  Bytes ctx = c.context;
  auto open = encrypt_update_path(c.pending, c.tree, {}, ctx, g.rng);
  REQUIRE(open);
  CHECK(open->nodes.back().encrypted_path_secret.size() == 1);
  auto dec = decrypt_update_path(c.tree, mine, LeafIndex{1}, *open, {}, ctx);
  REQUIRE(dec);
  CHECK(same(dec->commit_secret.view(), c.pending.commit_secret.view()));
  // The Welcome's path secret is the root's (the joiner's LCA with leaf 1).
  const auto secret = path_secret_for(c.pending, *j);
  REQUIRE(secret);
  CHECK(same(secret->view(), c.pending.path_secrets.back().view()));
  CHECK_FALSE(path_secret_for(c.pending, LeafIndex{1}));  // the committer itself
}

TEST_CASE("treekem: tampered ciphertext and wrong context fail to decrypt", "[mls][treekem]") {
  crypto::init();
  Group g = messy_group();
  const LeafIndex sender{4};
  const LeafIndex receiver{5};  // its LCA with 4 is their parent, node 9
  const auto c = g.make_commit(sender, g.tree, {});
  const PrivateTree& mine = g.keys.at(receiver.v);
  REQUIRE(decrypt_update_path(c.tree, mine, sender, c.path, {}, c.context));
  REQUIRE(c.tree.filtered_direct_path(sender).front().node == NodeIndex{9});

  SECTION("a flipped ciphertext byte") {
    UpdatePath bad = c.path;
    bad.nodes.front().encrypted_path_secret.front().ciphertext[3] ^= 1;
    CHECK(decrypt_update_path(c.tree, mine, sender, bad, {}, c.context).error() == Error::DecryptFailed);
  }
  SECTION("a flipped kem_output byte") {
    UpdatePath bad = c.path;
    bad.nodes.front().encrypted_path_secret.front().kem_output[0] ^= 1;
    CHECK(decrypt_update_path(c.tree, mine, sender, bad, {}, c.context).error() == Error::DecryptFailed);
  }
  SECTION("a truncated kem_output") {
    UpdatePath bad = c.path;
    bad.nodes.front().encrypted_path_secret.front().kem_output.pop_back();
    CHECK(decrypt_update_path(c.tree, mine, sender, bad, {}, c.context).error() == Error::DecryptFailed);
  }
  SECTION("another group context (epoch)") {
    Bytes ctx = c.context;
    g.epoch += 1;
    const Bytes other = g.context_for(c.tree);
    REQUIRE(other != ctx);
    CHECK(decrypt_update_path(c.tree, mine, sender, c.path, {}, other).error() == Error::DecryptFailed);
  }
  SECTION("another group context (one byte)") {
    Bytes ctx = c.context;
    ctx.back() ^= 1;
    CHECK(decrypt_update_path(c.tree, mine, sender, c.path, {}, ctx).error() == Error::DecryptFailed);
  }
  SECTION("a receiver without the right key") {
    PrivateTree stranger(receiver, crypto::Secret<crypto::kX25519KeySize>(Bytes(32, 9)));
    CHECK(decrypt_update_path(c.tree, stranger, sender, c.path, {}, c.context).error() == Error::DecryptFailed);
  }
  SECTION("the committer's own path") {
    CHECK(decrypt_update_path(c.tree, c.pending.private_tree, sender, c.path, {}, c.context).error() ==
          Error::InvalidCommit);
  }
}

TEST_CASE("treekem: a path key that does not match its secret is InvalidTree", "[mls][treekem]") {
  crypto::init();
  Group g = messy_group();
  const LeafIndex sender{0};
  const LeafIndex receiver{1};  // decrypts at node 1, derives the rest
  PublicTree next = g.tree;
  auto pending = prepare_update_path(next, sender, g.leaf_template(sender), g.signers.at(0), g.group_id, g.rng);
  REQUIRE(pending);
  REQUIRE(pending->steps.size() >= 2);

  SECTION("a consistent tree with one node's key swapped (a cheating committer)") {
    // Swap the key of the second step, then redo the parent hashes and the
    // leaf signature so that the merge itself succeeds.
    const NodeIndex swapped = pending->steps[1].node;
    const auto other = crypto::hpke::derive_key_pair(as_bytes("not the path secret"));
    next.set_parent(swapped, ParentNode{Bytes(other.public_key.begin(), other.public_key.end()), {}, {}});
    pending->leaf.parent_hash = next.set_path_parent_hashes(sender);
    sign_leaf_node(pending->leaf, g.signers.at(0), LeafBinding{g.group_id, sender});
    next.set_leaf(sender, pending->leaf);
    const Bytes ctx = g.context_for(next);
    auto path = encrypt_update_path(*pending, next, {}, ctx, g.rng);
    REQUIRE(path);
    PublicTree theirs = g.tree;
    REQUIRE(merge_update_path(theirs, sender, *path));
    CHECK(decrypt_update_path(theirs, g.keys.at(receiver.v), sender, *path, {}, ctx).error() ==
          Error::InvalidTree);
  }
  SECTION("a tree that differs from the path") {
    const Bytes ctx = g.context_for(next);
    auto path = encrypt_update_path(*pending, next, {}, ctx, g.rng);
    REQUIRE(path);
    UpdatePath bad = *path;
    std::swap(bad.nodes[0].encryption_key, bad.nodes[1].encryption_key);
    CHECK(decrypt_update_path(next, g.keys.at(receiver.v), sender, bad, {}, ctx).error() == Error::InvalidTree);
  }
}

TEST_CASE("treekem: paths of the wrong length are InvalidCommit", "[mls][treekem]") {
  crypto::init();
  Group g = messy_group();
  const LeafIndex sender{2};
  const auto c = g.make_commit(sender, g.tree, {});
  REQUIRE(c.path.nodes.size() >= 2);

  UpdatePath shorter = c.path;
  shorter.nodes.pop_back();
  UpdatePath longer = c.path;
  const UpdatePathNode last = longer.nodes.back();
  longer.nodes.push_back(last);
  for (const UpdatePath* bad : {&shorter, &longer}) {
    PublicTree theirs = g.tree;
    CHECK(merge_update_path(theirs, sender, *bad).error() == Error::InvalidCommit);
    CHECK(decrypt_update_path(c.tree, g.keys.at(0), sender, *bad, {}, c.context).error() == Error::InvalidCommit);
  }
  // A ciphertext more or less than the resolution has nodes.
  UpdatePath extra = c.path;
  for (auto& node : extra.nodes) {
    REQUIRE_FALSE(node.encrypted_path_secret.empty());
    const HpkeCiphertext first = node.encrypted_path_secret.front();
    node.encrypted_path_secret.push_back(first);
  }
  CHECK(decrypt_update_path(c.tree, g.keys.at(0), sender, extra, {}, c.context).error() == Error::InvalidCommit);
  UpdatePath missing = c.path;
  for (auto& node : missing.nodes) {
    REQUIRE_FALSE(node.encrypted_path_secret.empty());
    node.encrypted_path_secret.pop_back();
  }
  CHECK(decrypt_update_path(c.tree, g.keys.at(0), sender, missing, {}, c.context).error() == Error::InvalidCommit);
}

TEST_CASE("treekem: parent hashes and keys of a merged path are checked", "[mls][treekem]") {
  crypto::init();
  Group g = messy_group();
  const LeafIndex sender{6};
  const auto c = g.make_commit(sender, g.tree, {});
  {
    PublicTree theirs = g.tree;
    REQUIRE(merge_update_path(theirs, sender, c.path));
  }
  SECTION("a flipped byte of the leaf's parent hash") {
    UpdatePath bad = c.path;
    REQUIRE_FALSE(bad.leaf_node.parent_hash.empty());
    bad.leaf_node.parent_hash[0] ^= 1;
    PublicTree theirs = g.tree;
    CHECK(merge_update_path(theirs, sender, bad).error() == Error::InvalidParentHash);
  }
  SECTION("a path key replaced by a fresh one (hashes not redone)") {
    UpdatePath bad = c.path;
    const auto other = crypto::hpke::derive_key_pair(as_bytes("fresh"));
    bad.nodes.back().encryption_key = Bytes(other.public_key.begin(), other.public_key.end());
    PublicTree theirs = g.tree;
    CHECK(merge_update_path(theirs, sender, bad).error() == Error::InvalidParentHash);
  }
  SECTION("a path key already in the tree") {
    UpdatePath bad = c.path;
    bad.nodes.back().encryption_key = g.tree.leaf(LeafIndex{0})->encryption_key;
    PublicTree theirs = g.tree;
    CHECK(merge_update_path(theirs, sender, bad).error() == Error::InvalidCommit);
  }
  SECTION("a path key used twice") {
    UpdatePath bad = c.path;
    bad.nodes.front().encryption_key = bad.nodes.back().encryption_key;
    PublicTree theirs = g.tree;
    CHECK(merge_update_path(theirs, sender, bad).error() == Error::InvalidCommit);
  }
  SECTION("a path key of the wrong size") {
    UpdatePath bad = c.path;
    bad.nodes.front().encryption_key.pop_back();
    PublicTree theirs = g.tree;
    CHECK(merge_update_path(theirs, sender, bad).error() == Error::InvalidCommit);
  }
  SECTION("the committer's current leaf key kept") {
    UpdatePath bad = c.path;
    bad.leaf_node.encryption_key = g.tree.leaf(sender)->encryption_key;
    PublicTree theirs = g.tree;
    CHECK(merge_update_path(theirs, sender, bad).error() == Error::InvalidLeafNode);
  }
  SECTION("a blank sender") {
    PublicTree theirs = g.tree;
    CHECK(merge_update_path(theirs, LeafIndex{13}, c.path).error() == Error::SenderOutOfRange);
    CHECK(merge_update_path(theirs, LeafIndex{200}, c.path).error() == Error::SenderOutOfRange);
  }
}

TEST_CASE("treekem: the derivation labels are frozen", "[mls][treekem]") {
  crypto::init();
  Group g = Group::with_creator();
  g.commit(LeafIndex{0}, 1, true);  // two leaves: one path node, the root
  const crypto::SecretBytes leaf_secret(Bytes(32, 0x42));
  PublicTree a = g.tree;
  PublicTree b = g.tree;
  auto p1 = prepare_update_path(a, LeafIndex{0}, g.leaf_template(LeafIndex{0}), g.signers.at(0), g.group_id,
                                leaf_secret.clone());
  auto p2 = prepare_update_path(b, LeafIndex{0}, g.leaf_template(LeafIndex{0}), g.signers.at(0), g.group_id,
                                leaf_secret.clone());
  REQUIRE(p1);
  REQUIRE(p2);
  CHECK(a == b);  // deterministic
  CHECK(p1->leaf == p2->leaf);
  REQUIRE(p1->path_secrets.size() == 1);
  const auto path0 = derive_secret(leaf_secret.view(), "path");
  CHECK(same(p1->path_secrets[0].view(), path0.view()));
  CHECK(same(p1->commit_secret.view(), derive_secret(path0.view(), "path").view()));
  const auto leaf_pair = crypto::hpke::derive_key_pair(derive_secret(leaf_secret.view(), "node").view());
  CHECK(same(p1->leaf.encryption_key, leaf_pair.public_key));
  const auto root_pair = crypto::hpke::derive_key_pair(derive_secret(path0.view(), "node").view());
  CHECK(same(*a.encryption_key(NodeIndex{1}), root_pair.public_key));
  CHECK(p1->leaf.leaf_node_source == LeafNodeSource::Commit);
  CHECK(verify_leaf_node_signature(p1->leaf, LeafBinding{g.group_id, LeafIndex{0}}));
  CHECK(p1->private_tree.size() == 2);
}

TEST_CASE("treekem: a lone member's path is empty", "[mls][treekem]") {
  crypto::init();
  Group g = Group::with_creator();
  const auto c = g.make_commit(LeafIndex{0}, g.tree, {});
  CHECK(c.path.nodes.empty());
  CHECK(c.pending.steps.empty());
  CHECK(c.path.leaf_node.parent_hash.empty());
  PublicTree theirs = g.tree;
  REQUIRE(merge_update_path(theirs, LeafIndex{0}, c.path));
  CHECK(theirs == c.tree);
  CHECK(c.pending.commit_secret.size() == kHashSize);
  CHECK(prepare_update_path(theirs, LeafIndex{1}, g.leaf_template(LeafIndex{0}), g.signers.at(0), g.group_id,
                            g.rng)
            .error() == Error::SenderOutOfRange);
}

TEST_CASE("treekem: private tree clone, consistency, implant and prune", "[mls][treekem]") {
  crypto::init();
  Group g = messy_group();
  const LeafIndex me{1};
  const PrivateTree& mine = g.keys.at(me.v);
  REQUIRE(mine.check_consistent(g.tree));
  REQUIRE(mine.size() >= 2);  // leaf and the nodes above it from the commits

  SECTION("clones are independent") {
    PrivateTree copy = mine.clone();
    CHECK(copy.own_leaf() == me);
    copy.set_key(to_node(me), crypto::Secret<crypto::kX25519KeySize>(Bytes(32, 1)));
    CHECK(copy.check_consistent(g.tree).error() == Error::InvalidTree);
    CHECK(mine.check_consistent(g.tree));
    PrivateTree second = mine.clone();
    { PrivateTree dropped = std::move(second); }
    CHECK(mine.key(to_node(me)) != nullptr);
    CHECK(mine.check_consistent(g.tree));
  }
  SECTION("a key for a blank node is inconsistent, prune drops it") {
    PrivateTree copy = mine.clone();
    const NodeIndex blank_leaf = to_node(LeafIndex{14});
    REQUIRE(g.tree.is_blank(blank_leaf));
    copy.set_key(blank_leaf, crypto::Secret<crypto::kX25519KeySize>(Bytes(32, 2)));
    CHECK(copy.check_consistent(g.tree).error() == Error::InvalidTree);
    copy.prune(g.tree);
    CHECK(copy.key(blank_leaf) == nullptr);
    CHECK(copy.check_consistent(g.tree));
    CHECK(copy.size() == mine.size());
  }
  SECTION("prune drops keys off the own direct path") {
    PrivateTree copy = mine.clone();
    // Leaf 0's key is consistent with the tree but not ours to keep.
    copy.set_key(to_node(LeafIndex{0}), g.keys.at(0).key(to_node(LeafIndex{0}))->clone());
    CHECK(copy.check_consistent(g.tree));
    copy.prune(g.tree);
    CHECK(copy.key(to_node(LeafIndex{0})) == nullptr);
    CHECK(copy.size() == mine.size());
  }
  SECTION("prune after removal of the own leaf drops everything") {
    PublicTree t = g.tree;
    t.remove_leaf(me);
    PrivateTree copy = mine.clone();
    copy.prune(t);
    CHECK(copy.size() == 0);
  }
  SECTION("implant checks its start and the keys, and stores nothing on failure") {
    PrivateTree copy = mine.clone();
    const std::size_t before = copy.size();
    CHECK(copy.implant(g.tree, NodeIndex{9}, crypto::SecretBytes(Bytes(32, 3))).error() == Error::InvalidTree);
    const auto steps = g.tree.filtered_direct_path(me);
    REQUIRE_FALSE(steps.empty());
    CHECK(copy.implant(g.tree, steps.front().node, crypto::SecretBytes(Bytes(32, 3))).error() ==
          Error::InvalidTree);
    CHECK(copy.size() == before);
    CHECK(copy.check_consistent(g.tree));
  }
}

TEST_CASE("treekem: a commit at 200 members rehashes only its path", "[mls][treekem]") {
  crypto::init();
  Group g = Group::with_creator();
  g.commit(LeafIndex{0}, 199, true);
  REQUIRE(g.keys.size() == 200);
  REQUIRE(g.tree.n_leaves() == 256);
  const LeafIndex sender{137};
  const auto c = g.make_commit(sender, g.tree, {});

  PublicTree theirs = g.tree;
  (void)theirs.tree_hash();
  const std::size_t full = theirs.cached_hash_count();
  REQUIRE(full == theirs.width());
  REQUIRE(merge_update_path(theirs, sender, c.path));
  // Only the sender's leaf and its 8 ancestors lose their cached hash: the
  // parent hashes reuse the copath subtrees' cached tree hashes.
  CHECK(theirs.cached_hash_count() + 9 >= full);
  CHECK(theirs.tree_hash() == c.tree.tree_hash());
  CHECK(theirs.cached_hash_count() == full);

  // Each receiver opens exactly one ciphertext and learns the keys above it.
  for (const std::uint32_t m : {0u, 136u, 138u, 199u}) {
    auto dec = decrypt_update_path(theirs, g.keys.at(m), sender, c.path, {}, c.context);
    REQUIRE(dec);
    CHECK(same(dec->commit_secret.view(), c.pending.commit_secret.view()));
    CHECK(dec->private_tree.check_consistent(theirs));
  }
}

TEST_CASE("treekem: flipped bytes of an encoded path are refused or harmless", "[mls][treekem]") {
  crypto::init();
  Group g = messy_group();
  const LeafIndex sender{9};
  const LeafIndex receiver{2};
  const auto c = g.make_commit(sender, g.tree, {});
  const Bytes encoded = encode(c.path);
  std::size_t refused = 0;
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < encoded.size(); i += 3) {
    Bytes bad = encoded;
    bad[i] ^= 0x21;
    const auto path = decode<UpdatePath>(bad);
    if (!path) {
      ++refused;
      continue;
    }
    PublicTree theirs = g.tree;
    const auto merged = merge_update_path(theirs, sender, *path);
    if (!merged) {
      ++refused;
      continue;
    }
    const auto dec = decrypt_update_path(theirs, g.keys.at(receiver.v), sender, *path, {}, c.context);
    if (!dec) {
      ++refused;
      continue;
    }
    // Only bytes nobody's checks cover here may pass: the leaf's signature
    // (the caller verifies it) and ciphertexts meant for other members.
    ++accepted;
    CHECK(same(dec->commit_secret.view(), c.pending.commit_secret.view()));
  }
  CHECK(refused > 0);
  CHECK(accepted > 0);
}
