// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <algorithm>

#include "common/mls/codec.h"
#include "common/mls/identity.h"
#include "common/mls/roles.h"
#include "tests/support/seeded_rng.h"

using namespace hearth;
using namespace hearth::mls;

namespace {

constexpr std::uint64_t kNow = 1'900'000'000;  // a fixed "now" in Unix seconds

struct Device {
  Bytes account;
  crypto::SigningKey key;
};

Device device(std::uint8_t b) {
  test::SeededRng rng(b);
  Bytes seed(32);
  rng.fill(seed);
  return Device{Bytes(16, b), crypto::ed25519_from_seed(seed).value()};
}

BytesView pub(const Device& d) { return BytesView(d.key.public_key); }

Bytes package_of(const Device& d, test::SeededRng& rng, std::uint64_t now_s = kNow) {
  return encode(create_key_package(account_credential(d.account), d.key, account_key_package_options(now_s), rng)
                    .key_package);
}

}  // namespace

TEST_CASE("identity: an account's own KeyPackage passes, with its ref and expiry", "[mls][identity]") {
  test::SeededRng rng(1);
  const auto alice = device(1);
  const Bytes kp = package_of(alice, rng);
  auto ok = check_account_key_package(kp, alice.account, pub(alice), kNow);
  REQUIRE(ok);
  CHECK(ok->not_after == kNow + kDefaultKeyPackageLifetimeSeconds);
  CHECK(ok->ref == key_package_ref(ok->key_package));
  CHECK(ok->key_package.leaf_node.credential.identity == alice.account);
  // Every Hearth package advertises the roles extension.
  const auto& ext = ok->key_package.leaf_node.capabilities.extensions;
  CHECK(std::find(ext.begin(), ext.end(), kRolesExtensionType) != ext.end());
  // A receiver whose clock is a little behind still accepts it.
  CHECK(check_account_key_package(kp, alice.account, pub(alice), kNow - kLifetimeSkewSeconds));
}

TEST_CASE("identity: a KeyPackage naming another account or with another key is foreign", "[mls][identity]") {
  test::SeededRng rng(2);
  const auto alice = device(1);
  const auto mallory = device(2);
  const Bytes alices = package_of(alice, rng);
  // Mallory uploads Alice's package as hers: not her account, not her key.
  auto as_mallory = check_account_key_package(alices, mallory.account, pub(mallory), kNow);
  REQUIRE_FALSE(as_mallory);
  CHECK(as_mallory.error() == Error::ForeignIdentity);
  // Mallory's key, but a credential naming Alice's account.
  const Bytes forged = encode(
      create_key_package(account_credential(alice.account), mallory.key, account_key_package_options(kNow), rng)
          .key_package);
  auto claimed = check_account_key_package(forged, alice.account, pub(alice), kNow);
  REQUIRE_FALSE(claimed);
  CHECK(claimed.error() == Error::ForeignIdentity);
  auto own_account_other_key = check_account_key_package(forged, alice.account, pub(mallory), kNow);
  CHECK(own_account_other_key);  // consistent on its own: the relay compares it with the uploader's key
  auto empty = check_account_key_package(alices, {}, {}, kNow);
  REQUIRE_FALSE(empty);
  CHECK(empty.error() == Error::ForeignIdentity);
}

TEST_CASE("identity: a tampered, truncated, oversized or expired KeyPackage is refused", "[mls][identity]") {
  test::SeededRng rng(3);
  const auto alice = device(1);
  const Bytes kp = package_of(alice, rng);

  Bytes tampered = kp;
  tampered[tampered.size() - 1] ^= 0x01;  // the package signature
  auto bad_sig = check_account_key_package(tampered, alice.account, pub(alice), kNow);
  REQUIRE_FALSE(bad_sig);
  CHECK(bad_sig.error() == Error::InvalidSignature);

  auto truncated = check_account_key_package(BytesView(kp).first(kp.size() - 3), alice.account, pub(alice), kNow);
  REQUIRE_FALSE(truncated);
  CHECK(truncated.error() == Error::Truncated);

  Bytes trailing = kp;
  trailing.push_back(0);
  auto extra = check_account_key_package(trailing, alice.account, pub(alice), kNow);
  REQUIRE_FALSE(extra);
  CHECK(extra.error() == Error::TrailingBytes);

  const Bytes huge(kMaxKeyPackageSize + 1, 0x01);
  auto oversized = check_account_key_package(huge, alice.account, pub(alice), kNow);
  REQUIRE_FALSE(oversized);
  CHECK(oversized.error() == Error::VectorTooLong);
  CHECK(kp.size() < kMaxKeyPackageSize);

  auto expired =
      check_account_key_package(kp, alice.account, pub(alice), kNow + kDefaultKeyPackageLifetimeSeconds + 1);
  REQUIRE_FALSE(expired);
  CHECK(expired.error() == Error::LifetimeExpired);
  auto not_yet = check_account_key_package(kp, alice.account, pub(alice), kNow - 3 * kLifetimeSkewSeconds);
  REQUIRE_FALSE(not_yet);
  CHECK(not_yet.error() == Error::LifetimeExpired);

  // Garbage of every short length never crashes and is always refused.
  for (std::size_t n = 0; n < 64; ++n) {
    Bytes junk(n);
    rng.fill(junk);
    CHECK_FALSE(check_account_key_package(junk, alice.account, pub(alice), kNow));
  }
}

TEST_CASE("identity: check_account_leaf wants a Basic credential with the account and its key", "[mls][identity]") {
  test::SeededRng rng(4);
  const auto alice = device(1);
  const auto bundle =
      create_key_package(account_credential(alice.account), alice.key, account_key_package_options(kNow), rng);
  LeafNode leaf = bundle.key_package.leaf_node;
  CHECK(check_account_leaf(leaf, alice.account, pub(alice)));
  leaf.credential.credential_type = CredentialType::X509;
  CHECK_FALSE(check_account_leaf(leaf, alice.account, pub(alice)));
  leaf = bundle.key_package.leaf_node;
  leaf.credential.identity.back() ^= 1;
  CHECK_FALSE(check_account_leaf(leaf, alice.account, pub(alice)));
}
