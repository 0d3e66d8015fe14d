// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "common/crypto/crypto.h"

using namespace hearth;
using namespace hearth::crypto;

namespace {
Bytes hex(std::string_view s) { return *from_hex(s); }
}  // namespace

TEST_CASE("sha256 known answer", "[crypto]") {
  crypto::init();
  auto d = sha256(as_bytes("abc"));
  REQUIRE(to_hex(d) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 inc;
  inc.update(as_bytes("a"));
  inc.update(as_bytes("bc"));
  REQUIRE(inc.finish() == d);
}

TEST_CASE("hmac-sha256 with a long key (RFC 4231 case 6)", "[crypto]") {
  Bytes key(131, 0xaa);
  auto mac = hmac_sha256(key, as_bytes("Test Using Larger Than Block-Size Key - Hash Key First"));
  REQUIRE(to_hex(mac) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("hkdf RFC 5869 test case 1", "[crypto]") {
  auto ikm = hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
  auto salt = hex("000102030405060708090a0b0c");
  auto info = hex("f0f1f2f3f4f5f6f7f8f9");
  auto prk = hkdf_extract(salt, ikm);
  REQUIRE(to_hex(prk) == "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
  auto okm = hkdf_expand(prk, info, 42);
  REQUIRE(okm);
  REQUIRE(to_hex(okm->view()) ==
          "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  REQUIRE(hkdf_expand(prk, info, kHkdfMaxOutput + 1).error() == CryptoError::InvalidLength);
}

TEST_CASE("ed25519 sign, verify and tamper", "[crypto]") {
  crypto::init();
  auto key = ed25519_generate();
  auto msg = to_bytes("hello");
  auto sig = ed25519_sign(key, msg);
  REQUIRE(ed25519_verify(key.public_key, msg, sig));
  auto bad = sig;
  bad[0] ^= 1;
  REQUIRE(ed25519_verify(key.public_key, msg, bad).error() == CryptoError::InvalidSignature);
  msg[0] ^= 1;
  REQUIRE_FALSE(ed25519_verify(key.public_key, msg, sig));
  auto other = ed25519_generate();
  REQUIRE_FALSE(ed25519_verify(other.public_key, to_bytes("hello"), sig));
  REQUIRE(ed25519_verify(BytesView(key.public_key).first(31), msg, sig).error() == CryptoError::InvalidKey);
  auto again = ed25519_from_seed(ed25519_seed(key).view());
  REQUIRE(again);
  REQUIRE(again->public_key == key.public_key);
}

TEST_CASE("x25519 agreement and all-zero rejection", "[crypto]") {
  crypto::init();
  auto a = x25519_generate();
  auto b = x25519_generate();
  auto ab = x25519(a.secret.view(), b.public_key);
  auto ba = x25519(b.secret.view(), a.public_key);
  REQUIRE(ab);
  REQUIRE(ba);
  REQUIRE(equal_ct(ab->view(), ba->view()));
  Bytes zero_point(32, 0);
  REQUIRE(x25519(a.secret.view(), zero_point).error() == CryptoError::WeakSharedSecret);
}

TEST_CASE("aead round trip and tamper", "[crypto]") {
  crypto::init();
  auto key = random_bytes(kAeadKeySize);
  auto nonce = random_bytes(kAeadNonceSize);
  auto ad = to_bytes("ad");
  auto ct = aead_seal(key, nonce, ad, as_bytes("secret text"));
  REQUIRE(ct);
  REQUIRE(aead_open(key, nonce, ad, *ct).value() == to_bytes("secret text"));
  auto flipped = *ct;
  flipped[3] ^= 0x40;
  REQUIRE(aead_open(key, nonce, ad, flipped).error() == CryptoError::DecryptFailed);
  REQUIRE_FALSE(aead_open(key, nonce, to_bytes("ax"), *ct));
  REQUIRE_FALSE(aead_open(key, nonce, ad, BytesView(*ct).first(ct->size() - 1)));
  REQUIRE_FALSE(aead_open(random_bytes(kAeadKeySize), nonce, ad, *ct));
  REQUIRE(aead_open(key, nonce, ad, BytesView(*ct).first(3)).error() == CryptoError::DecryptFailed);

  auto xnonce = random_bytes(kXAeadNonceSize);
  auto xct = xaead_seal(key, xnonce, ad, as_bytes("x"));
  REQUIRE(xaead_open(key, xnonce, ad, *xct).value() == to_bytes("x"));
  (*xct)[0] ^= 1;
  REQUIRE_FALSE(xaead_open(key, xnonce, ad, *xct));
}

TEST_CASE("argon2id is deterministic per salt", "[crypto]") {
  crypto::init();
  Argon2Params fast{1, 8 * 1024 * 1024};
  auto salt = random_bytes(kArgon2SaltSize);
  auto k1 = argon2id("correct horse", salt, fast);
  auto k2 = argon2id("correct horse", salt, fast);
  auto k3 = argon2id("wrong horse", salt, fast);
  REQUIRE(k1);
  REQUIRE(equal_ct(k1->view(), k2->view()));
  REQUIRE_FALSE(equal_ct(k1->view(), k3->view()));
  REQUIRE(argon2id("x", BytesView(salt).first(4), fast).error() == CryptoError::InvalidLength);
}

TEST_CASE("secrets wipe when moved from", "[crypto]") {
  Secret<4> s(hex("01020304"));
  Secret<4> t(std::move(s));
  REQUIRE(to_hex(t.view()) == "01020304");
  REQUIRE(to_hex(s.view()) == "00000000");  // NOLINT(bugprone-use-after-move): that is the point
}

TEST_CASE("argon2id rejects parameters outside libsodium's limits as InvalidLength", "[crypto]") {
  crypto::init();
  const Bytes salt(kArgon2SaltSize, 1);
  CHECK(argon2id("pw", salt, Argon2Params{0, 64u * 1024}).error() == CryptoError::InvalidLength);
  CHECK(argon2id("pw", salt, Argon2Params{1, 1024}).error() == CryptoError::InvalidLength);
  CHECK(argon2id("pw", salt, Argon2Params{1, 64u * 1024}));
}

TEST_CASE("hmac and hkdf accept an empty key (an absent salt is HashLen zeros)", "[crypto]") {
  CHECK(hmac_sha256({}, as_bytes("x")) == hmac_sha256(Bytes(32, 0), as_bytes("x")));
  CHECK(hkdf_extract({}, as_bytes("ikm")) == hkdf_extract(Bytes(32, 0), as_bytes("ikm")));
  CHECK(hkdf_expand({}, {}, 32));
}

TEST_CASE("a keyed HKDF expander gives hkdf_expand's output, every time", "[crypto]") {
  auto prk = hkdf_extract(as_bytes("salt"), as_bytes("input keying material"));
  const HkdfExpander expander(prk);
  for (std::size_t length : {std::size_t{12}, std::size_t{32}, std::size_t{33}, std::size_t{100}}) {
    for (int repeat = 0; repeat < 2; ++repeat) {
      auto a = expander.expand(as_bytes("info"), length);
      auto b = hkdf_expand(prk, as_bytes("info"), length);
      REQUIRE(a);
      REQUIRE(b);
      REQUIRE(equal_ct(a->view(), b->view()));
    }
  }
  REQUIRE_FALSE(equal_ct(expander.expand(as_bytes("a"), 32)->view(), expander.expand(as_bytes("b"), 32)->view()));
  REQUIRE(expander.expand({}, kHkdfMaxOutput + 1).error() == CryptoError::InvalidLength);
  REQUIRE(expander.expand({}, kHkdfMaxOutput)->size() == kHkdfMaxOutput);
}
