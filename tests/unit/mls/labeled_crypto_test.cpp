// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "common/mls/labeled_crypto.h"

using namespace hearth;
using namespace hearth::mls;

TEST_CASE("labeled signatures: tamper, wrong label, wrong key", "[mls][labeled_crypto]") {
  crypto::init();
  auto key = std::move(*crypto::ed25519_from_seed(Bytes(32, 1)));
  auto other = std::move(*crypto::ed25519_from_seed(Bytes(32, 2)));
  const Bytes content = to_bytes("content");
  const Bytes sig = sign_with_label(key, "LeafNodeTBS", content);
  CHECK(verify_with_label(key.public_key, "LeafNodeTBS", content, sig));
  CHECK(verify_with_label(key.public_key, "KeyPackageTBS", content, sig).error() == Error::InvalidSignature);
  CHECK(verify_with_label(key.public_key, "LeafNodeTBS", to_bytes("contenT"), sig).error() ==
        Error::InvalidSignature);
  Bytes flipped = sig;
  flipped[10] ^= 1;
  CHECK(verify_with_label(key.public_key, "LeafNodeTBS", content, flipped).error() == Error::InvalidSignature);
  CHECK(verify_with_label(key.public_key, "LeafNodeTBS", content, BytesView(sig).first(63)).error() ==
        Error::InvalidSignature);
  CHECK(verify_with_label(other.public_key, "LeafNodeTBS", content, sig).error() == Error::InvalidSignature);
  CHECK(verify_with_label(Bytes(31, 0), "LeafNodeTBS", content, sig).error() == Error::CryptoFailed);
}

TEST_CASE("labeled encryption: tamper, wrong label, context and key", "[mls][labeled_crypto]") {
  crypto::init();
  const auto kp = crypto::hpke::derive_key_pair(to_bytes("recipient"));
  const auto other = crypto::hpke::derive_key_pair(to_bytes("other"));
  const auto eph = crypto::hpke::derive_key_pair(to_bytes("ephemeral"));
  const Bytes context = to_bytes("group context");
  const Bytes secret(32, 9);
  auto ct = encrypt_with_label(kp.public_key, "UpdatePathNode", context, secret, eph);
  REQUIRE(ct);
  auto pt = decrypt_with_label(kp.secret.view(), "UpdatePathNode", context, *ct);
  REQUIRE(pt);
  CHECK(crypto::equal_ct(pt->view(), secret));

  CHECK(decrypt_with_label(kp.secret.view(), "Welcome", context, *ct).error() == Error::DecryptFailed);
  CHECK(decrypt_with_label(kp.secret.view(), "UpdatePathNode", to_bytes("other"), *ct).error() ==
        Error::DecryptFailed);
  CHECK(decrypt_with_label(other.secret.view(), "UpdatePathNode", context, *ct).error() == Error::DecryptFailed);
  auto flipped = *ct;
  flipped.ciphertext[0] ^= 1;
  CHECK(decrypt_with_label(kp.secret.view(), "UpdatePathNode", context, flipped).error() == Error::DecryptFailed);
  auto bad_kem = *ct;
  bad_kem.kem_output[0] ^= 1;
  CHECK(decrypt_with_label(kp.secret.view(), "UpdatePathNode", context, bad_kem).error() == Error::DecryptFailed);
  auto short_kem = *ct;
  short_kem.kem_output.pop_back();
  CHECK(decrypt_with_label(kp.secret.view(), "UpdatePathNode", context, short_kem).error() == Error::CryptoFailed);
  CHECK(!encrypt_with_label(Bytes(31, 1), "UpdatePathNode", context, secret, eph));
}

TEST_CASE("expand_with_label length bounds", "[mls][labeled_crypto]") {
  const Bytes secret(32, 1);
  CHECK(expand_with_label(secret, "x", {}, crypto::kHkdfMaxOutput));
  CHECK(expand_with_label(secret, "x", {}, crypto::kHkdfMaxOutput + 1).error() == Error::CryptoFailed);
  CHECK(expand_with_label(secret, "x", {}, 65536).error() == Error::CryptoFailed);
}

TEST_CASE("reference labels are frozen", "[mls][labeled_crypto]") {
  const Bytes value = to_bytes("value");
  CHECK(make_key_package_ref(value) == ref_hash(to_bytes("MLS 1.0 KeyPackage Reference"), value));
  CHECK(make_proposal_ref(value) == ref_hash(to_bytes("MLS 1.0 Proposal Reference"), value));
  CHECK(make_key_package_ref(value) != make_proposal_ref(value));
}
