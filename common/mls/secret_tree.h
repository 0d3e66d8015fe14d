// SPDX-License-Identifier: Apache-2.0
#pragma once
// The secret tree (RFC 9420 §9): per-sender handshake and application hash
// ratchets under one epoch's encryption secret.
//
// Forward secrecy: a tree node's secret is deleted as soon as both children
// are derived, a ratchet secret as soon as the next one is, and a key as soon
// as it is handed out. Out-of-order delivery is served from a bounded window
// of keys for skipped generations.
//
// Thread affinity: none; a SecretTree is a value owned by one epoch's state.

#include <array>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "common/crypto/secret.h"
#include "common/mls/cipher_suite.h"
#include "common/mls/error.h"
#include "common/mls/tree_math.h"

namespace hearth::mls {

/// How far past the next expected generation a receiver will ratchet.
inline constexpr std::uint32_t kMaxForwardRatchetDistance = 1024;
/// How many keys of skipped generations a ratchet keeps; the oldest go first.
inline constexpr std::size_t kOutOfOrderWindow = 128;

enum class RatchetType { Handshake, Application };

struct RatchetKey {
  std::uint32_t generation = 0;
  crypto::Secret<kAeadKeySize> key;
  std::array<std::uint8_t, kAeadNonceSize> nonce{};
};

/// One sender's hash ratchet.
class HashRatchet {
 public:
  explicit HashRatchet(crypto::SecretBytes secret) noexcept : secret_(std::move(secret)) {}

  /// Sender side: the key for next_generation(), then advance.
  /// GenerationTooFarAhead once the 32-bit counter is spent.
  [[nodiscard]] MlsResult<RatchetKey> next();
  /// Receiver side: the key for `generation`, deleted from the ratchet.
  /// GenerationExpired for a generation already used or evicted from the
  /// window; GenerationTooFarAhead beyond kMaxForwardRatchetDistance.
  [[nodiscard]] MlsResult<RatchetKey> get(std::uint32_t generation);

  /// Puts back a key taken by get() that turned out not to be needed (its
  /// message failed to decrypt), so a forged message cannot burn keys.
  void restore(RatchetKey key);

  /// A deep copy (a member state's clone()).
  [[nodiscard]] HashRatchet clone() const;

  [[nodiscard]] std::uint32_t next_generation() const noexcept { return next_generation_; }
  [[nodiscard]] std::size_t retained_keys() const noexcept { return skipped_.size(); }

  // ---- the sealed local store (GroupState::serialize / load) ----
  /// The secret of next_generation().
  [[nodiscard]] BytesView secret() const noexcept { return secret_.view(); }
  /// The keys kept for skipped generations, by generation.
  [[nodiscard]] const std::map<std::uint32_t, RatchetKey>& skipped_keys() const noexcept { return skipped_; }
  /// A ratchet as secret(), next_generation() and skipped_keys() described
  /// it. InvalidValue unless `secret` is Nh bytes and `skipped` holds at
  /// most kOutOfOrderWindow keys, each filed under its own generation and
  /// below `next_generation`.
  [[nodiscard]] static MlsResult<HashRatchet> restore(crypto::SecretBytes secret, std::uint32_t next_generation,
                                                      std::map<std::uint32_t, RatchetKey> skipped);

 private:
  RatchetKey derive_and_advance();

  crypto::SecretBytes secret_;
  std::uint32_t next_generation_ = 0;
  std::map<std::uint32_t, RatchetKey> skipped_;
};

class SecretTree {
 public:
  /// Precondition (checked, InvalidValue): 0 < n_leaves <= kMaxTreeLeaves.
  [[nodiscard]] static MlsResult<SecretTree> create(crypto::SecretBytes encryption_secret, std::uint32_t n_leaves);

  /// Sender side: the next key of `sender`'s ratchet. SenderOutOfRange for a
  /// leaf outside the tree.
  [[nodiscard]] MlsResult<RatchetKey> next_key(LeafIndex sender, RatchetType type);
  /// Receiver side: the key of `generation`, which is then deleted.
  [[nodiscard]] MlsResult<RatchetKey> key_for(LeafIndex sender, RatchetType type, std::uint32_t generation);

  /// Puts back a key from key_for() whose message failed (see HashRatchet::restore).
  void restore(LeafIndex sender, RatchetType type, RatchetKey key);

  /// A deep copy, so a state transition can work on its own copy and leave
  /// the original untouched.
  [[nodiscard]] SecretTree clone() const;

  [[nodiscard]] std::uint32_t n_leaves() const noexcept { return n_leaves_; }

  // ---- the sealed local store (GroupState::serialize / load) ----
  using RatchetPair = std::pair<HashRatchet, HashRatchet>;  // (handshake, application)
  /// The tree secrets not yet derived into children or ratchets, by node index.
  [[nodiscard]] const std::map<std::uint32_t, crypto::SecretBytes>& node_secrets() const noexcept { return nodes_; }
  /// The ratchets of the leaves used so far, by leaf index.
  [[nodiscard]] const std::map<std::uint32_t, RatchetPair>& leaf_ratchets() const noexcept { return ratchets_; }
  /// A tree as n_leaves(), node_secrets() and leaf_ratchets() described it.
  /// InvalidValue for a leaf count outside (0, kMaxTreeLeaves], a node
  /// outside the tree, a node secret not Nh bytes, or a leaf outside it.
  [[nodiscard]] static MlsResult<SecretTree> restore(std::uint32_t n_leaves,
                                                     std::map<std::uint32_t, crypto::SecretBytes> nodes,
                                                     std::map<std::uint32_t, RatchetPair> ratchets);

 private:
  SecretTree(crypto::SecretBytes encryption_secret, std::uint32_t n_leaves);
  [[nodiscard]] MlsResult<HashRatchet*> ratchet(LeafIndex sender, RatchetType type);

  std::uint32_t n_leaves_ = 0;
  // Sparse: only the secrets derived and not yet deleted, so a huge leaf
  // count costs nothing until its leaves are used.
  std::map<std::uint32_t, crypto::SecretBytes> nodes_;
  std::map<std::uint32_t, std::pair<HashRatchet, HashRatchet>> ratchets_;  // leaf -> (handshake, application)
};

struct SenderDataKey {
  crypto::Secret<kAeadKeySize> key;
  std::array<std::uint8_t, kAeadNonceSize> nonce{};
};
/// The key and nonce protecting a PrivateMessage's sender data (RFC 9420
/// §6.3.2), from the first Nh bytes of its ciphertext.
[[nodiscard]] SenderDataKey sender_data_key(BytesView sender_data_secret, BytesView ciphertext);

}  // namespace hearth::mls
