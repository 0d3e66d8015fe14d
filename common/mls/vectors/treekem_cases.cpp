// SPDX-License-Identifier: Apache-2.0
// treekem: merging and decrypting the official UpdatePaths, then our own.
#include <map>

#include "common/crypto/hpke.h"
#include "common/mls/treekem.h"
#include "common/mls/vectors/cases.h"
#include "common/mls/vectors/check.h"

namespace hearth::mls::vectors {
namespace {

// Deterministic ephemeral keys for our own UpdatePaths.
class FixedRng final : public Rng {
 public:
  void fill(std::span<std::uint8_t> out) override {
    for (auto& b : out) b = static_cast<std::uint8_t>(++counter_ * 31u);
  }

 private:
  std::uint32_t counter_ = 0;
};

struct LeafPrivate {
  PrivateTree keys;
  crypto::SigningKey signer;
};

Bytes provisional_context(const nlohmann::json& c, const PublicTree& tree) {
  GroupContext gc;
  gc.cipher_suite = c.at("cipher_suite").get<std::uint16_t>();
  gc.group_id = hex_field(c, "group_id");
  gc.epoch = c.at("epoch").get<std::uint64_t>();
  const Digest h = tree.tree_hash();
  gc.tree_hash = Bytes(h.begin(), h.end());
  gc.confirmed_transcript_hash = hex_field(c, "confirmed_transcript_hash");
  return encode(gc);
}

std::string at_leaf(std::string_view what, std::uint32_t sender, std::uint32_t leaf) {
  return std::string(what) + " (sender " + std::to_string(sender) + ", leaf " + std::to_string(leaf) + ")";
}

// Every member with private state but the sender merges `path` into its own
// copy of `before` and decrypts it to `commit_secret`; `path_secrets` (one per
// leaf, may be null) are checked when given.
void check_receivers(Check& check, const nlohmann::json& c, const PublicTree& before,
                     const std::map<std::uint32_t, LeafPrivate>& leaves, LeafIndex sender, const UpdatePath& path,
                     BytesView commit_secret, const nlohmann::json* path_secrets) {
  for (const auto& [j, priv] : leaves) {
    if (j == sender.v) continue;
    PublicTree tree = before;
    const auto merged = merge_update_path(tree, sender, path);
    check.require(at_leaf("merge", sender.v, j) + (merged ? "" : ": " + to_string(merged.error())),
                  merged.has_value());
    if (!check.ok()) return;
    const Bytes ctx = provisional_context(c, tree);
    auto dec = decrypt_update_path(tree, priv.keys, sender, path, {}, ctx);
    check.require(at_leaf("decrypt", sender.v, j) + (dec ? "" : ": " + to_string(dec.error())), dec.has_value());
    if (!check.ok()) return;
    check.equal(at_leaf("commit_secret", sender.v, j), dec->commit_secret.view(), commit_secret);
    check.equal(at_leaf("path secret node", sender.v, j), dec->path_secret_node.v,
                common_ancestor(to_node(sender), to_node(LeafIndex{j})).v);
    if (path_secrets != nullptr) {
      const auto& expected = path_secrets->at(j);
      check.require(at_leaf("path_secrets entry", sender.v, j), !expected.is_null());
      if (!check.ok()) return;
      const auto want = from_hex(expected.get<std::string>());
      check.require(at_leaf("path_secrets hex", sender.v, j), want.has_value());
      if (!check.ok()) return;
      check.equal(at_leaf("path_secret", sender.v, j), dec->path_secret.view(), *want);
    }
    check.require(at_leaf("private state after decrypt consistent", sender.v, j),
                  dec->private_tree.check_consistent(tree).has_value());
    if (!check.ok()) return;
  }
}

}  // namespace

std::string check_treekem(const nlohmann::json& c) {
  Check check;
  check.equal("cipher_suite", c.at("cipher_suite").get<std::uint64_t>(), kCipherSuite);
  const Bytes group_id = hex_field(c, "group_id");
  const auto wire = decode<RatchetTree>(hex_field(c, "ratchet_tree"));
  check.require("ratchet_tree decodes", wire.has_value());
  if (!check.ok()) return check.failure();
  const auto tree = PublicTree::from_wire(*wire);
  check.require("ratchet_tree loads", tree.has_value());
  if (!check.ok()) return check.failure();

  std::map<std::uint32_t, LeafPrivate> leaves;
  for (const auto& lp : c.at("leaves_private")) {
    const std::uint32_t index = lp.at("index").get<std::uint32_t>();
    const std::string where = "leaf " + std::to_string(index);
    const Bytes enc = hex_field(lp, "encryption_priv");
    check.equal(where + " encryption_priv size", enc.size(), crypto::kX25519KeySize);
    auto signer = crypto::ed25519_from_seed(hex_field(lp, "signature_priv"));
    check.require(where + " signature_priv", signer.has_value());
    if (!check.ok()) return check.failure();
    const LeafNode* leaf = tree->leaf(LeafIndex{index});
    check.require(where + " is in the tree", leaf != nullptr);
    if (!check.ok()) return check.failure();
    check.equal(where + " signature key", signer->public_key, leaf->signature_key);
    PrivateTree keys(LeafIndex{index}, crypto::Secret<crypto::kX25519KeySize>(enc));
    for (const auto& ps : lp.at("path_secrets")) {
      const crypto::SecretBytes secret(hex_field(ps, "path_secret"));
      const crypto::SecretBytes node_secret = derive_secret(secret.view(), "node");
      keys.set_key(NodeIndex{ps.at("node").get<std::uint32_t>()},
                   crypto::hpke::derive_key_pair(node_secret.view()).secret);
    }
    check.require(where + " private state consistent with the tree", keys.check_consistent(*tree).has_value());
    if (!check.ok()) return check.failure();
    leaves.emplace(index, LeafPrivate{std::move(keys), std::move(*signer)});
  }

  for (const auto& u : c.at("update_paths")) {
    const LeafIndex sender{u.at("sender").get<std::uint32_t>()};
    const auto path = decode<UpdatePath>(hex_field(u, "update_path"));
    check.require("update_path decodes", path.has_value());
    if (!check.ok()) return check.failure();

    // The official path: tree hash after the merge, then every receiver.
    PublicTree merged = *tree;
    const auto ok = merge_update_path(merged, sender, *path);
    check.require("merge of sender " + std::to_string(sender.v) + (ok ? "" : ": " + to_string(ok.error())),
                  ok.has_value());
    if (!check.ok()) return check.failure();
    const Digest after = merged.tree_hash();
    check.equal("tree_hash_after (sender " + std::to_string(sender.v) + ")", after, hex_field(u, "tree_hash_after"));
    const Bytes commit_secret = hex_field(u, "commit_secret");
    check_receivers(check, c, *tree, leaves, sender, *path, commit_secret, &u.at("path_secrets"));
    if (!check.ok()) return check.failure();

    // Our own path from the same sender, read by every other member.
    const auto own = leaves.find(sender.v);
    if (own == leaves.end()) continue;  // no signing key for this sender
    const LeafNode* old_leaf = tree->leaf(sender);
    const LeafTemplate leaf{old_leaf->credential, old_leaf->capabilities, old_leaf->extensions};
    PublicTree fresh = *tree;
    Bytes leaf_secret(kHashSize, 0x5c);
    leaf_secret[0] = static_cast<std::uint8_t>(sender.v);
    auto pending = prepare_update_path(fresh, sender, leaf, own->second.signer, group_id,
                                       crypto::SecretBytes(leaf_secret));
    check.require("prepare_update_path", pending.has_value());
    if (!check.ok()) return check.failure();
    check.require("own leaf signature",
                  verify_leaf_node_signature(pending->leaf, LeafBinding{group_id, sender}).has_value());
    FixedRng rng;
    const auto own_path = encrypt_update_path(*pending, fresh, {}, provisional_context(c, fresh), rng);
    check.require("encrypt_update_path", own_path.has_value());
    if (!check.ok()) return check.failure();
    check_receivers(check, c, *tree, leaves, sender, *own_path, pending->commit_secret.view(), nullptr);
    if (!check.ok()) return check.failure();
  }
  return check.failure();
}

}  // namespace hearth::mls::vectors
