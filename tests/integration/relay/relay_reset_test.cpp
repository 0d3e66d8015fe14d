// SPDX-License-Identifier: Apache-2.0
// The real hearth-relay's way out of a stuck room (DESIGN.md §4): members
// report a change they cannot apply, a facilitator resets the room to a
// fresh group of the same members, and the relay switches atomically; plus
// the relay-side lifetime a facilitator sets.
#include "common/wire/codec.h"
#include "tests/integration/relay/relay_fixture.h"

using namespace hearth;
using namespace hearth::test;
using wire::ErrorCode;

namespace {

/// A reset of `room` by `by`: a fresh group (tracked under its own id on
/// the test side) whose first commit adds `members`.
struct Reset {
  RoomId group;
  Bytes group_info;
  PendingBundle bundle;
  [[nodiscard]] wire::ResetRoom request(const RoomId& room) const {
    return wire::ResetRoom{room, new_envelope_id(), group_info, bundle.bundle.handshake, bundle.bundle.welcomes};
  }
};

Reset new_group(RelayFixture& f, RelayClient& c, const Identity& by, const std::vector<const Identity*>& members) {
  const RoomId group = new_room_id();
  Bytes info = f.mls.new_group_info(by, group);
  auto bundle = f.mls.add(c, by, group, members);
  return Reset{group, std::move(info), std::move(bundle)};
}

}  // namespace

TEST_CASE("ResetRoom: a facilitator moves the room to a fresh group of its members, atomically", "[relay][ds][reset]") {
  RelayFixture f;
  auto alice = make_identity("alice");
  auto bob = make_identity("bob");
  auto carol = make_identity("carol");
  auto a = f.user(alice);
  auto b = f.user(bob);
  auto c = f.user(carol);
  for (auto* conn : {&a, &b, &c}) conn->sync();
  const RoomId room = f.create_room(a, alice);
  f.add_members(a, alice, room, {&bob, &carol});
  f.send_text(b, bob, room, "before the reset");
  for (auto* conn : {&a, &b, &c}) (void)deliveries(*conn, conn == &a ? 2 : 3);

  // A member may not; nor may a group that leaves someone out.
  auto by_bob = new_group(f, b, bob, {&alice, &carol});
  require_error(b.request(by_bob.request(room)), ErrorCode::NotFacilitator);
  auto without_carol = new_group(f, a, alice, {&bob});
  require_error(a.request(without_carol.request(room)), ErrorCode::InvalidArgument);
  // The room's own group id again is no reset.
  auto same = f.mls.add(a, alice, room, {});
  require_error(a.request(wire::ResetRoom{room, new_envelope_id(), f.mls.new_group_info(alice, new_room_id()),
                                          same.bundle.handshake, {}}),
                ErrorCode::EpochConflict);

  auto reset = new_group(f, a, alice, {&bob, &carol});
  const auto request = reset.request(room);
  auto ok = a.call<wire::BundleOk>(request);
  CHECK(ok.new_epoch.v == 1);
  // A retry of the same request gets the same answer, not a second reset.
  auto again = a.call<wire::BundleOk>(request);
  CHECK(again == ok);
  f.mls.accepted(reset.group, std::move(reset.bundle));

  // Everyone sees the Reset envelope; each gets its own Welcome only.
  auto to_bob = deliveries(b, 2);
  REQUIRE(to_bob.size() == 2);
  CHECK(to_bob[0].kind == wire::EnvelopeKind::Reset);
  CHECK(to_bob[0].seq == ok.seq);
  CHECK(to_bob[0].payload.empty());
  CHECK(to_bob[1].kind == wire::EnvelopeKind::Welcome);
  auto to_alice = deliveries(a, 1);
  REQUIRE(to_alice.size() == 1);
  CHECK(to_alice[0].kind == wire::EnvelopeKind::Reset);
  auto roster = a.call<wire::Roster>(wire::GetRoster{room});
  CHECK(roster.epoch.v == 1);
  CHECK(roster.members.size() == 3);

  // The old group is over: its messages are stale, its commits conflict.
  const Bytes old = f.mls.encrypt(carol, room, "for the old group");
  require_error(c.request(wire::SendEnvelope{room, new_envelope_id(), Epoch{f.mls.epoch(carol, room)}, old}),
                ErrorCode::StaleEpoch);
  require_error(b.request(f.mls.update(bob, room).bundle), ErrorCode::EpochConflict);
  // The new group's are current, here and across a kill -9.
  auto sent = c.call<wire::SendOk>(
      wire::SendEnvelope{room, new_envelope_id(), Epoch{1}, f.mls.encrypt(carol, reset.group, "in the new group")});
  auto got = deliveries(b, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].seq == sent.seq);
  CHECK(f.mls.decrypt(bob, reset.group, got[0].payload) == "in the new group");
  f.relay->kill9();
  f.restart();
  auto b2 = f.login(bob);
  CHECK(b2.call<wire::SendOk>(wire::SendEnvelope{room, new_envelope_id(), Epoch{1},
                                                 f.mls.encrypt(bob, reset.group, "after a restart")})
            .seq > sent.seq);
  require_error(b2.request(wire::SendEnvelope{room, new_envelope_id(), Epoch{1}, f.mls.encrypt(bob, room, "old")}),
                ErrorCode::StaleEpoch);
}

TEST_CASE("ReportChange: one report per member and commit, to the whole room", "[relay][ds][reset]") {
  RelayFixture f;
  auto alice = make_identity("alice");
  auto bob = make_identity("bob");
  auto a = f.user(alice);
  auto b = f.user(bob);
  for (auto* conn : {&a, &b}) conn->sync();
  const RoomId room = f.create_room(a, alice);
  const auto added = f.add_members(a, alice, room, {&bob});
  (void)deliveries(a, 1);
  (void)deliveries(b, 2);

  auto report = [&](RelayClient& c, Seq commit) {
    return c.request(wire::ReportChange{room, new_envelope_id(), commit, wire::ChangeProblem::CannotDecrypt});
  };
  const wire::ReportChange first{room, new_envelope_id(), added.seq, wire::ChangeProblem::CannotDecrypt};
  auto ok = b.call<wire::SendOk>(first);
  CHECK(b.call<wire::SendOk>(first) == ok);  // a retry, not a second report
  require_error(report(b, added.seq), ErrorCode::RateLimited);
  require_error(report(b, Seq{0}), ErrorCode::InvalidArgument);
  require_error(report(b, ok.seq), ErrorCode::InvalidArgument);  // a report is no commit
  auto got = deliveries(a, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].kind == wire::EnvelopeKind::Report);
  CHECK(got[0].sender == bob.account);
  auto payload = wire::decode_change_report(got[0].payload);
  REQUIRE(payload);
  CHECK(payload->commit_seq == added.seq);
  CHECK(payload->problem == wire::ChangeProblem::CannotDecrypt);
  // A later commit may be reported once more; strangers may not report.
  const auto next = f.submit(a, room, f.mls.update(alice, room));
  CHECK(b.call<wire::SendOk>(wire::ReportChange{room, new_envelope_id(), next.seq, wire::ChangeProblem::Invalid}).seq >
        ok.seq);
  auto stranger = make_identity("mallory");
  auto m = f.user(stranger);
  require_error(report(m, next.seq), ErrorCode::NotMember);
}

TEST_CASE("SetRoomLifetime: facilitators only, cut to the relay's limit", "[relay][ds][retention]") {
  RelayFixture f;
  auto alice = make_identity("alice");
  auto bob = make_identity("bob");
  auto a = f.user(alice);
  auto b = f.user(bob);
  const RoomId room = f.create_room(a, alice);
  f.add_members(a, alice, room, {&bob});
  constexpr std::uint64_t kDay = 24ull * 3600 * 1000;
  require_error(b.request(wire::SetRoomLifetime{room, kDay}), ErrorCode::NotFacilitator);
  CHECK(a.call<wire::RoomLifetimeOk>(wire::SetRoomLifetime{room, kDay}) == wire::RoomLifetimeOk{room, kDay});
  // The relay's default limit is 14 days.
  CHECK(a.call<wire::RoomLifetimeOk>(wire::SetRoomLifetime{room, 100 * kDay}).lifetime_ms == 14 * kDay);
  CHECK(a.call<wire::RoomLifetimeOk>(wire::SetRoomLifetime{room, 0}).lifetime_ms == 14 * kDay);
  require_error(a.request(wire::SetRoomLifetime{new_room_id(), kDay}), ErrorCode::UnknownRoom);
}
