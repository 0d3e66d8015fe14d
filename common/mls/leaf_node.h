// SPDX-License-Identifier: Apache-2.0
#pragma once
// Credentials, leaf nodes and KeyPackages (RFC 9420 §5.3, §7.2-7.3, §10):
// creation, signing and the validation a receiver does.
//
// Time is a parameter: `now_s` is Unix seconds, or nullopt to skip the
// lifetime check (the official vectors carry packages that expired in 2024).
// Nothing here draws randomness except through the Rng passed in.

#include <cstdint>
#include <optional>
#include <span>

#include "common/crypto/crypto.h"
#include "common/mls/error.h"
#include "common/mls/tree_math.h"
#include "common/mls/wire.h"
#include "common/types/rng.h"

namespace hearth::mls {

/// Default KeyPackage lifetime when a caller does not choose one (§10: a
/// package is valid for a bounded time; Hearth refreshes them weekly).
inline constexpr std::uint64_t kDefaultKeyPackageLifetimeSeconds = 28ull * 24 * 3600;
/// Largest tolerated clock skew when checking `not_before`.
inline constexpr std::uint64_t kLifetimeSkewSeconds = 3600;
/// Longest lifetime (not_after - not_before) a KeyPackage leaf may claim
/// (§7.2: applications MUST bound it). Checked with the lifetime, so only
/// when a time is given.
inline constexpr std::uint64_t kMaxLeafLifetimeSeconds = 90ull * 24 * 3600;

/// A Basic credential (the only kind Hearth issues) for `identity`.
[[nodiscard]] Credential basic_credential(BytesView identity);

/// The capabilities every Hearth leaf advertises: mls10, suite 0x0003, Basic
/// credentials, and `extensions` (Hearth passes its roles extension type).
[[nodiscard]] Capabilities default_capabilities(std::span<const std::uint16_t> extensions);

/// Binds an Update or Commit leaf's signature to its group and position
/// (LeafNodeTBS, §7.2). KeyPackage leaves have none.
struct LeafBinding {
  BytesView group_id;
  LeafIndex leaf;
};

/// LeafNodeTBS: the bytes a leaf's signature covers.
[[nodiscard]] Bytes leaf_node_tbs(const LeafNode& leaf, const std::optional<LeafBinding>& binding);
/// Sets `leaf.signature` (label "LeafNodeTBS").
void sign_leaf_node(LeafNode& leaf, const crypto::SigningKey& key, const std::optional<LeafBinding>& binding);
/// InvalidSignature unless `leaf.signature` verifies under `leaf.signature_key`.
[[nodiscard]] MlsResult<void> verify_leaf_node_signature(const LeafNode& leaf,
                                                         const std::optional<LeafBinding>& binding);

/// What a leaf is checked against when it enters a group (§7.3).
struct LeafContext {
  LeafNodeSource expected_source = LeafNodeSource::KeyPackage;
  std::optional<LeafBinding> binding;          // required for Update and Commit sources
  std::span<const Extension> group_extensions;  // the GroupContext's extensions
  std::optional<std::uint64_t> now_s;           // nullopt: lifetime not checked
};
/// The per-leaf checks of §7.3: signature (InvalidSignature), source
/// (InvalidLeafNode), credential type Basic and listed in its own
/// capabilities (Unsupported / InvalidLeafNode), capabilities include mls10,
/// suite 0x0003, every non-default extension type of the group context and of
/// the leaf itself, and the group's required_capabilities (InvalidLeafNode),
/// lifetime for KeyPackage leaves when `now_s` is set: now within
/// [not_before - kLifetimeSkewSeconds, not_after], not_before <= not_after and
/// a span of at most kMaxLeafLifetimeSeconds (LifetimeExpired), key sizes
/// (InvalidLeafNode). The signature is checked last, so a leaf that is only
/// tampered with fails with InvalidSignature.
/// Group-wide checks (duplicate keys, credential types supported by all
/// members) belong to the tree: PublicTree::check_new_leaf.
[[nodiscard]] MlsResult<void> validate_leaf_node(const LeafNode& leaf, const LeafContext& context);

// ---- KeyPackages (§10) ----

/// A KeyPackage with the private keys its owner keeps until it is used.
struct KeyPackageBundle {
  KeyPackage key_package;
  crypto::X25519KeyPair init_key;        // HPKE key the Welcome is encrypted to
  crypto::X25519KeyPair encryption_key;  // the leaf's HPKE key once in the tree
  Digest ref{};                          // KeyPackageRef
};

struct KeyPackageOptions {
  Lifetime lifetime;                      // Unix seconds
  std::vector<std::uint16_t> extensions;  // advertised in capabilities
  std::vector<Extension> leaf_extensions;
  std::vector<Extension> key_package_extensions;
};

/// A signed KeyPackage with fresh init and encryption keys from `rng`.
[[nodiscard]] KeyPackageBundle create_key_package(const Credential& credential, const crypto::SigningKey& key,
                                                  const KeyPackageOptions& options, Rng& rng);

/// KeyPackageTBS, the bytes the package signature covers.
[[nodiscard]] Bytes key_package_tbs(const KeyPackage& kp);
/// §10.1: version mls10 (UnsupportedVersion), suite 0x0003
/// (UnsupportedCipherSuite), signature with label "KeyPackageTBS"
/// (InvalidSignature), the leaf valid with source KeyPackage, init_key
/// different from the leaf's encryption key (InvalidKeyPackage).
/// `group_extensions` are those of the group the package is added to (empty
/// when checking a package on its own).
[[nodiscard]] MlsResult<void> validate_key_package(const KeyPackage& kp, std::span<const Extension> group_extensions,
                                                   std::optional<std::uint64_t> now_s);

/// KeyPackageRef = RefHash("MLS 1.0 KeyPackage Reference", KeyPackage).
[[nodiscard]] Digest key_package_ref(const KeyPackage& kp);

}  // namespace hearth::mls
