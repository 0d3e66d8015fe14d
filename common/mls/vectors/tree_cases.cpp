// SPDX-License-Identifier: Apache-2.0
// tree-validation and tree-operations.
#include "common/mls/public_tree.h"
#include "common/mls/vectors/cases.h"
#include "common/mls/vectors/check.h"

namespace hearth::mls::vectors {
namespace {

// Decodes a ratchet tree field; records a mismatch when it does not decode.
std::optional<PublicTree> tree_field(Check& check, const nlohmann::json& c, std::string_view field) {
  const auto wire = decode<RatchetTree>(hex_field(c, field));
  check.require(std::string(field) + ": decode failed", wire.has_value());
  if (!wire) return std::nullopt;
  auto tree = PublicTree::from_wire(*wire);
  if (!tree) {
    check.require(std::string(field) + ": from_wire: " + to_string(tree.error()), false);
    return std::nullopt;
  }
  return std::move(*tree);
}

}  // namespace

std::string check_tree_validation(const nlohmann::json& c) {
  Check check;
  const Bytes group_id = hex_field(c, "group_id");
  const auto tree = tree_field(check, c, "tree");
  if (!tree) return check.failure();
  const auto& hashes = c.at("tree_hashes");
  const auto& resolutions = c.at("resolutions");
  check.equal("node count", tree->width(), hashes.size());
  check.equal("resolution count", tree->width(), resolutions.size());
  if (!check.ok()) return check.failure();
  for (std::uint32_t i = 0; i < tree->width(); ++i) {
    const std::string at = "node " + std::to_string(i);
    const auto h = from_hex(hashes[i].get<std::string>());
    if (!h) throw std::invalid_argument("not hex: tree_hashes");
    check.equal(at + " tree hash", tree->tree_hash(NodeIndex{i}), *h);
    std::vector<std::uint32_t> want = resolutions[i].get<std::vector<std::uint32_t>>();
    std::vector<std::uint32_t> got;
    for (const NodeIndex n : tree->resolution(NodeIndex{i})) got.push_back(n.v);
    check.require(at + " resolution differs", got == want);
  }
  const auto parents = tree->verify_parent_hashes();
  check.require("parent hashes: " + (parents ? std::string("ok") : to_string(parents.error())), parents.has_value());
  for (const LeafIndex l : tree->members()) {
    const LeafNode& leaf = *tree->leaf(l);
    std::optional<LeafBinding> binding;
    if (leaf.leaf_node_source != LeafNodeSource::KeyPackage) binding = LeafBinding{group_id, l};
    check.require("leaf " + std::to_string(l.v) + " signature", verify_leaf_node_signature(leaf, binding).has_value());
  }
  // The whole join-time validation (lifetimes off: the vectors' have ended).
  const Digest root = tree->tree_hash();
  const auto full = tree->validate(group_id, root, {}, std::nullopt);
  check.require("validate: " + (full ? std::string("ok") : to_string(full.error())), full.has_value());
  return check.failure();
}

std::string check_tree_operations(const nlohmann::json& c) {
  Check check;
  auto tree = tree_field(check, c, "tree_before");
  if (!tree) return check.failure();
  check.equal("tree_hash_before", tree->tree_hash(), hex_field(c, "tree_hash_before"));
  const auto proposal = decode<Proposal>(hex_field(c, "proposal"));
  check.require("proposal decodes", proposal.has_value());
  if (!check.ok()) return check.failure();
  const LeafIndex sender{c.at("proposal_sender").get<std::uint32_t>()};
  if (const auto* add = std::get_if<Add>(&proposal->body)) {
    const auto added = tree->add_leaf(add->key_package.leaf_node);
    check.require("add_leaf", added.has_value());
  } else if (const auto* update = std::get_if<Update>(&proposal->body)) {
    check.require("update sender occupied", tree->leaf(sender) != nullptr);
    if (check.ok()) tree->update_leaf(sender, update->leaf_node);
  } else if (const auto* remove = std::get_if<Remove>(&proposal->body)) {
    check.require("removed leaf occupied", tree->leaf(LeafIndex{remove->removed}) != nullptr);
    if (check.ok()) tree->remove_leaf(LeafIndex{remove->removed});
  } else {
    check.require("proposal is Add, Update or Remove", false);
  }
  if (!check.ok()) return check.failure();
  check.equal("tree_after", encode(tree->to_wire()), hex_field(c, "tree_after"));
  check.equal("tree_hash_after", tree->tree_hash(), hex_field(c, "tree_hash_after"));
  return check.failure();
}

}  // namespace hearth::mls::vectors
