// SPDX-License-Identifier: Apache-2.0
// GroupState::serialize / load: one member's whole state for the sealed
// local store, in the TLS presentation language of codec.h. Format 1:
//
//   struct {
//     uint16 format = kGroupStateFormat;
//     PublicPart public_group;               -- shared with PublicGroup's (public_group_codec.h)
//     uint32 own_leaf;                       -- this member
//     uint8 removed;                         -- 0 or 1
//     opaque confirmation_tag<V>;
//     PrivateKeys private_tree;              -- { uint32 own; Count n; { uint32 node; opaque key[32]; }[n] }
//     opaque epoch_secrets<V>[12];           -- EpochSecrets in declaration order; wiped ones empty
//     SecretTree secret_tree;
//     Count n; { opaque ref[Nh]; opaque key[32]; }[n];   -- pending Updates
//     Count n; PastEpoch past[n];            -- newest first
//   } GroupStateV1;
//   PastEpoch  { GroupContext context; Count n; Member members[n]; SecretTree tree;
//                opaque sender_data_secret<V>; opaque resumption_psk<V>; }
//   Member     { uint32 leaf; Credential credential; opaque signature_key<V>; }
//   SecretTree { uint32 n_leaves; Count n; { uint32 node; opaque secret<V>; }[n];
//                Count n; { uint32 leaf; Ratchet handshake; Ratchet application; }[n]; }
//   Ratchet    { opaque secret<V>; uint32 next_generation;
//                Count n; { uint32 generation; opaque key[32]; opaque nonce[12]; }[n]; }
//   Count      a varint item count
//
// Lists are an item count followed by the items, not a byte-length vector:
// a nested vector would be built in a buffer of its own and freed unwiped,
// while here every secret goes straight into one buffer that is wiped each
// time it grows. Each count is refused above its bound before any item is
// read, and indices (nodes, leaves, generations) are strictly ascending, so
// one state has exactly one encoding.
#include "common/mls/group_state.h"

#include <algorithm>
#include <array>
#include <bit>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "common/mls/group_state_internal.h"
#include "common/mls/public_group_codec.h"
#include "common/mls/transcript.h"

namespace hearth::mls {

using codec_detail::read_count;
using codec_detail::read_digest;
using state_detail::Data;
using state_detail::PastEpoch;
using state_detail::PastView;
using state_detail::PendingUpdate;

namespace {

using LeafKey = crypto::Secret<crypto::kX25519KeySize>;

// A member holds the keys of its leaf and of its direct path: for a tree of
// 2^k leaves, k + 1 of them.
constexpr std::size_t kMaxHeldKeys = std::bit_width(kMaxGroupLeaves);

bool same_bytes(BytesView a, BytesView b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

// EpochSecrets' fields in declaration order, the order of the encoding.
template <class Secrets, class F>
void for_each_secret(Secrets& s, F&& f) {
  f(s.joiner_secret);
  f(s.welcome_secret);
  f(s.epoch_secret);
  f(s.sender_data_secret);
  f(s.encryption_secret);
  f(s.exporter_secret);
  f(s.external_secret);
  f(s.confirmation_key);
  f(s.membership_key);
  f(s.resumption_psk);
  f(s.epoch_authenticator);
  f(s.init_secret);
}

// ---- writing ----

// The encoding in one buffer that is wiped before each reallocation frees
// it, so the secrets written leave no copies behind; the buffer handed out
// by take() is the caller's to wipe. Public values go through their codec
// (their own Writer holds nothing secret).
class SecretWriter {
 public:
  SecretWriter() = default;
  SecretWriter(const SecretWriter&) = delete;
  SecretWriter& operator=(const SecretWriter&) = delete;
  ~SecretWriter() { crypto::wipe(out_.data(), out_.size()); }

  void raw(BytesView v) {
    make_room(v.size());
    out_.insert(out_.end(), v.begin(), v.end());
  }
  void u8(std::uint8_t v) { raw(BytesView(&v, 1)); }
  void u16(std::uint16_t v) {
    const std::array<std::uint8_t, 2> b{static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
    raw(b);
  }
  void u32(std::uint32_t v) {
    const std::array<std::uint8_t, 4> b{static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                                        static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
    raw(b);
  }
  void count(std::size_t n) { raw(encode_varint(n)); }
  void opaque(BytesView v) {
    count(v.size());
    raw(v);
  }
  template <class T>
  void value(const T& v) {
    raw(encode(v));
  }
  [[nodiscard]] Bytes take() noexcept { return std::move(out_); }

 private:
  void make_room(std::size_t n) {
    if (out_.capacity() - out_.size() >= n) return;
    Bytes bigger;
    bigger.reserve(std::max(out_.size() + n, 2 * out_.capacity() + 1024));
    bigger.assign(out_.begin(), out_.end());
    crypto::wipe(out_.data(), out_.size());
    out_ = std::move(bigger);
  }

  Bytes out_;
};

void write_ratchet(SecretWriter& w, const HashRatchet& ratchet) {
  w.opaque(ratchet.secret());
  w.u32(ratchet.next_generation());
  w.count(ratchet.skipped_keys().size());
  for (const auto& [generation, key] : ratchet.skipped_keys()) {
    w.u32(generation);
    w.raw(key.key.view());
    w.raw(key.nonce);
  }
}

void write_secret_tree(SecretWriter& w, const SecretTree& tree) {
  w.u32(tree.n_leaves());
  w.count(tree.node_secrets().size());
  for (const auto& [node, secret] : tree.node_secrets()) {
    w.u32(node);
    w.opaque(secret.view());
  }
  w.count(tree.leaf_ratchets().size());
  for (const auto& [leaf, ratchets] : tree.leaf_ratchets()) {
    w.u32(leaf);
    write_ratchet(w, ratchets.first);
    write_ratchet(w, ratchets.second);
  }
}

void write_past(SecretWriter& w, const PastEpoch& past) {
  w.value(past.view->context);
  w.count(past.view->members.size());
  for (const Member& m : past.view->members) {
    w.u32(m.leaf.v);
    w.value(m.credential);
    w.opaque(m.signature_key);
  }
  write_secret_tree(w, past.secret_tree);
  w.opaque(past.sender_data_secret.view());
  w.opaque(past.resumption_psk.view());
}

// ---- reading ----
// Every reader below reports through the Reader's sticky error, so a
// failure anywhere surfaces once, from finish(), and stops all later reads.

// Indices must ascend strictly: `prev` is the last one read, if any.
void check_ascending(Reader& r, std::optional<std::uint32_t>& prev, std::uint32_t next) {
  if (prev && next <= *prev) r.set_error(Error::InvalidValue);
  prev = next;
}

// A secret of the suite's size, or empty when `may_be_empty` (a wiped one).
crypto::SecretBytes read_secret(Reader& r, bool may_be_empty) {
  const BytesView v = r.opaque();
  if (v.size() != kHashSize && !(may_be_empty && v.empty())) {
    r.set_error(Error::InvalidValue);
    return {};
  }
  return crypto::SecretBytes(v);
}

template <std::size_t N>
crypto::Secret<N> read_fixed_secret(Reader& r) {
  return crypto::Secret<N>(r.raw(N));
}

std::optional<HashRatchet> read_ratchet(Reader& r) {
  crypto::SecretBytes secret = read_secret(r, false);
  const std::uint32_t next_generation = r.u32();
  const std::size_t n = read_count(r, kOutOfOrderWindow);
  std::map<std::uint32_t, RatchetKey> skipped;
  std::optional<std::uint32_t> prev;
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    RatchetKey key;
    key.generation = r.u32();
    key.key = read_fixed_secret<kAeadKeySize>(r);
    const BytesView nonce = r.raw(kAeadNonceSize);
    std::copy(nonce.begin(), nonce.end(), key.nonce.begin());
    check_ascending(r, prev, key.generation);
    const std::uint32_t generation = key.generation;
    skipped.emplace_hint(skipped.end(), generation, std::move(key));
  }
  if (!r.ok()) return std::nullopt;
  auto ratchet = HashRatchet::restore(std::move(secret), next_generation, std::move(skipped));
  if (!ratchet) {
    r.set_error(ratchet.error());
    return std::nullopt;
  }
  return std::move(*ratchet);
}

std::optional<SecretTree> read_secret_tree(Reader& r) {
  const std::uint32_t n_leaves = r.u32();
  if (r.ok() && (n_leaves == 0 || n_leaves > kMaxGroupLeaves)) r.set_error(Error::InvalidValue);
  if (!r.ok()) return std::nullopt;

  std::map<std::uint32_t, crypto::SecretBytes> nodes;
  const std::size_t n_nodes = read_count(r, node_width(n_leaves));
  std::optional<std::uint32_t> prev;
  for (std::size_t i = 0; i < n_nodes && r.ok(); ++i) {
    const std::uint32_t node = r.u32();
    crypto::SecretBytes secret = read_secret(r, false);
    check_ascending(r, prev, node);
    nodes.emplace_hint(nodes.end(), node, std::move(secret));
  }

  std::map<std::uint32_t, SecretTree::RatchetPair> ratchets;
  const std::size_t n_ratchets = read_count(r, n_leaves);
  prev.reset();
  for (std::size_t i = 0; i < n_ratchets && r.ok(); ++i) {
    const std::uint32_t leaf = r.u32();
    auto handshake = read_ratchet(r);
    auto application = read_ratchet(r);
    if (!handshake || !application) break;
    check_ascending(r, prev, leaf);
    ratchets.emplace_hint(ratchets.end(), leaf, SecretTree::RatchetPair(std::move(*handshake), std::move(*application)));
  }
  if (!r.ok()) return std::nullopt;
  auto tree = SecretTree::restore(n_leaves, std::move(nodes), std::move(ratchets));
  if (!tree) {
    r.set_error(tree.error());
    return std::nullopt;
  }
  return std::move(*tree);
}

PrivateTree read_private_tree(Reader& r) {
  PrivateTree keys(LeafIndex{r.u32()});
  const std::size_t n = read_count(r, kMaxHeldKeys);
  std::optional<std::uint32_t> prev;
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    const std::uint32_t node = r.u32();
    LeafKey key = read_fixed_secret<crypto::kX25519KeySize>(r);
    check_ascending(r, prev, node);
    keys.set_key(NodeIndex{node}, std::move(key));
  }
  return keys;
}

std::vector<PendingUpdate> read_pending_updates(Reader& r) {
  const std::size_t n = read_count(r, kMaxProposalsPerEpoch);
  std::vector<PendingUpdate> out;
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    PendingUpdate u;
    u.ref = read_digest(r);
    u.key = read_fixed_secret<crypto::kX25519KeySize>(r);
    out.push_back(std::move(u));
  }
  return out;
}

std::optional<PastEpoch> read_past(Reader& r) {
  auto view = std::make_shared<PastView>();
  read(r, view->context);
  const std::size_t n = read_count(r, kMaxGroupLeaves);
  std::optional<std::uint32_t> prev;
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    Member m;
    m.leaf = LeafIndex{r.u32()};
    read(r, m.credential);
    m.signature_key = r.opaque_bytes();
    check_ascending(r, prev, m.leaf.v);
    view->members.push_back(std::move(m));
  }
  auto tree = read_secret_tree(r);
  crypto::SecretBytes sender_data_secret = read_secret(r, false);
  crypto::SecretBytes resumption_psk = read_secret(r, false);
  if (!tree || !r.ok()) return std::nullopt;
  return PastEpoch{std::move(view), std::move(*tree), std::move(sender_data_secret), std::move(resumption_psk)};
}

// What ties the decoded parts of `d` together (its public group is already
// restored and checked against itself).
MlsResult<void> check_consistent(const Data& d, BytesView interim_transcript_hash) {
  const PublicGroup& g = *d.group;
  const LeafNode* mine = g.tree().leaf(d.own);
  if (mine == nullptr) return fail(Error::InvalidTree);
  const crypto::SigningKey& key = d.signing_key;
  if (!same_bytes(key.public_key, mine->signature_key) ||
      !same_bytes(key.public_key, key.secret.view().subspan(crypto::kEd25519SeedSize))) {
    return fail(Error::InvalidLeafNode);
  }

  const GroupContext& ctx = g.context();
  if (d.confirmation_tag.size() != kHashSize) return fail(Error::InvalidConfirmationTag);
  if (auto ok = verify_confirmation_tag(d.secrets.confirmation_key.view(), ctx.confirmed_transcript_hash,
                                        d.confirmation_tag);
      !ok) {
    return ok;
  }
  const Digest interim = mls::interim_transcript_hash(ctx.confirmed_transcript_hash, d.confirmation_tag);
  if (!same_bytes(interim, interim_transcript_hash)) return fail(Error::InvalidValue);

  // A removed member holds no key of the group any more (process_commit).
  if (d.removed) {
    if (d.private_tree.size() != 0 || !d.pending_updates.empty()) return fail(Error::InvalidValue);
  } else if (d.private_tree.own_leaf() != d.own || d.private_tree.key(to_node(d.own)) == nullptr) {
    return fail(Error::InvalidTree);
  }
  if (auto ok = d.private_tree.check_consistent(g.tree()); !ok) return ok;
  if (d.secret_tree->n_leaves() != g.tree().n_leaves()) return fail(Error::InvalidTree);
  for (const PendingUpdate& u : d.pending_updates) {
    if (g.proposals().find(u.ref) == nullptr) return fail(Error::InvalidValue);
  }

  // Newest first, one epoch apart, ending just below the current one.
  for (std::size_t i = 0; i < d.past.size(); ++i) {
    const GroupContext& past = d.past[i].view->context;
    if (past.epoch >= ctx.epoch || ctx.epoch - past.epoch != i + 1) return fail(Error::InvalidValue);
    if (past.group_id != ctx.group_id) return fail(Error::InvalidValue);
  }
  return {};
}

}  // namespace

Bytes GroupState::serialize() const {
  const Data& d = impl_->d;
  const PublicGroup& g = *d.group;
  SecretWriter w;
  w.u16(kGroupStateFormat);

  {
    // Public values: built in a plain buffer of their own (see SecretWriter).
    Writer public_part;
    codec_detail::write_public_part(public_part, g);
    w.raw(public_part.bytes());
  }

  w.u32(d.own.v);
  w.u8(d.removed ? std::uint8_t{1} : std::uint8_t{0});
  w.opaque(d.confirmation_tag);
  w.u32(d.private_tree.own_leaf().v);
  w.count(d.private_tree.keys().size());
  for (const auto& [node, key] : d.private_tree.keys()) {
    w.u32(node);
    w.raw(key.view());
  }
  for_each_secret(d.secrets, [&](const crypto::SecretBytes& s) { w.opaque(s.view()); });
  // Every state that start_epoch_secrets() finished has its secret tree.
  write_secret_tree(w, *d.secret_tree);
  w.count(d.pending_updates.size());
  for (const PendingUpdate& u : d.pending_updates) {
    w.raw(u.ref);
    w.raw(u.key.view());
  }
  w.count(d.past.size());
  for (const PastEpoch& past : d.past) write_past(w, past);
  return w.take();
}

MlsResult<GroupState> GroupState::load(BytesView encoded, crypto::SigningKey signing_key, RolePolicy policy) {
  Reader r(encoded);
  const std::uint16_t format = r.u16();
  if (const auto e = r.error()) return fail(*e);
  if (format != kGroupStateFormat) return fail(Error::InvalidValue);

  codec_detail::PublicPart public_part = codec_detail::read_public_part(r);

  Data d;
  d.own = LeafIndex{r.u32()};
  const std::uint8_t removed = r.u8();
  if (removed > 1) r.set_error(Error::InvalidValue);
  d.removed = removed == 1;
  d.confirmation_tag = r.opaque_bytes();
  d.private_tree = read_private_tree(r);
  for_each_secret(d.secrets, [&](crypto::SecretBytes& s) { s = read_secret(r, true); });
  d.secret_tree = read_secret_tree(r);
  d.pending_updates = read_pending_updates(r);
  const std::size_t n_past = read_count(r, kMaxPastEpochs);
  for (std::size_t i = 0; i < n_past && r.ok(); ++i) {
    auto past = read_past(r);
    if (!past) break;
    d.past.push_back(std::move(*past));
  }
  if (auto done = r.finish(); !done) return fail(done.error());

  auto group = codec_detail::restore_public_part(std::move(public_part), policy);
  if (!group) return fail(group.error());
  d.group = std::make_shared<const PublicGroup>(std::move(*group));
  d.signing_key = std::move(signing_key);
  if (auto ok = check_consistent(d, d.group->interim_transcript_hash()); !ok) return fail(ok.error());
  return GroupState(std::make_unique<Impl>(Impl{std::move(d)}));
}

}  // namespace hearth::mls
