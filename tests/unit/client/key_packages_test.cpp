// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "client/core/key_packages.h"
#include "common/mls/codec.h"
#include "tests/support/seeded_rng.h"

using namespace hearth;
using namespace hearth::client;

namespace {

constexpr std::uint64_t kNow = 1'900'000'000;
const AccountId kAccount{Bytes(16, 0x31)};

StoredKeyPackage held(std::uint8_t ref, bool last_resort, std::uint64_t not_after) {
  return StoredKeyPackage{Bytes(32, ref), Bytes{1}, last_resort, not_after};
}

}  // namespace

TEST_CASE("key packages: the plan refills below the low-water mark to the target", "[client][keys]") {
  const KeyPackagePolicy policy;
  const std::vector<StoredKeyPackage> fresh_last{held(1, true, kNow + 20 * 86400)};
  CHECK(plan_key_packages(policy.low_water, fresh_last, kNow, policy).one_time == 0);
  CHECK_FALSE(plan_key_packages(policy.low_water, fresh_last, kNow, policy).publishes());
  CHECK(plan_key_packages(policy.low_water - 1, fresh_last, kNow, policy).one_time ==
        policy.target - policy.low_water + 1);
  CHECK(plan_key_packages(0, fresh_last, kNow, policy).one_time == policy.target);
  // A relay that somehow holds more than the target asks for nothing.
  CHECK(plan_key_packages(policy.target + 50, fresh_last, kNow, policy).one_time == 0);
}

TEST_CASE("key packages: a last resort is made when none is held or it nears expiry", "[client][keys]") {
  const KeyPackagePolicy policy;
  CHECK(plan_key_packages(policy.target, {}, kNow, policy).last_resort);
  CHECK(plan_key_packages(policy.target, {held(1, false, kNow + 20 * 86400)}, kNow, policy).last_resort);
  CHECK(plan_key_packages(policy.target, {held(1, true, kNow + kLastResortRenewSeconds)}, kNow, policy).last_resort);
  CHECK_FALSE(
      plan_key_packages(policy.target, {held(1, true, kNow + kLastResortRenewSeconds + 1)}, kNow, policy).last_resort);
}

TEST_CASE("key packages: private keys are dropped only once a Welcome to them can no longer come",
          "[client][keys]") {
  const KeyPackagePolicy policy;
  const std::vector<StoredKeyPackage> local{held(1, false, kNow - kKeyPackageKeepSeconds),
                                            held(2, false, kNow - kKeyPackageKeepSeconds - 1),
                                            held(3, true, kNow - kKeyPackageKeepSeconds - 1), held(4, false, kNow)};
  const auto plan = plan_key_packages(policy.target, local, kNow, policy);
  REQUIRE(plan.drop.size() == 2);
  CHECK(plan.drop[0] == Bytes(32, 2));
  CHECK(plan.drop[1] == Bytes(32, 3));
  CHECK(plan.last_resort);  // the only last resort is past keeping
}

TEST_CASE("key packages: a made package is ours, and its stored bundle round-trips", "[client][keys]") {
  test::SeededRng rng(7);
  Bytes seed(32);
  rng.fill(seed);
  const auto key = crypto::ed25519_from_seed(seed).value();
  const Bytes pub(key.public_key.begin(), key.public_key.end());
  const auto made = make_key_package(kAccount, key, true, kNow, KeyPackagePolicy{}, rng);
  CHECK(made.stored.last_resort);
  CHECK(made.stored.not_after == kNow + mls::kDefaultKeyPackageLifetimeSeconds);
  auto checked = mls::check_account_key_package(made.published, kAccount.v, pub, kNow);
  REQUIRE(checked);
  CHECK(Bytes(checked->ref.begin(), checked->ref.end()) == made.stored.ref);

  auto bundle = decode_bundle(made.stored.bundle);
  REQUIRE(bundle);
  CHECK(mls::encode(bundle->key_package) == made.published);
  CHECK(Bytes(bundle->ref.begin(), bundle->ref.end()) == made.stored.ref);
  CHECK(std::ranges::equal(bundle->init_key.public_key, bundle->key_package.init_key));
  CHECK(encode_bundle(*bundle) == made.stored.bundle);

  // A bundle whose private key does not match its package, or that is cut short, is refused.
  Bytes wrong = made.stored.bundle;
  wrong[wrong.size() - 1] ^= 0x01;  // the last byte of the encryption private key
  auto mismatched = decode_bundle(wrong);
  REQUIRE_FALSE(mismatched);
  CHECK(mismatched.error() == mls::Error::InvalidKeyPackage);
  auto cut = decode_bundle(BytesView(made.stored.bundle).first(made.stored.bundle.size() - 1));
  REQUIRE_FALSE(cut);
  CHECK(cut.error() == mls::Error::Truncated);
}
