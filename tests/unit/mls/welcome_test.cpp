// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "common/mls/key_schedule.h"
#include "common/mls/labeled_crypto.h"
#include "common/mls/welcome.h"
#include "tests/support/seeded_rng.h"

using namespace hearth;
using namespace hearth::mls;
using hearth::test::SeededRng;

namespace {

struct Joiner {
  crypto::X25519KeyPair init;
  KeyPackage kp;
  Digest ref{};
};

Joiner make_joiner(std::uint8_t tag) {
  Joiner j;
  j.init = crypto::x25519_generate();
  j.kp.init_key = Bytes(j.init.public_key.begin(), j.init.public_key.end());
  j.kp.leaf_node.credential.identity = Bytes{tag};
  j.ref = make_key_package_ref(encode(j.kp));
  return j;
}

GroupInfo sample_info() {
  GroupInfo info;
  info.group_context.group_id = to_bytes("room");
  info.group_context.epoch = 7;
  info.group_context.tree_hash = Bytes(32, 3);
  info.group_context.confirmed_transcript_hash = Bytes(32, 4);
  info.extensions.push_back(Extension{kExtRatchetTree, Bytes{0}});
  info.confirmation_tag = Bytes(32, 5);
  info.signer = 2;
  return info;
}

}  // namespace

TEST_CASE("welcome: GroupInfo signature round trip and tamper", "[mls][welcome]") {
  crypto::init();
  const auto key = crypto::ed25519_generate();
  GroupInfo info = sample_info();
  sign_group_info(info, key);
  CHECK(verify_group_info(info, key.public_key).has_value());

  SECTION("every signed field is covered") {
    GroupInfo a = info;
    a.signer = 3;
    CHECK(verify_group_info(a, key.public_key).error() == Error::InvalidSignature);
    GroupInfo b = info;
    b.group_context.epoch += 1;
    CHECK(verify_group_info(b, key.public_key).error() == Error::InvalidSignature);
    GroupInfo d = info;
    d.confirmation_tag[0] ^= 1;
    CHECK(verify_group_info(d, key.public_key).error() == Error::InvalidSignature);
    GroupInfo e = info;
    e.extensions.clear();
    CHECK(verify_group_info(e, key.public_key).error() == Error::InvalidSignature);
  }
  SECTION("wrong key and malformed key") {
    const auto other = crypto::ed25519_generate();
    CHECK(verify_group_info(info, other.public_key).error() == Error::InvalidSignature);
    CHECK(verify_group_info(info, Bytes(5, 1)).error() == Error::InvalidSignature);
  }
  SECTION("the TBS is the GroupInfo without its signature") {
    Bytes whole = encode(info);
    const Bytes tbs = group_info_tbs(info);
    REQUIRE(whole.size() > tbs.size());
    CHECK(Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(tbs.size())) == tbs);
  }
}

TEST_CASE("welcome: welcome_secret matches the key schedule", "[mls][welcome]") {
  crypto::init();
  const Bytes joiner(32, 9);
  const Bytes psk(32, 8);
  const EpochSecrets s = derive_epoch_secrets_from_joiner(joiner, psk, to_bytes("ctx"));
  CHECK(welcome_secret(joiner, psk).view().size() == kHashSize);
  const auto ws = welcome_secret(joiner, psk);
  CHECK(std::equal(ws.view().begin(), ws.view().end(), s.welcome_secret.view().begin(), s.welcome_secret.view().end()));
}

TEST_CASE("welcome: create and decrypt for several joiners", "[mls][welcome]") {
  crypto::init();
  SeededRng rng(42);
  const auto key = crypto::ed25519_generate();
  GroupInfo info = sample_info();
  sign_group_info(info, key);
  const Bytes joiner_secret(32, 0x11);
  const Bytes psk = zero_secret();
  const Joiner a = make_joiner(1);
  const Joiner b = make_joiner(2);
  PreSharedKeyId ext;
  ext.psk_type = PskType::External;
  ext.psk_id = to_bytes("ext");
  ext.psk_nonce = Bytes(32, 7);
  const std::vector<PreSharedKeyId> psks{ext};
  std::vector<WelcomeJoiner> joiners;
  joiners.push_back(WelcomeJoiner{&a.kp, crypto::SecretBytes(Bytes(32, 0x22))});
  joiners.push_back(WelcomeJoiner{&b.kp, std::nullopt});
  auto welcome = create_welcome(info, joiner_secret, psk, psks, joiners, rng);
  REQUIRE(welcome.has_value());
  REQUIRE(welcome->secrets.size() == 2);
  CHECK(welcome->secrets[0].new_member == Bytes(a.ref.begin(), a.ref.end()));
  // The Welcome survives its own encoding.
  auto decoded = decode<Welcome>(encode(*welcome));
  REQUIRE(decoded.has_value());

  auto gs_a = decrypt_group_secrets(*decoded, a.ref, a.init.secret.view());
  REQUIRE(gs_a.has_value());
  CHECK(gs_a->joiner_secret == joiner_secret);
  REQUIRE(gs_a->path_secret.has_value());
  CHECK(*gs_a->path_secret == Bytes(32, 0x22));
  CHECK(gs_a->psks == psks);
  auto gs_b = decrypt_group_secrets(*decoded, b.ref, b.init.secret.view());
  REQUIRE(gs_b.has_value());
  CHECK_FALSE(gs_b->path_secret.has_value());

  const auto ws = welcome_secret(gs_a->joiner_secret, psk);
  auto got = decrypt_group_info(*decoded, ws.view());
  REQUIRE(got.has_value());
  CHECK(*got == info);

  SECTION("another joiner's init key does not open the secrets") {
    CHECK(decrypt_group_secrets(*decoded, a.ref, b.init.secret.view()).error() == Error::DecryptFailed);
  }
  SECTION("a KeyPackage the Welcome is not for") {
    const Joiner c = make_joiner(3);
    CHECK(decrypt_group_secrets(*decoded, c.ref, c.init.secret.view()).error() == Error::InvalidWelcome);
  }
  SECTION("another cipher suite") {
    Welcome w = *decoded;
    w.cipher_suite = 1;
    CHECK(decrypt_group_secrets(w, a.ref, a.init.secret.view()).error() == Error::UnsupportedCipherSuite);
    CHECK(decrypt_group_info(w, ws.view()).error() == Error::UnsupportedCipherSuite);
  }
  SECTION("a flipped byte of the encrypted GroupInfo") {
    Welcome w = *decoded;
    w.encrypted_group_info[w.encrypted_group_info.size() / 2] ^= 0x40;
    CHECK(decrypt_group_info(w, ws.view()).error() == Error::DecryptFailed);
    // The GroupInfo ciphertext is the HPKE context of the group secrets.
    CHECK(decrypt_group_secrets(w, a.ref, a.init.secret.view()).error() == Error::DecryptFailed);
  }
  SECTION("a flipped byte of the encrypted group secrets") {
    Welcome w = *decoded;
    auto& ct = w.secrets[0].encrypted_group_secrets.ciphertext;
    ct[0] ^= 1;
    CHECK(decrypt_group_secrets(w, a.ref, a.init.secret.view()).error() == Error::DecryptFailed);
  }
  SECTION("the wrong PSK secret gives the wrong welcome key") {
    const auto wrong = welcome_secret(gs_a->joiner_secret, Bytes(32, 1));
    CHECK(decrypt_group_info(*decoded, wrong.view()).error() == Error::DecryptFailed);
  }
}

TEST_CASE("welcome: group secrets of the wrong size are refused", "[mls][welcome]") {
  crypto::init();
  SeededRng rng(7);
  const GroupInfo info = sample_info();
  const Joiner a = make_joiner(1);
  std::vector<WelcomeJoiner> joiners;
  joiners.push_back(WelcomeJoiner{&a.kp, std::nullopt});
  auto welcome = create_welcome(info, Bytes(16, 1), zero_secret(), {}, joiners, rng);
  REQUIRE(welcome.has_value());
  CHECK(decrypt_group_secrets(*welcome, a.ref, a.init.secret.view()).error() == Error::InvalidWelcome);
}

TEST_CASE("welcome: a joiner without a KeyPackage is a caller error", "[mls][welcome]") {
  crypto::init();
  SeededRng rng(8);
  std::vector<WelcomeJoiner> joiners;
  joiners.push_back(WelcomeJoiner{nullptr, std::nullopt});
  CHECK(create_welcome(sample_info(), Bytes(32, 1), zero_secret(), {}, joiners, rng).error() == Error::InvalidValue);
}

TEST_CASE("welcome: malformed group secrets and GroupInfo plaintexts are refused", "[mls][welcome]") {
  crypto::init();
  SeededRng rng(9);
  const Joiner a = make_joiner(1);
  Welcome w;
  w.encrypted_group_info = Bytes(40, 7);
  const Bytes garbage{0x20, 1, 2};  // a joiner secret of 32 bytes announced, 2 given
  auto ct = encrypt_with_label(a.kp.init_key, "Welcome", w.encrypted_group_info, garbage, rng);
  REQUIRE(ct.has_value());
  w.secrets.push_back(EncryptedGroupSecrets{Bytes(a.ref.begin(), a.ref.end()), *ct});
  CHECK(decrypt_group_secrets(w, a.ref, a.init.secret.view()).error() == Error::Truncated);

  // A GroupInfo ciphertext that opens but holds no GroupInfo.
  const Bytes ws(32, 5);
  auto key = expand_with_label(ws, "key", {}, kAeadKeySize);
  auto nonce = expand_with_label(ws, "nonce", {}, kAeadNonceSize);
  REQUIRE((key.has_value() && nonce.has_value()));
  auto sealed = crypto::aead_seal(key->view(), nonce->view(), {}, Bytes{1, 2, 3});
  REQUIRE(sealed.has_value());
  w.encrypted_group_info = *sealed;
  CHECK(decrypt_group_info(w, ws).error() == Error::Truncated);
}
