// SPDX-License-Identifier: Apache-2.0
#include "client/core/key_packages.h"

#include <algorithm>

#include "common/mls/codec.h"

namespace hearth::client {

KeyPackagePlan plan_key_packages(std::uint32_t relay_stock, const std::vector<StoredKeyPackage>& local,
                                 std::uint64_t now_s, const KeyPackagePolicy& policy) {
  KeyPackagePlan plan;
  bool last_resort_fresh = false;
  for (const auto& p : local) {
    if (p.not_after + kKeyPackageKeepSeconds < now_s) {
      plan.drop.push_back(p.ref);
      continue;
    }
    if (p.last_resort && p.not_after > now_s + kLastResortRenewSeconds) last_resort_fresh = true;
  }
  plan.last_resort = !last_resort_fresh;
  if (relay_stock < policy.low_water) plan.one_time = std::max(policy.target, policy.low_water) - relay_stock;
  return plan;
}

Bytes encode_bundle(const mls::KeyPackageBundle& bundle) {
  mls::Writer w;
  write(w, bundle.key_package);
  w.opaque(bundle.init_key.secret.view());
  w.opaque(bundle.encryption_key.secret.view());
  return w.take();
}

mls::MlsResult<mls::KeyPackageBundle> decode_bundle(BytesView encoded) {
  mls::Reader r(encoded);
  mls::KeyPackageBundle b;
  read(r, b.key_package);
  const BytesView init = r.opaque();
  const BytesView enc = r.opaque();
  if (auto done = r.finish(); !done) return fail(done.error());
  auto init_pair = crypto::x25519_from_secret(init);
  auto enc_pair = crypto::x25519_from_secret(enc);
  if (!init_pair || !enc_pair || !std::ranges::equal(init_pair->public_key, b.key_package.init_key) ||
      !std::ranges::equal(enc_pair->public_key, b.key_package.leaf_node.encryption_key)) {
    return fail(mls::Error::InvalidKeyPackage);
  }
  b.init_key = std::move(*init_pair);
  b.encryption_key = std::move(*enc_pair);
  b.ref = mls::key_package_ref(b.key_package);
  return b;
}

NewKeyPackage make_key_package(const AccountId& account, const crypto::SigningKey& identity, bool last_resort,
                               std::uint64_t now_s, const KeyPackagePolicy& policy, Rng& rng) {
  const auto bundle = mls::create_key_package(mls::account_credential(account.v), identity,
                                              mls::account_key_package_options(now_s, policy.lifetime_s), rng);
  NewKeyPackage out;
  out.stored.ref.assign(bundle.ref.begin(), bundle.ref.end());
  out.stored.bundle = encode_bundle(bundle);
  out.stored.last_resort = last_resort;
  out.stored.not_after = bundle.key_package.leaf_node.lifetime.not_after;
  out.published = mls::encode(bundle.key_package);
  return out;
}

}  // namespace hearth::client
