// SPDX-License-Identifier: Apache-2.0
#pragma once
// Our stock of KeyPackages (DESIGN.md §3-4, RFC 9420 §10, §16.8): the relay
// hands each one-time package to one adder, so the device keeps some there,
// tops them up when they run low, and keeps one last-resort package that is
// handed out when the stock is empty. The private keys stay in the sealed
// local store until the package expires (plus the time a Welcome to it may
// wait at the relay) or a Welcome uses it.
//
// Pure functions: the engine (engine_keys.cpp) does the I/O.

#include <cstdint>
#include <vector>

#include "client/core/local_store.h"
#include "common/mls/identity.h"

namespace hearth::client {

/// One-time packages the device keeps at the relay after a top-up.
inline constexpr std::uint32_t kKeyPackageTarget = 20;
/// A top-up starts when the relay holds fewer one-time packages than this.
inline constexpr std::uint32_t kKeyPackageLowWater = 5;
/// A last-resort package is replaced when it expires within this time.
inline constexpr std::uint64_t kLastResortRenewSeconds = 7ull * 24 * 3600;
/// How long private keys are kept past their package's expiry: a Welcome
/// made just before it can wait at the relay this long (its default
/// retention limit) for a device that is away.
inline constexpr std::uint64_t kKeyPackageKeepSeconds = 14ull * 24 * 3600;

struct KeyPackagePolicy {
  std::uint32_t target = kKeyPackageTarget;
  std::uint32_t low_water = kKeyPackageLowWater;
  std::uint64_t lifetime_s = mls::kDefaultKeyPackageLifetimeSeconds;
};

/// What a top-up must do.
struct KeyPackagePlan {
  std::uint32_t one_time = 0;   // new one-time packages to make and publish
  bool last_resort = false;     // make and publish a new last-resort package
  std::vector<Bytes> drop;      // refs of local packages past keeping
  [[nodiscard]] bool publishes() const noexcept { return one_time != 0 || last_resort; }
};

/// Given the relay's one-time stock and what the device holds at `now_s`.
[[nodiscard]] KeyPackagePlan plan_key_packages(std::uint32_t relay_stock, const std::vector<StoredKeyPackage>& local,
                                               std::uint64_t now_s, const KeyPackagePolicy& policy);

/// A bundle as the local store keeps it: the KeyPackage and both private keys.
[[nodiscard]] Bytes encode_bundle(const mls::KeyPackageBundle& bundle);
/// Its inverse; the private keys must match the package's public keys
/// (InvalidKeyPackage), the encoding must be exact (codec errors).
[[nodiscard]] mls::MlsResult<mls::KeyPackageBundle> decode_bundle(BytesView encoded);

/// A new package of our account, signed with our identity key: what the
/// local store keeps, and the KeyPackage as PublishKeys carries it.
struct NewKeyPackage {
  StoredKeyPackage stored;
  Bytes published;
};
[[nodiscard]] NewKeyPackage make_key_package(const AccountId& account, const crypto::SigningKey& identity,
                                             bool last_resort, std::uint64_t now_s, const KeyPackagePolicy& policy,
                                             Rng& rng);

}  // namespace hearth::client
