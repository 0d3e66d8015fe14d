// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "common/mls/transcript.h"

using namespace hearth;
using namespace hearth::mls;

TEST_CASE("transcript: confirmation tag tamper", "[mls][transcript]") {
  const Bytes key(32, 1);
  const Bytes cth(32, 2);
  const Digest tag = confirmation_tag(key, cth);
  CHECK(verify_confirmation_tag(key, cth, tag));
  Bytes flipped(tag.begin(), tag.end());
  flipped[0] ^= 1;
  CHECK(verify_confirmation_tag(key, cth, flipped).error() == Error::InvalidConfirmationTag);
  CHECK(verify_confirmation_tag(key, cth, BytesView(tag).first(31)).error() == Error::InvalidConfirmationTag);
  CHECK(verify_confirmation_tag(Bytes(32, 9), cth, tag).error() == Error::InvalidConfirmationTag);
}

TEST_CASE("transcript: only commits enter the confirmed transcript", "[mls][transcript]") {
  AuthenticatedContent app;
  app.content.content = ApplicationData{to_bytes("hi")};
  CHECK(confirmed_transcript_hash(Bytes(32, 0), app).error() == Error::WrongWireFormat);
  AuthenticatedContent commit;
  commit.content.content = Commit{};
  commit.auth.confirmation_tag = Bytes(32, 0);
  const auto a = confirmed_transcript_hash(Bytes(32, 0), commit);
  REQUIRE(a);
  commit.auth.signature = Bytes(64, 1);
  const auto b = confirmed_transcript_hash(Bytes(32, 0), commit);
  REQUIRE(b);
  CHECK(*a != *b);  // the signature is part of the input
}
