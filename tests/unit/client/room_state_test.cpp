// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "client/core/room_state.h"

using namespace hearth;
using namespace hearth::client;

namespace {

const AccountId kSelf{Bytes(16, 0x01)};
const AccountId kOther{Bytes(16, 0x02)};
const RoomId kRoom{Bytes(16, 0x0e)};

wire::Deliver handshake(std::uint64_t seq, std::uint64_t epoch, std::vector<wire::RosterChange> changes) {
  wire::Deliver d;
  d.room = kRoom;
  d.seq = Seq{seq};
  d.kind = wire::EnvelopeKind::Handshake;
  d.sender = kOther;
  d.envelope_id = EnvelopeId{Bytes(16, 0x05)};
  d.epoch = Epoch{epoch};
  d.roster_changes = std::move(changes);
  return d;
}

template <class E>
const E* find(const DeliveryEffects& fx) {
  for (const auto& e : fx.events) {
    if (const auto* p = std::get_if<E>(&e)) return p;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("room state: an application envelope is a message and moves the cursor", "[client][room]") {
  wire::Deliver d = handshake(4, 1, {});
  d.kind = wire::EnvelopeKind::Application;
  d.payload = to_bytes("hello");
  RoomRecord before{kRoom, Epoch{1}, wire::Role::Member, RoomStatus::Active, Seq{3}};
  auto fx = apply_delivery(before, d, kSelf);
  CHECK(fx.after.cursor.v == 4);
  CHECK(fx.after.epoch.v == 1);
  REQUIRE(fx.events.size() == 1);
  const auto* m = find<MessageReceived>(fx);
  REQUIRE(m);
  CHECK(to_string_bytes(m->payload) == "hello");
  CHECK(m->sender == kOther);
}

TEST_CASE("room state: being added by a handshake joins the room at the next epoch", "[client][room]") {
  auto d = handshake(7, 2, {wire::RosterChange{wire::RosterOp::Add, kSelf, wire::Role::Member}});
  auto fx = apply_delivery(std::nullopt, d, kSelf);
  CHECK(fx.after.room == kRoom);
  CHECK(fx.after.epoch.v == 3);
  CHECK(fx.after.cursor.v == 7);
  CHECK(fx.after.status == RoomStatus::Active);
  REQUIRE(find<RoomJoined>(fx));
  REQUIRE(find<RosterChanged>(fx));
  CHECK(find<RosterChanged>(fx)->changes.size() == 1);
}

TEST_CASE("room state: being removed leaves the room, others' changes only change the roster", "[client][room]") {
  RoomRecord before{kRoom, Epoch{3}, wire::Role::Member, RoomStatus::Active, Seq{7}};
  auto other = apply_delivery(before, handshake(8, 3, {wire::RosterChange{wire::RosterOp::Add, kOther, wire::Role::Member}}), kSelf);
  CHECK(other.after.status == RoomStatus::Active);
  CHECK(other.after.epoch.v == 4);
  CHECK_FALSE(find<RoomJoined>(other));
  CHECK_FALSE(find<RoomLeft>(other));

  auto removed = apply_delivery(other.after, handshake(9, 4, {wire::RosterChange{wire::RosterOp::Remove, kSelf, wire::Role::Member}}), kSelf);
  CHECK(removed.after.status == RoomStatus::Left);
  CHECK(find<RoomLeft>(removed));
}

TEST_CASE("room state: a role change for us updates our role", "[client][room]") {
  RoomRecord before{kRoom, Epoch{0}, wire::Role::Member, RoomStatus::Active, Seq{1}};
  auto fx = apply_delivery(before, handshake(2, 0, {wire::RosterChange{wire::RosterOp::SetRole, kSelf, wire::Role::Facilitator}}), kSelf);
  CHECK(fx.after.role == wire::Role::Facilitator);
}

TEST_CASE("room state: a Welcome is stored without events, already-stored seqs are recognised", "[client][room]") {
  RoomRecord before{kRoom, Epoch{0}, wire::Role::Member, RoomStatus::Active, Seq{5}};
  auto d = handshake(6, 0, {});
  d.kind = wire::EnvelopeKind::Welcome;
  auto fx = apply_delivery(before, d, kSelf);
  CHECK(fx.events.empty());
  CHECK(fx.after.cursor.v == 6);
  CHECK(already_stored(before, handshake(5, 0, {})));
  CHECK(already_stored(before, handshake(1, 0, {})));
  CHECK_FALSE(already_stored(before, handshake(6, 0, {})));
  CHECK_FALSE(already_stored(std::nullopt, handshake(1, 0, {})));
}
