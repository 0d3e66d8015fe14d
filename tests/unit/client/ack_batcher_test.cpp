// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "client/core/ack_batcher.h"

using namespace hearth;
using namespace hearth::client;

namespace {
RoomId room(std::uint8_t b) { return RoomId{Bytes(16, b)}; }
}  // namespace

TEST_CASE("ack batcher: nothing pending is never due", "[client][ack]") {
  AckBatcher a;
  CHECK_FALSE(a.due(0));
  CHECK_FALSE(a.due(1'000'000));
  CHECK(a.take().empty());
}

TEST_CASE("ack batcher: due after kAckBatchSize stores, not one before", "[client][ack]") {
  AckBatcher a;
  for (std::size_t i = 1; i < kAckBatchSize; ++i) a.stored(room(1), Seq{i}, 1000);
  CHECK_FALSE(a.due(1000));
  a.stored(room(1), Seq{kAckBatchSize}, 1000);
  CHECK(a.due(1000));
  auto cursors = a.take();
  REQUIRE(cursors.size() == 1);  // one cursor per room, not one per envelope
  CHECK(cursors[0].seq.v == kAckBatchSize);
  CHECK(a.pending() == 0);
  CHECK_FALSE(a.due(1000));
}

TEST_CASE("ack batcher: due kAckDelayMs after the first unacknowledged store", "[client][ack]") {
  AckBatcher a;
  a.stored(room(1), Seq{5}, 10'000);
  a.stored(room(1), Seq{6}, 10'300);
  CHECK_FALSE(a.due(10'000 + kAckDelayMs - 1));
  CHECK(a.due(10'000 + kAckDelayMs));
}

TEST_CASE("ack batcher: highest seq per room, every room included", "[client][ack]") {
  AckBatcher a;
  a.stored(room(1), Seq{7}, 0);
  a.stored(room(2), Seq{3}, 0);
  a.stored(room(1), Seq{4}, 0);  // out of order cannot move a cursor back
  a.stored(room(1), Seq{9}, 0);
  auto cursors = a.take();
  REQUIRE(cursors.size() == 2);
  for (const auto& c : cursors) {
    if (c.room == room(1)) CHECK(c.seq.v == 9);
    if (c.room == room(2)) CHECK(c.seq.v == 3);
  }
}

TEST_CASE("ack batcher: the delay restarts after a take", "[client][ack]") {
  AckBatcher a;
  a.stored(room(1), Seq{1}, 0);
  (void)a.take();
  a.stored(room(1), Seq{2}, 5'000);
  CHECK_FALSE(a.due(5'000 + kAckDelayMs - 1));
  CHECK(a.due(5'000 + kAckDelayMs));
}
