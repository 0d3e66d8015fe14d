// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "server/core/idempotency.h"

using namespace hearth;
using namespace hearth::relay;
using wire::EnvelopeKind;

namespace {
AccountId acct(std::uint8_t b) { return AccountId{Bytes(16, b)}; }
EnvelopeId env(std::uint8_t b) { return EnvelopeId{Bytes(16, b)}; }
}  // namespace

TEST_CASE("idempotency: new, replay, conflict", "[server][core][idempotency]") {
  IdempotencyIndex idx;
  REQUIRE(idx.decide(acct(1), env(1), 7, EnvelopeKind::Application) == IdDecision::New);
  idx.record(acct(1), env(1), IdRecord{7, Seq{3}, EnvelopeKind::Application, Epoch{2}, false}, 100);
  REQUIRE(idx.decide(acct(1), env(1), 7, EnvelopeKind::Application) == IdDecision::Replay);
  REQUIRE(idx.find(acct(1), env(1))->seq.v == 3);
  // Same id, another room or another kind: DuplicateId.
  REQUIRE(idx.decide(acct(1), env(1), 8, EnvelopeKind::Application) == IdDecision::Conflict);
  REQUIRE(idx.decide(acct(1), env(1), 7, EnvelopeKind::Handshake) == IdDecision::Conflict);
  // Ids are per sender.
  REQUIRE(idx.decide(acct(2), env(1), 7, EnvelopeKind::Application) == IdDecision::New);
}

TEST_CASE("idempotency: eviction follows retention, by seq or by age", "[server][core][idempotency]") {
  IdempotencyIndex idx;
  for (std::uint8_t i = 1; i <= 5; ++i)
    idx.record(acct(1), env(i), IdRecord{7, Seq{i}, EnvelopeKind::Application, Epoch{0}, false}, 100 * i);
  idx.record(acct(1), env(9), IdRecord{8, Seq{1}, EnvelopeKind::Application, Epoch{0}, false}, 100);
  idx.evict(7, Seq{2}, 0);
  REQUIRE(idx.find(acct(1), env(2)) == nullptr);
  REQUIRE(idx.find(acct(1), env(3)) != nullptr);
  idx.evict(7, Seq{0}, 401);  // older than 401 ms: seqs 3 and 4
  REQUIRE(idx.find(acct(1), env(4)) == nullptr);
  REQUIRE(idx.find(acct(1), env(5)) != nullptr);
  REQUIRE(idx.size() == 2);
  idx.erase_room(8);
  REQUIRE(idx.find(acct(1), env(9)) == nullptr);
  REQUIRE(idx.size() == 1);
}

TEST_CASE("idempotency: malformed ids are never recorded", "[server][core][idempotency]") {
  IdempotencyIndex idx;
  idx.record(AccountId{Bytes(3, 1)}, env(1), IdRecord{}, 0);
  REQUIRE(idx.size() == 0);
  REQUIRE(idx.decide(AccountId{Bytes(3, 1)}, env(1), 1, EnvelopeKind::Application) == IdDecision::New);
}
