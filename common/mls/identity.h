// SPDX-License-Identifier: Apache-2.0
#pragma once
// Hearth identity in MLS (DESIGN.md §3-4): one device per account; its
// Ed25519 identity key is also its MLS signature key, and its Basic
// credential names the account id. The relay checks every KeyPackage it is
// given against the uploader; clients check every new member against the key
// they pinned for that account.

#include <cstdint>
#include <optional>

#include "common/mls/leaf_node.h"
#include "common/mls/roles.h"
#include "common/types/ids.h"

namespace hearth::mls {

/// Largest encoded KeyPackage accepted (a Hearth package is about 300 bytes;
/// the bound keeps a hostile upload from filling the relay's stock table).
inline constexpr std::size_t kMaxKeyPackageSize = 4096;

/// Bytes in an account id (the relay's; common/wire checks they agree).
inline constexpr std::size_t kAccountIdBytes = 16;

/// The account a leaf's Basic credential names (ForeignIdentity when it is
/// no account id).
[[nodiscard]] MlsResult<AccountId> credential_account(const Credential& credential);
/// Whether the roles list `account` as a facilitator.
[[nodiscard]] bool lists_facilitator(const Roles& roles, const AccountId& account);

/// The credential of `account_id`'s device.
[[nodiscard]] Credential account_credential(BytesView account_id);

/// The options of every Hearth KeyPackage: the roles extension advertised,
/// valid from `now_s` for `lifetime_s`.
[[nodiscard]] KeyPackageOptions account_key_package_options(std::uint64_t now_s,
                                                            std::uint64_t lifetime_s = kDefaultKeyPackageLifetimeSeconds);

/// ForeignIdentity unless `leaf` carries a Basic credential naming
/// `account_id` and `identity_key` as its signature key.
[[nodiscard]] MlsResult<void> check_account_leaf(const LeafNode& leaf, BytesView account_id, BytesView identity_key);

/// A KeyPackage that passed check_account_key_package.
struct AccountKeyPackage {
  KeyPackage key_package;
  Digest ref{};
  std::uint64_t not_after = 0;  // Unix seconds
};

/// Decodes one TLS-encoded KeyPackage (at most kMaxKeyPackageSize bytes, no
/// trailing bytes), validates it on its own (RFC 9420 §10.1, lifetime at
/// `now_s` when given) and checks that it is `account_id`'s with
/// `identity_key`. Errors: VectorTooLong (oversized), the codec's and
/// validate_key_package's errors, ForeignIdentity.
[[nodiscard]] MlsResult<AccountKeyPackage> check_account_key_package(BytesView encoded, BytesView account_id,
                                                                     BytesView identity_key,
                                                                     std::optional<std::uint64_t> now_s);

}  // namespace hearth::mls
