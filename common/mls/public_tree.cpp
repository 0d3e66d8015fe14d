// SPDX-License-Identifier: Apache-2.0
#include "common/mls/public_tree.h"

#include <algorithm>
#include <iterator>
#include <set>
#include <stdexcept>

#include "common/crypto/hpke.h"

namespace hearth::mls {
namespace {

// NodeType of TreeHashInput (§7.8).
constexpr std::uint8_t kNodeTypeLeaf = 1;
constexpr std::uint8_t kNodeTypeParent = 2;

// The leaf count of the smallest full tree with at least `width` nodes.
std::uint32_t leaves_for_width(std::size_t width) {
  std::uint32_t n = 1;
  while (node_width(n) < width) n *= 2;
  return n;
}

// The node indices a subtree spans: [first, last], leaves at the even ones.
struct Span {
  std::uint32_t first;
  std::uint32_t last;
  [[nodiscard]] bool contains(NodeIndex x) const noexcept { return x.v >= first && x.v <= last; }
  // In 64 bits: an unchecked unmerged leaf index may be any uint32.
  [[nodiscard]] bool contains(LeafIndex l) const noexcept {
    const std::uint64_t x = std::uint64_t{l.v} * 2;
    return x >= first && x <= last;
  }
};
Span subtree(NodeIndex n) {
  const std::uint32_t half = (std::uint32_t{1} << level(n)) - 1;
  return {n.v - half, n.v + half};
}

bool contains_leaf(std::span<const LeafIndex> set, LeafIndex l) {
  return std::find(set.begin(), set.end(), l) != set.end();
}

Digest digest_of(const Writer& w) { return crypto::sha256(w.bytes()); }

Bytes to_vec(const Digest& d) { return Bytes(d.begin(), d.end()); }

std::vector<std::uint32_t> node_values(const std::vector<NodeIndex>& v) {
  std::vector<std::uint32_t> out;
  out.reserve(v.size());
  for (const NodeIndex n : v) out.push_back(n.v);
  return out;
}

[[noreturn]] void precondition(const char* what) { throw std::logic_error(what); }

}  // namespace

// ---- construction and wire form ----

PublicTree PublicTree::with_first_leaf(LeafNode leaf) {
  PublicTree t;
  t.nodes_.emplace_back(Node{std::move(leaf)});
  t.hash_cache_.resize(1);
  return t;
}

MlsResult<PublicTree> PublicTree::from_wire(const RatchetTree& wire) {
  const auto& in = wire.nodes;
  if (in.empty() || !in.back()) return fail(Error::InvalidTree);  // empty, or not truncated
  if (in.size() > node_width(kMaxGroupLeaves)) return fail(Error::TooManyMembers);
  const std::uint32_t n_leaves = leaves_for_width(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (!in[i]) continue;
    const bool leaf_slot = i % 2 == 0;
    if (leaf_slot != std::holds_alternative<LeafNode>(in[i]->value)) return fail(Error::InvalidTree);
    if (const auto* p = std::get_if<ParentNode>(&in[i]->value)) {
      for (const std::uint32_t u : p->unmerged_leaves) {
        if (u >= n_leaves) return fail(Error::InvalidTree);
      }
    }
  }
  PublicTree t;
  t.nodes_ = in;
  t.nodes_.resize(node_width(n_leaves));
  t.hash_cache_.resize(t.nodes_.size());
  return t;
}

RatchetTree PublicTree::to_wire() const {
  std::size_t end = nodes_.size();
  while (end > 0 && !nodes_[end - 1]) --end;
  RatchetTree out;
  out.nodes.assign(nodes_.begin(), nodes_.begin() + static_cast<std::ptrdiff_t>(end));
  return out;
}

// ---- accessors ----

std::uint32_t PublicTree::n_leaves() const noexcept {
  return static_cast<std::uint32_t>((nodes_.size() + 1) / 2);
}

const Node* PublicTree::node(NodeIndex n) const noexcept {
  if (n.v >= nodes_.size() || !nodes_[n.v]) return nullptr;
  return &*nodes_[n.v];
}

const LeafNode* PublicTree::leaf(LeafIndex l) const noexcept {
  if (l.v >= n_leaves()) return nullptr;
  const Node* n = node(to_node(l));
  return n == nullptr ? nullptr : std::get_if<LeafNode>(&n->value);
}

const ParentNode* PublicTree::parent_node(NodeIndex n) const noexcept {
  const Node* p = node(n);
  return p == nullptr ? nullptr : std::get_if<ParentNode>(&p->value);
}

std::optional<BytesView> PublicTree::encryption_key(NodeIndex n) const noexcept {
  const Node* x = node(n);
  if (x == nullptr) return std::nullopt;
  if (const auto* l = std::get_if<LeafNode>(&x->value)) return BytesView(l->encryption_key);
  return BytesView(std::get<ParentNode>(x->value).encryption_key);
}

std::vector<LeafIndex> PublicTree::members() const {
  std::vector<LeafIndex> out;
  for (std::uint32_t l = 0; l < n_leaves(); ++l) {
    if (leaf(LeafIndex{l}) != nullptr) out.push_back(LeafIndex{l});
  }
  return out;
}

std::size_t PublicTree::member_count() const noexcept {
  std::size_t count = 0;
  for (std::uint32_t l = 0; l < n_leaves(); ++l) {
    if (leaf(LeafIndex{l}) != nullptr) ++count;
  }
  return count;
}

std::optional<LeafIndex> PublicTree::find_leaf(const std::function<bool(const LeafNode&)>& pred) const {
  for (std::uint32_t l = 0; l < n_leaves(); ++l) {
    const LeafNode* x = leaf(LeafIndex{l});
    if (x != nullptr && pred(*x)) return LeafIndex{l};
  }
  return std::nullopt;
}

// ---- changes ----

void PublicTree::invalidate(NodeIndex n) {
  const std::uint32_t leaves = n_leaves();
  std::optional<NodeIndex> at = n;
  while (at) {
    if (at->v < hash_cache_.size()) hash_cache_[at->v].reset();
    at = parent(*at, leaves);
  }
}

MlsResult<LeafIndex> PublicTree::add_leaf(LeafNode leaf_node) {
  if (nodes_.empty()) {
    *this = with_first_leaf(std::move(leaf_node));
    return LeafIndex{0};
  }
  std::optional<LeafIndex> slot;
  for (std::uint32_t l = 0; l < n_leaves() && !slot; ++l) {
    if (is_blank(to_node(LeafIndex{l}))) slot = LeafIndex{l};
  }
  if (!slot) {
    const std::uint32_t old = n_leaves();
    if (old >= kMaxGroupLeaves) return fail(Error::TooManyMembers);
    // Extending keeps every existing node's index and subtree, so their
    // cached hashes stay valid; the new nodes start uncached.
    nodes_.resize(node_width(2 * old));
    hash_cache_.resize(nodes_.size());
    slot = LeafIndex{old};
  }
  const NodeIndex at = to_node(*slot);
  nodes_[at.v] = Node{std::move(leaf_node)};
  for (const NodeIndex p : direct_path(at, n_leaves())) {
    if (!nodes_[p.v]) continue;
    auto& unmerged = std::get<ParentNode>(nodes_[p.v]->value).unmerged_leaves;
    const auto pos = std::lower_bound(unmerged.begin(), unmerged.end(), slot->v);
    if (pos == unmerged.end() || *pos != slot->v) unmerged.insert(pos, slot->v);
  }
  invalidate(at);
  return *slot;
}

void PublicTree::update_leaf(LeafIndex l, LeafNode leaf_node) {
  set_leaf(l, std::move(leaf_node));
  for (const NodeIndex p : direct_path(to_node(l), n_leaves())) blank(p);
}

void PublicTree::remove_leaf(LeafIndex l) {
  if (l.v >= n_leaves()) precondition("PublicTree::remove_leaf: leaf outside the tree");
  blank(to_node(l));
  for (const NodeIndex p : direct_path(to_node(l), n_leaves())) blank(p);
  truncate();
}

void PublicTree::truncate() {
  // §12.1.3: drop the right subtree while it holds no leaf; the root goes with
  // it. The remaining nodes keep their indices and subtrees (and hashes).
  while (n_leaves() > 1) {
    const std::uint32_t half = n_leaves() / 2;
    bool right_blank = true;
    for (std::uint32_t l = half; l < n_leaves() && right_blank; ++l) {
      right_blank = is_blank(to_node(LeafIndex{l}));
    }
    if (!right_blank) break;
    nodes_.resize(node_width(half));
    hash_cache_.resize(nodes_.size());
  }
}

void PublicTree::set_leaf(LeafIndex l, LeafNode leaf_node) {
  if (l.v >= n_leaves()) precondition("PublicTree::set_leaf: leaf outside the tree");
  nodes_[to_node(l).v] = Node{std::move(leaf_node)};
  invalidate(to_node(l));
}

void PublicTree::set_parent(NodeIndex n, ParentNode parent_value) {
  if (is_leaf(n) || n.v >= nodes_.size()) precondition("PublicTree::set_parent: not a parent position");
  nodes_[n.v] = Node{std::move(parent_value)};
  invalidate(n);
}

void PublicTree::blank(NodeIndex n) {
  if (n.v >= nodes_.size()) precondition("PublicTree::blank: node outside the tree");
  if (!nodes_[n.v]) return;
  nodes_[n.v].reset();
  invalidate(n);
}

// ---- resolution and filtered direct path ----

namespace {
void resolve(const PublicTree& t, NodeIndex n, std::span<const LeafIndex> exclude, std::vector<NodeIndex>& out) {
  if (const Node* x = t.node(n)) {
    if (is_leaf(n)) {
      if (!contains_leaf(exclude, to_leaf(n))) out.push_back(n);
      return;
    }
    out.push_back(n);
    for (const std::uint32_t u : std::get<ParentNode>(x->value).unmerged_leaves) {
      if (!contains_leaf(exclude, LeafIndex{u})) out.push_back(to_node(LeafIndex{u}));
    }
    return;
  }
  if (is_leaf(n)) return;
  resolve(t, *left(n), exclude, out);
  resolve(t, *right(n), exclude, out);
}
}  // namespace

std::vector<NodeIndex> PublicTree::resolution(NodeIndex n, std::span<const LeafIndex> exclude) const {
  std::vector<NodeIndex> out;
  if (n.v < nodes_.size()) resolve(*this, n, exclude, out);
  return out;
}

std::vector<PublicTree::PathStep> PublicTree::filtered_direct_path(LeafIndex l) const {
  std::vector<PathStep> out;
  if (l.v >= n_leaves()) return out;
  NodeIndex child = to_node(l);
  for (const NodeIndex p : direct_path(child, n_leaves())) {
    const NodeIndex copath_child = *sibling(child, n_leaves());
    // The resolution is empty exactly when the whole subtree is blank; the
    // scan stops at the first occupied node, so dense trees cost O(1) here.
    const Span s = subtree(copath_child);
    bool occupied = false;
    for (std::uint32_t i = s.first; i <= s.last && !occupied; ++i) occupied = nodes_[i].has_value();
    if (occupied) out.push_back(PathStep{p, copath_child});
    child = p;
  }
  return out;
}

// ---- tree hash (§7.8) ----

namespace {
void write_leaf_hash_input(Writer& w, LeafIndex l, const LeafNode* leaf) {
  w.u8(kNodeTypeLeaf);
  w.u32(l.v);
  w.u8(leaf != nullptr ? 1 : 0);
  if (leaf != nullptr) write(w, *leaf);
}
void write_parent_hash_input(Writer& w, const ParentNode* p, const Digest& left_hash, const Digest& right_hash) {
  w.u8(kNodeTypeParent);
  w.u8(p != nullptr ? 1 : 0);
  if (p != nullptr) write(w, *p);
  w.opaque(left_hash);
  w.opaque(right_hash);
}
}  // namespace

Digest PublicTree::tree_hash() const {
  if (nodes_.empty()) precondition("PublicTree::tree_hash: empty tree");
  return tree_hash(root(n_leaves()));
}

Digest PublicTree::tree_hash(NodeIndex n) const {
  if (n.v >= nodes_.size()) precondition("PublicTree::tree_hash: node outside the tree");
  if (hash_cache_.size() != nodes_.size()) hash_cache_.resize(nodes_.size());
  if (hash_cache_[n.v]) return *hash_cache_[n.v];
  Writer w;
  if (is_leaf(n)) {
    write_leaf_hash_input(w, to_leaf(n), leaf(to_leaf(n)));
  } else {
    const Digest l = tree_hash(*left(n));
    const Digest r = tree_hash(*right(n));
    write_parent_hash_input(w, parent_node(n), l, r);
  }
  const Digest d = digest_of(w);
  hash_cache_[n.v] = d;
  return d;
}

std::size_t PublicTree::cached_hash_count() const noexcept {
  return static_cast<std::size_t>(
      std::count_if(hash_cache_.begin(), hash_cache_.end(), [](const auto& h) { return h.has_value(); }));
}

// ---- parent hash (§7.9) ----

namespace {
// The tree hash of `n` with the leaves in `removed` (sorted) blanked and
// dropped from every unmerged_leaves list. Subtrees without such a leaf use
// the cache, so the cost follows the removed leaves, not the subtree size.
Digest tree_hash_without(const PublicTree& t, NodeIndex n, std::span<const std::uint32_t> removed) {
  const Span s = subtree(n);
  const auto first = std::lower_bound(removed.begin(), removed.end(), s.first / 2);
  if (first == removed.end() || !s.contains(LeafIndex{*first})) return t.tree_hash(n);
  Writer w;
  if (is_leaf(n)) {
    write_leaf_hash_input(w, to_leaf(n), nullptr);
    return digest_of(w);
  }
  const Digest l = tree_hash_without(t, *left(n), removed);
  const Digest r = tree_hash_without(t, *right(n), removed);
  std::optional<ParentNode> p;
  if (const ParentNode* orig = t.parent_node(n)) {
    p = *orig;
    std::erase_if(p->unmerged_leaves,
                  [&](std::uint32_t u) { return std::binary_search(removed.begin(), removed.end(), u); });
  }
  write_parent_hash_input(w, p ? &*p : nullptr, l, r);
  return digest_of(w);
}

// The parent_hash a node claims: a parent's field, a Commit leaf's field.
std::optional<BytesView> claimed_parent_hash(const PublicTree& t, NodeIndex n) {
  if (const ParentNode* p = t.parent_node(n)) return BytesView(p->parent_hash);
  if (is_leaf(n)) {
    const LeafNode* l = t.leaf(to_leaf(n));
    if (l != nullptr && l->leaf_node_source == LeafNodeSource::Commit) return BytesView(l->parent_hash);
  }
  return std::nullopt;
}

bool same_bytes(BytesView a, BytesView b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }
}  // namespace

Digest PublicTree::parent_hash(NodeIndex parent_index, NodeIndex sibling_index) const {
  const ParentNode* p = parent_node(parent_index);
  if (p == nullptr) precondition("PublicTree::parent_hash: blank parent");
  std::vector<std::uint32_t> removed = p->unmerged_leaves;  // sorted when valid; not yet checked
  std::sort(removed.begin(), removed.end());
  Writer w;
  w.opaque(p->encryption_key);
  w.opaque(p->parent_hash);
  w.opaque(tree_hash_without(*this, sibling_index, removed));
  return digest_of(w);
}

Bytes PublicTree::set_path_parent_hashes(LeafIndex committer) {
  const auto steps = filtered_direct_path(committer);
  Bytes above;  // the top node's parent_hash is empty
  for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
    if (parent_node(it->node) == nullptr) precondition("PublicTree::set_path_parent_hashes: blank path node");
    std::get<ParentNode>(nodes_[it->node.v]->value).parent_hash = above;
    invalidate(it->node);
    above = to_vec(parent_hash(it->node, it->copath_child));
  }
  return above;
}

MlsResult<void> PublicTree::verify_path_parent_hashes(LeafIndex l) const {
  const LeafNode* own = leaf(l);
  if (own == nullptr) return fail(Error::InvalidParentHash);
  const auto steps = filtered_direct_path(l);
  if (steps.empty()) {
    if (!own->parent_hash.empty()) return fail(Error::InvalidParentHash);
    return {};
  }
  if (own->leaf_node_source != LeafNodeSource::Commit) return fail(Error::InvalidParentHash);
  BytesView claim = own->parent_hash;
  for (const PathStep& step : steps) {
    const ParentNode* p = parent_node(step.node);
    if (p == nullptr) return fail(Error::InvalidParentHash);
    if (!same_bytes(claim, parent_hash(step.node, step.copath_child))) return fail(Error::InvalidParentHash);
    claim = p->parent_hash;
  }
  if (!claim.empty()) return fail(Error::InvalidParentHash);
  return {};
}

MlsResult<void> PublicTree::verify_parent_hashes() const {
  // Top down (§7.9.2): each non-blank parent P has exactly one descendant D
  // whose parent_hash is P's parent hash with D's side C as the path, D in
  // the resolution of C, and the rest of C's resolution exactly P's unmerged
  // leaves below C. That last rule leaves at most one candidate per side:
  // the one element of res(C) that is not an unmerged leaf of P. So each P
  // costs one resolution and at most two parent hashes, even in a hostile
  // tree where many nodes claim the same hash.
  for (std::uint32_t i = 1; i < nodes_.size(); i += 2) {
    const NodeIndex pn{i};
    const ParentNode* p = parent_node(pn);
    if (p == nullptr) continue;
    std::size_t valid = 0;
    for (const bool left_side : {true, false}) {
      const NodeIndex c = left_side ? *left(pn) : *right(pn);
      const NodeIndex s = left_side ? *right(pn) : *left(pn);
      const Span cs = subtree(c);
      std::vector<std::uint32_t> unmerged_below;  // node indices
      for (const std::uint32_t u : p->unmerged_leaves) {
        if (cs.contains(LeafIndex{u})) unmerged_below.push_back(to_node(LeafIndex{u}).v);
      }
      std::sort(unmerged_below.begin(), unmerged_below.end());
      std::vector<std::uint32_t> res = node_values(resolution(c));
      std::sort(res.begin(), res.end());
      if (res.size() != unmerged_below.size() + 1) continue;
      std::vector<std::uint32_t> extra;
      std::set_difference(res.begin(), res.end(), unmerged_below.begin(), unmerged_below.end(),
                          std::back_inserter(extra));
      if (extra.size() != 1) continue;  // some unmerged leaf of P is not in res(C)
      const NodeIndex d{extra.front()};
      const auto claim = claimed_parent_hash(*this, d);
      if (claim && same_bytes(*claim, parent_hash(pn, s))) ++valid;
    }
    if (valid != 1) return fail(Error::InvalidParentHash);
  }
  return {};
}

// ---- validation ----

MlsResult<void> PublicTree::check_new_leaf(const LeafNode& candidate, std::optional<LeafIndex> at) const {
  const auto basic = static_cast<std::uint16_t>(candidate.credential.credential_type);
  for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
    if (!nodes_[i]) continue;
    if (is_leaf(NodeIndex{i})) {
      const LeafNode& m = std::get<LeafNode>(nodes_[i]->value);
      if (at && to_leaf(NodeIndex{i}) == *at) {
        // An Update or a commit's leaf must bring a new encryption key
        // (§7.3, §12.4.2); it may keep its signature key.
        if (m.encryption_key == candidate.encryption_key) return fail(Error::InvalidLeafNode);
        continue;
      }
      if (m.encryption_key == candidate.encryption_key || m.signature_key == candidate.signature_key) {
        return fail(Error::InvalidLeafNode);
      }
      const auto theirs = static_cast<std::uint16_t>(m.credential.credential_type);
      const auto& their_caps = m.capabilities.credentials;
      const auto& our_caps = candidate.capabilities.credentials;
      if (std::find(their_caps.begin(), their_caps.end(), basic) == their_caps.end() ||
          std::find(our_caps.begin(), our_caps.end(), theirs) == our_caps.end()) {
        return fail(Error::InvalidLeafNode);
      }
    } else if (std::get<ParentNode>(nodes_[i]->value).encryption_key == candidate.encryption_key) {
      return fail(Error::InvalidLeafNode);
    }
  }
  return {};
}

namespace {
// §12.4.3.1: unmerged leaves sorted, occupied, below the node, and listed in
// every non-blank node between.
MlsResult<void> check_unmerged(const PublicTree& t) {
  for (std::uint32_t i = 1; i < t.width(); i += 2) {
    const NodeIndex pn{i};
    const ParentNode* p = t.parent_node(pn);
    if (p == nullptr) continue;
    const Span s = subtree(pn);
    for (std::size_t k = 0; k < p->unmerged_leaves.size(); ++k) {
      const LeafIndex u{p->unmerged_leaves[k]};
      if (k > 0 && p->unmerged_leaves[k - 1] >= u.v) return fail(Error::InvalidTree);
      if (!s.contains(u) || t.leaf(u) == nullptr) return fail(Error::InvalidTree);
      for (const NodeIndex mid : direct_path(to_node(u), t.n_leaves())) {
        if (mid == pn) break;
        const ParentNode* m = t.parent_node(mid);
        if (m == nullptr) continue;
        if (!std::binary_search(m->unmerged_leaves.begin(), m->unmerged_leaves.end(), u.v)) {
          return fail(Error::InvalidTree);
        }
      }
    }
  }
  return {};
}

// Keys unique across the tree; parent keys of the HPKE size (a leaf's are
// checked with the leaf).
MlsResult<void> check_keys(const PublicTree& t) {
  std::set<Bytes> encryption_keys;
  std::set<Bytes> signature_keys;
  for (std::uint32_t i = 0; i < t.width(); ++i) {
    const Node* x = t.node(NodeIndex{i});
    if (x == nullptr) continue;
    if (const auto* l = std::get_if<LeafNode>(&x->value)) {
      if (!signature_keys.insert(l->signature_key).second) return fail(Error::InvalidTree);
      if (!encryption_keys.insert(l->encryption_key).second) return fail(Error::InvalidTree);
    } else {
      const Bytes& key = std::get<ParentNode>(x->value).encryption_key;
      if (key.size() != crypto::hpke::kPublicKeySize) return fail(Error::InvalidTree);
      if (!encryption_keys.insert(key).second) return fail(Error::InvalidTree);
    }
  }
  return {};
}
}  // namespace

MlsResult<void> PublicTree::validate(BytesView group_id, BytesView expected_tree_hash,
                                     std::span<const Extension> group_extensions,
                                     std::optional<std::uint64_t> now_s) const {
  if (nodes_.empty() || member_count() == 0) return fail(Error::InvalidTree);
  if (!same_bytes(tree_hash(), expected_tree_hash)) return fail(Error::TreeHashMismatch);
  if (auto r = check_unmerged(*this); !r) return r;
  if (auto r = check_keys(*this); !r) return r;
  for (const LeafIndex l : members()) {
    const LeafNode& x = *leaf(l);
    LeafContext context;
    context.expected_source = x.leaf_node_source;
    if (x.leaf_node_source != LeafNodeSource::KeyPackage) context.binding = LeafBinding{group_id, l};
    context.group_extensions = group_extensions;
    context.now_s = now_s;
    if (auto r = validate_leaf_node(x, context); !r) return r;
  }
  // Credential types: validate_leaf_node admits only Basic leaves that list
  // Basic, so every member supports every other member's credential.
  return verify_parent_hashes();
}

}  // namespace hearth::mls
