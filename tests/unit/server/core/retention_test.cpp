// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "server/core/retention.h"

using namespace hearth;
using namespace hearth::relay;

namespace {
AccountId acct(std::uint8_t b) { return AccountId{Bytes(16, b)}; }
constexpr std::uint64_t kDay = 24ull * 3600 * 1000;
}  // namespace

TEST_CASE("retention: everything every member has passed may go", "[server][core][retention]") {
  RoomState r = new_room(RoomId{Bytes(16, 1)}, 1, acct(1), 0);
  r.head = Seq{50};
  r.members.at(acct(1)).cursor = Seq{40};
  r.members.emplace(acct(2), MemberState{wire::Role::Member, Seq{31}, Seq{30}});  // joined at 31, nothing acked
  REQUIRE(min_member_cursor(r).v == 30);
  r.members.at(acct(2)).cursor = Seq{45};
  REQUIRE(min_member_cursor(r).v == 40);
  auto plan = plan_retention(r, 1'000'000'000'000, 14 * kDay);
  REQUIRE(plan.all_through.v == 40);
  REQUIRE(plan.application_before_ms == 1'000'000'000'000 - static_cast<std::int64_t>(14 * kDay));
}

TEST_CASE("retention: the shorter of room lifetime and relay limit", "[server][core][retention]") {
  REQUIRE(effective_lifetime_ms(0, 14 * kDay) == 14 * kDay);
  REQUIRE(effective_lifetime_ms(kDay, 14 * kDay) == kDay);
  REQUIRE(effective_lifetime_ms(30 * kDay, 14 * kDay) == 14 * kDay);
  RoomState r = new_room(RoomId{Bytes(16, 1)}, 1, acct(1), 500);
  REQUIRE(plan_retention(r, 10'000, 14 * kDay).application_before_ms == 9'500);
}

TEST_CASE("retention: an empty room keeps nothing below its head", "[server][core][retention]") {
  RoomState r;
  r.head = Seq{9};
  REQUIRE(min_member_cursor(r).v == 9);
}

TEST_CASE("retention: no underflow for huge lifetimes", "[server][core][retention]") {
  RoomState r = new_room(RoomId{Bytes(16, 1)}, 1, acct(1), std::numeric_limits<std::uint64_t>::max());
  auto plan = plan_retention(r, 5, std::numeric_limits<std::uint64_t>::max());
  REQUIRE(plan.application_before_ms <= 5);
}

TEST_CASE("history gap: a cursor behind deleted history", "[server][core][retention]") {
  REQUIRE_FALSE(is_history_gap(Seq{0}, Seq{0}));
  REQUIRE_FALSE(is_history_gap(Seq{10}, Seq{10}));
  REQUIRE(is_history_gap(Seq{9}, Seq{10}));
}
