// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <vector>

#include "common/mls/key_schedule.h"

using namespace hearth;
using namespace hearth::mls;

TEST_CASE("key schedule: a joiner derives what members derive", "[mls][key_schedule]") {
  const Bytes init(32, 1);
  const Bytes commit(32, 2);
  const Bytes psk = zero_secret();
  const Bytes gc = to_bytes("encoded group context");
  const auto member = derive_epoch_secrets(init, commit, psk, gc);
  const auto joiner = derive_epoch_secrets_from_joiner(member.joiner_secret.view(), psk, gc);
  CHECK(crypto::equal_ct(member.epoch_secret.view(), joiner.epoch_secret.view()));
  CHECK(crypto::equal_ct(member.encryption_secret.view(), joiner.encryption_secret.view()));
  CHECK(crypto::equal_ct(member.init_secret.view(), joiner.init_secret.view()));
}

TEST_CASE("key schedule: every input changes the epoch", "[mls][key_schedule]") {
  const Bytes gc = to_bytes("gc");
  const auto base = derive_epoch_secrets(Bytes(32, 1), Bytes(32, 2), zero_secret(), gc);
  const auto other_commit = derive_epoch_secrets(Bytes(32, 1), Bytes(32, 3), zero_secret(), gc);
  const auto other_psk = derive_epoch_secrets(Bytes(32, 1), Bytes(32, 2), Bytes(32, 4), gc);
  const auto other_context = derive_epoch_secrets(Bytes(32, 1), Bytes(32, 2), zero_secret(), to_bytes("gC"));
  CHECK(!crypto::equal_ct(base.epoch_secret.view(), other_commit.epoch_secret.view()));
  CHECK(!crypto::equal_ct(base.epoch_secret.view(), other_psk.epoch_secret.view()));
  CHECK(!crypto::equal_ct(base.epoch_secret.view(), other_context.epoch_secret.view()));
  // From the joiner secret on, the welcome secret does not depend on the
  // group context (a joiner needs it to decrypt the GroupInfo first).
  const auto a = derive_epoch_secrets_from_joiner(base.joiner_secret.view(), zero_secret(), gc);
  const auto b = derive_epoch_secrets_from_joiner(base.joiner_secret.view(), zero_secret(), to_bytes("gC"));
  CHECK(crypto::equal_ct(a.welcome_secret.view(), b.welcome_secret.view()));
  CHECK(!crypto::equal_ct(a.epoch_secret.view(), b.epoch_secret.view()));
}

TEST_CASE("key schedule: exporter length bound", "[mls][key_schedule]") {
  const Bytes secret(32, 1);
  CHECK(mls_exporter(secret, to_bytes("label"), {}, 32));
  CHECK(mls_exporter(secret, to_bytes("label"), {}, crypto::kHkdfMaxOutput + 1).error() == Error::CryptoFailed);
}

TEST_CASE("psk secret: none is zero, order matters, count bound", "[mls][key_schedule]") {
  auto none = psk_secret({});
  REQUIRE(none);
  CHECK(crypto::equal_ct(none->view(), zero_secret()));

  std::vector<PskInput> two(2);
  two[0].id.psk_id = to_bytes("a");
  two[0].psk = crypto::SecretBytes(Bytes(32, 1));
  two[1].id.psk_type = PskType::Resumption;
  two[1].id.psk_group_id = to_bytes("g");
  two[1].id.psk_epoch = 9;
  two[1].psk = crypto::SecretBytes(Bytes(32, 2));
  auto forward = psk_secret(two);
  std::swap(two[0], two[1]);
  auto backward = psk_secret(two);
  REQUIRE(forward);
  REQUIRE(backward);
  CHECK(!crypto::equal_ct(forward->view(), backward->view()));

  std::vector<PskInput> too_many(kMaxPsks + 1);
  CHECK(psk_secret(too_many).error() == Error::InvalidValue);
}

TEST_CASE("PreSharedKeyID round trips both types", "[mls][key_schedule]") {
  PreSharedKeyId ext;
  ext.psk_id = to_bytes("id");
  ext.psk_nonce = Bytes(32, 7);
  CHECK(decode<PreSharedKeyId>(encode(ext)) == ext);
  PreSharedKeyId res;
  res.psk_type = PskType::Resumption;
  res.usage = ResumptionPskUsage::Branch;
  res.psk_group_id = to_bytes("group");
  res.psk_epoch = 12;
  res.psk_nonce = Bytes(32, 8);
  CHECK(decode<PreSharedKeyId>(encode(res)) == res);
}
