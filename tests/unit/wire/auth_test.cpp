// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "common/crypto/crypto.h"
#include "common/wire/auth.h"

using namespace hearth;
using namespace hearth::wire;

TEST_CASE("login transcript binds every field", "[wire][auth]") {
  crypto::init();
  Bytes challenge(32, 1), exporter(32, 2);
  AccountId account{Bytes(16, 3)};
  auto key = crypto::ed25519_generate();
  auto t = login_transcript(challenge, exporter, account);
  auto sig = crypto::ed25519_sign(key, t);
  REQUIRE(crypto::ed25519_verify(key.public_key, t, sig));

  Bytes other_exporter(32, 9);
  REQUIRE_FALSE(crypto::ed25519_verify(key.public_key, login_transcript(challenge, other_exporter, account), sig));
  Bytes other_challenge(32, 8);
  REQUIRE_FALSE(crypto::ed25519_verify(key.public_key, login_transcript(other_challenge, exporter, account), sig));
  AccountId other{Bytes(16, 4)};
  REQUIRE_FALSE(crypto::ed25519_verify(key.public_key, login_transcript(challenge, exporter, other), sig));
}

TEST_CASE("transcripts are domain-separated and length-prefixed", "[wire][auth]") {
  Bytes key(32, 5), exporter(32, 6);
  // Moving a character from the token into the handle must change the transcript.
  REQUIRE(register_transcript("ab", "c", key, exporter) != register_transcript("a", "bc", key, exporter));
  auto t = register_transcript("tok", "h", key, exporter);
  REQUIRE(to_string_bytes(BytesView(t).subspan(4, kRegisterLabel.size())) == kRegisterLabel);
  auto l = login_transcript(Bytes(32, 1), exporter, AccountId{Bytes(16, 1)});
  REQUIRE(to_string_bytes(BytesView(l).subspan(4, kLoginLabel.size())) == kLoginLabel);
  // Frozen labels: changing them breaks every deployed client.
  REQUIRE(kRegisterLabel == "hearth.v1.register");
  REQUIRE(kLoginLabel == "hearth.v1.login");
  REQUIRE(kTlsExporterLabel == "EXPORTER-hearth-auth-v1");
}
