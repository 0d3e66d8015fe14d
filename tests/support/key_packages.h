// SPDX-License-Identifier: Apache-2.0
#pragma once
// Real MLS KeyPackages for a test identity, as a Hearth device publishes
// them: its account's credential and its identity key as signature key.

#include <chrono>
#include <cstdint>

#include "common/crypto/crypto.h"
#include "common/mls/codec.h"
#include "common/mls/identity.h"

namespace hearth::test {

[[nodiscard]] inline std::uint64_t unix_now_s() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

/// An encoded KeyPackage of `account` signed by `key`, valid from `now_s`.
[[nodiscard]] inline Bytes key_package_for(const AccountId& account, const crypto::SigningKey& key,
                                           std::uint64_t now_s = unix_now_s(),
                                           std::uint64_t lifetime_s = mls::kDefaultKeyPackageLifetimeSeconds) {
  crypto::SystemRng rng;
  return mls::encode(mls::create_key_package(mls::account_credential(account.v), key,
                                             mls::account_key_package_options(now_s, lifetime_s), rng)
                         .key_package);
}

}  // namespace hearth::test
