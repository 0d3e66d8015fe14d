// SPDX-License-Identifier: Apache-2.0
#include "common/mls/identity.h"

#include <algorithm>

#include "common/mls/codec.h"
#include "common/mls/roles.h"

namespace hearth::mls {

Credential account_credential(BytesView account_id) { return basic_credential(account_id); }

MlsResult<AccountId> credential_account(const Credential& credential) {
  if (credential.credential_type != CredentialType::Basic || credential.identity.size() != kAccountIdBytes) {
    return fail(Error::ForeignIdentity);
  }
  return AccountId{credential.identity};
}

bool lists_facilitator(const Roles& roles, const AccountId& account) {
  return std::any_of(roles.facilitators.begin(), roles.facilitators.end(),
                     [&](const Bytes& id) { return id == account.v; });
}

KeyPackageOptions account_key_package_options(std::uint64_t now_s, std::uint64_t lifetime_s) {
  KeyPackageOptions o;
  // not_before a little in the past: a receiver whose clock runs behind
  // still accepts the package (validation allows kLifetimeSkewSeconds more).
  o.lifetime = Lifetime{now_s > kLifetimeSkewSeconds ? now_s - kLifetimeSkewSeconds : 0, now_s + lifetime_s};
  o.extensions = {kRolesExtensionType};
  return o;
}

MlsResult<void> check_account_leaf(const LeafNode& leaf, BytesView account_id, BytesView identity_key) {
  const auto& c = leaf.credential;
  const bool names_account = c.credential_type == CredentialType::Basic &&
                             std::ranges::equal(c.identity, account_id) && !account_id.empty();
  const bool own_key = std::ranges::equal(leaf.signature_key, identity_key) && !identity_key.empty();
  if (!names_account || !own_key) return fail(Error::ForeignIdentity);
  return {};
}

MlsResult<AccountKeyPackage> check_account_key_package(BytesView encoded, BytesView account_id,
                                                       BytesView identity_key, std::optional<std::uint64_t> now_s) {
  if (encoded.size() > kMaxKeyPackageSize) return fail(Error::VectorTooLong);
  auto kp = decode<KeyPackage>(encoded);
  if (!kp) return fail(kp.error());
  // Identity first: it is cheap, and a foreign package needs no signature check.
  if (auto own = check_account_leaf(kp->leaf_node, account_id, identity_key); !own) return fail(own.error());
  if (auto valid = validate_key_package(*kp, {}, now_s); !valid) return fail(valid.error());
  AccountKeyPackage out;
  out.ref = key_package_ref(*kp);
  out.not_after = kp->leaf_node.lifetime.not_after;
  out.key_package = std::move(*kp);
  return out;
}

}  // namespace hearth::mls
