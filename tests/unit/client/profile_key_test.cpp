// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "client/core/profile_key.h"
#include "tests/support/file_bytes.h"
#include "tests/support/profile.h"

using namespace hearth;
using namespace hearth::client;

namespace {

std::pair<ProfileKey, WrappedProfileKey> fresh(std::string_view passphrase = test::kTestPassphrase) {
  auto c = ProfileKey::create(passphrase, test::kTestKdf);
  REQUIRE(c);
  return std::move(*c);
}

}  // namespace

TEST_CASE("profile key: the right passphrase unlocks the same key, a wrong one is told apart", "[client][profile]") {
  auto [key, wrapped] = fresh();
  CHECK(wrapped.salt.size() == crypto::kArgon2SaltSize);
  CHECK(wrapped.kdf.ops_limit == test::kTestKdf.ops_limit);
  CHECK(wrapped.kdf.mem_limit == test::kTestKdf.mem_limit);
  const Bytes sealed = key.seal("envelope", to_bytes("room 1, seq 2"), to_bytes("I could not save her"));
  CHECK(sealed.size() == std::string_view("I could not save her").size() + kSealOverhead);

  auto again = ProfileKey::unlock(test::kTestPassphrase, wrapped);
  REQUIRE(again);
  auto plain = again->open("envelope", to_bytes("room 1, seq 2"), sealed);
  REQUIRE(plain);
  CHECK(to_string_bytes(*plain) == "I could not save her");

  auto wrong = ProfileKey::unlock("a test passphrase, not a secreT", wrapped);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == store::StoreCode::WrongPassphrase);
}

TEST_CASE("profile key: the plaintext is not in the record and each record has its own nonce", "[client][profile]") {
  auto [key, wrapped] = fresh();
  const Bytes text = to_bytes("the night shift after the code");
  const Bytes a = key.seal("envelope", {}, text);
  const Bytes b = key.seal("envelope", {}, text);
  CHECK(a != b);
  CHECK_FALSE(test::contains(a, text));
  CHECK(BytesView(a).first(crypto::kXAeadNonceSize).size() == crypto::kXAeadNonceSize);
  CHECK_FALSE(std::equal(a.begin(), a.begin() + crypto::kXAeadNonceSize, b.begin()));
}

TEST_CASE("profile key: a record opens only with its own label and context, undamaged", "[client][profile]") {
  auto [key, wrapped] = fresh();
  const Bytes sealed = key.seal("outbox", to_bytes("id 1"), to_bytes("draft"));
  REQUIRE(key.open("outbox", to_bytes("id 1"), sealed));

  auto moved_row = key.open("outbox", to_bytes("id 2"), sealed);
  REQUIRE_FALSE(moved_row);
  CHECK(moved_row.error().code == store::StoreCode::Undecryptable);
  auto moved_table = key.open("envelope", to_bytes("id 1"), sealed);
  REQUIRE_FALSE(moved_table);
  CHECK(moved_table.error().code == store::StoreCode::Undecryptable);
  // The label ends before the context: "outbox" + "id 1" is not "outboxi" + "d 1".
  auto shifted = key.open("outboxi", to_bytes("d 1"), sealed);
  REQUIRE_FALSE(shifted);
  CHECK(shifted.error().code == store::StoreCode::Undecryptable);

  for (std::size_t i : {std::size_t{0}, crypto::kXAeadNonceSize, sealed.size() - 1}) {
    Bytes flipped = sealed;
    flipped[i] ^= 0x01;
    auto r = key.open("outbox", to_bytes("id 1"), flipped);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == store::StoreCode::Undecryptable);
  }
  for (std::size_t n : {std::size_t{0}, kSealOverhead - 1, sealed.size() - 1}) {
    auto r = key.open("outbox", to_bytes("id 1"), BytesView(sealed).first(n));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == store::StoreCode::Undecryptable);
  }
  // Another profile's key opens nothing of this one.
  auto [other, other_wrapped] = fresh();
  auto foreign = other.open("outbox", to_bytes("id 1"), sealed);
  REQUIRE_FALSE(foreign);
  CHECK(foreign.error().code == store::StoreCode::Undecryptable);
}

TEST_CASE("profile key: an empty or overlong passphrase is refused before any work", "[client][profile]") {
  auto empty = ProfileKey::create("", test::kTestKdf);
  REQUIRE_FALSE(empty);
  CHECK(empty.error().code == store::StoreCode::InvalidPassphrase);
  const std::string longest(kMaxPassphraseSize, 'p');
  REQUIRE(ProfileKey::create(longest, test::kTestKdf));
  auto too_long = ProfileKey::create(longest + "p", test::kTestKdf);
  REQUIRE_FALSE(too_long);
  CHECK(too_long.error().code == store::StoreCode::InvalidPassphrase);

  auto [key, wrapped] = fresh();
  auto unlock_empty = ProfileKey::unlock("", wrapped);
  REQUIRE_FALSE(unlock_empty);
  CHECK(unlock_empty.error().code == store::StoreCode::InvalidPassphrase);
  auto rewrap_long = key.rewrap(longest + "p", test::kTestKdf);
  REQUIRE_FALSE(rewrap_long);
  CHECK(rewrap_long.error().code == store::StoreCode::InvalidPassphrase);
}

TEST_CASE("profile key: a stored cost out of bounds or a malformed wrapping is a damaged file", "[client][profile]") {
  auto [key, wrapped] = fresh();
  auto expect_damaged = [](const WrappedProfileKey& w) {
    auto r = ProfileKey::unlock(test::kTestPassphrase, w);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == store::StoreCode::NotADatabase);
  };
  auto w = wrapped;
  w.kdf.ops_limit = kMaxProfileKdfOps + 1;
  expect_damaged(w);
  w = wrapped;
  w.kdf.ops_limit = 0;
  expect_damaged(w);
  w = wrapped;
  w.kdf.mem_limit = kMaxProfileKdfMemory + 1;
  expect_damaged(w);
  w = wrapped;
  w.kdf.mem_limit = kMinProfileKdfMemory - 1;
  expect_damaged(w);
  w = wrapped;
  w.salt.pop_back();
  expect_damaged(w);
  w = wrapped;
  w.sealed_key.push_back(0);
  expect_damaged(w);

  // A cost changed within bounds is bound to the wrapping: it no longer opens.
  w = wrapped;
  w.kdf.ops_limit += 1;
  auto cheaper = ProfileKey::unlock(test::kTestPassphrase, w);
  REQUIRE_FALSE(cheaper);
  CHECK(cheaper.error().code == store::StoreCode::WrongPassphrase);

  // Creating with a cost out of bounds is refused too.
  auto bad = ProfileKey::create(test::kTestPassphrase, crypto::Argon2Params{kMaxProfileKdfOps + 1, kMinProfileKdfMemory});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == store::StoreCode::KdfFailed);
}

TEST_CASE("profile key: rewrapping keeps the key and lets only the new passphrase in", "[client][profile]") {
  auto [key, wrapped] = fresh();
  const Bytes sealed = key.seal("identity", {}, Bytes(32, 0x5a));
  auto rewrapped = key.rewrap("a new passphrase", test::kTestKdf);
  REQUIRE(rewrapped);
  CHECK(rewrapped->salt != wrapped.salt);

  auto old_on_new = ProfileKey::unlock(test::kTestPassphrase, *rewrapped);
  REQUIRE_FALSE(old_on_new);
  CHECK(old_on_new.error().code == store::StoreCode::WrongPassphrase);
  auto unlocked = ProfileKey::unlock("a new passphrase", *rewrapped);
  REQUIRE(unlocked);
  auto seed = unlocked->open("identity", {}, sealed);
  REQUIRE(seed);
  CHECK(*seed == Bytes(32, 0x5a));
}
