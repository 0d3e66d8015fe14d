// SPDX-License-Identifier: Apache-2.0
// The real hearth-relay as MLS Delivery Service (DESIGN.md §4), with real
// MLS bytes: GroupInfo, commits, Welcome routing, the role policy, epochs,
// leaving by proposal, hostile handshakes, and views across restarts.
#include <set>

#include "common/mls/codec.h"
#include "tests/integration/relay/relay_fixture.h"
#include "tests/support/key_packages.h"

using namespace hearth;
using namespace hearth::test;
using wire::ErrorCode;

namespace {

const wire::Error* error_of(const wire::Frame& f) { return std::get_if<wire::Error>(&f.body); }

/// The answer to request `id` sent by hand; pushes meanwhile stay queued.
Received answer_to(RelayClient& c, std::uint64_t id) {
  for (int i = 0; i < 100; ++i) {
    auto r = c.receive();
    if (!r.frame || r.frame->request_id == id) return r;
    c.pushes().push_back(std::move(*r.frame));
  }
  return Received{};
}

}  // namespace

TEST_CASE("CreateRoom: only the creator's own valid GroupInfo opens a room", "[relay][ds]") {
  RelayFixture f;
  auto alice = make_identity("alice");
  auto bob = make_identity("bob");
  auto a = f.user(alice);
  auto b = f.user(bob);
  const RoomId room = new_room_id();
  auto reason = [&](RelayClient& c, const RoomId& id, Bytes info) {
    auto answer = c.request(wire::CreateRoom{id, std::move(info), 0});
    const auto* e = error_of(answer);
    REQUIRE(e != nullptr);
    REQUIRE(e->code == ErrorCode::InvalidArgument);
    return e->message;
  };
  reason(a, room, Bytes{});
  reason(a, room, to_bytes("not a GroupInfo"));
  // Bob's group, presented by Alice.
  CHECK(reason(a, room, f.mls.new_group_info(bob, room)).find("creator") != std::string::npos);
  // Alice's group for another room id.
  CHECK(reason(a, room, f.mls.new_group_info(alice, new_room_id())).find("room id") != std::string::npos);
  Bytes tampered = f.mls.new_group_info(alice, room);
  tampered.back() ^= 0x40;
  reason(a, room, tampered);
  // None of that created anything; the real one does, and the relay serves on.
  REQUIRE(f.create_room(b, bob).v.size() == 16);
  const RoomId ok = f.create_room(a, alice);
  REQUIRE(a.call<wire::Roster>(wire::GetRoster{ok}).members.size() == 1);
}

TEST_CASE("Welcomes go only to their joiner, and the roster is derived from the commit", "[relay][ds]") {
  RelayFixture f;
  auto alice = make_identity("alice");
  auto bob = make_identity("bob");
  auto carol = make_identity("carol");
  auto dave = make_identity("dave");
  auto a = f.user(alice);
  auto b = f.user(bob);
  auto c = f.user(carol);
  auto d = f.user(dave);
  for (auto* conn : {&a, &b, &c, &d}) conn->sync();
  const RoomId room = f.create_room(a, alice);
  f.add_members(a, alice, room, {&bob});
  REQUIRE(deliveries(b, 2).size() == 2);
  (void)deliveries(a, 1);

  // The bundle claims Dave joins as facilitator; the commit adds Carol.
  auto p = f.mls.add(a, alice, room, {&carol});
  p.bundle.roster_changes = {{wire::RosterOp::Add, dave.account, wire::Role::Facilitator}};
  const Bytes welcome = p.bundle.welcomes.at(0).data;
  auto ok = f.submit(a, room, std::move(p));
  REQUIRE(ok.new_epoch.v == 2);
  const std::vector<wire::RosterChange> derived{{wire::RosterOp::Add, carol.account, wire::Role::Member}};

  auto for_carol = deliveries(c, 2);
  REQUIRE(for_carol.size() == 2);
  CHECK(for_carol[0].kind == wire::EnvelopeKind::Handshake);
  CHECK(for_carol[0].roster_changes == derived);
  CHECK(for_carol[1].kind == wire::EnvelopeKind::Welcome);
  CHECK(for_carol[1].payload == welcome);
  REQUIRE(a.call<wire::Pong>(wire::Ping{1}).nonce == 1);
  for (auto* other : {&a, &b}) {
    auto got = deliveries(*other, 2);
    REQUIRE(got.size() == 1);  // the handshake, not Carol's Welcome
    CHECK(got[0].kind == wire::EnvelopeKind::Handshake);
    CHECK(got[0].roster_changes == derived);
  }
  CHECK(deliveries(d, 1).empty());
  auto roster = a.call<wire::Roster>(wire::GetRoster{room});
  REQUIRE(roster.members.size() == 3);
  for (const auto& m : roster.members) CHECK(m.account != dave.account);
  // Carol reads what Bob sends in the new epoch.
  f.send_text(b, bob, room, "welcome, carol");
  auto msg = deliveries(c, 1);
  REQUIRE(msg.size() == 1);
  CHECK(f.text_of(carol, msg[0]) == "welcome, carol");
}

TEST_CASE("two commits on one epoch: exactly one wins, the other gets EpochConflict and retries", "[relay][ds]") {
  RelayFixture f;
  auto alice = make_identity("alice");
  auto bob = make_identity("bob");
  auto a = f.user(alice);
  auto b = f.user(bob);
  b.sync();
  const RoomId room = f.create_room(a, alice);
  f.add_members(a, alice, room, {&bob});
  for (int round = 0; round < 3; ++round) {
    auto from_alice = f.mls.update(alice, room);
    auto from_bob = f.mls.update(bob, room);
    a.send(wire::Frame{700, from_alice.bundle});
    b.send(wire::Frame{700, from_bob.bundle});
    auto answer_a = answer_to(a, 700);
    auto answer_b = answer_to(b, 700);
    REQUIRE(answer_a.frame);
    REQUIRE(answer_b.frame);
    const bool alice_won = std::holds_alternative<wire::BundleOk>(answer_a.frame->body);
    const bool bob_won = std::holds_alternative<wire::BundleOk>(answer_b.frame->body);
    REQUIRE(alice_won != bob_won);
    const auto& loser = alice_won ? *answer_b.frame : *answer_a.frame;
    REQUIRE(error_of(loser) != nullptr);
    CHECK(error_of(loser)->code == ErrorCode::EpochConflict);
    // Everyone processes the winner; the loser retries on top of it.
    f.mls.accepted(room, alice_won ? std::move(from_alice) : std::move(from_bob));
    auto& loser_conn = alice_won ? b : a;
    const auto& loser_id = alice_won ? bob : alice;
    auto retried = f.submit(loser_conn, room, f.mls.update(loser_id, room));
    CHECK(retried.new_epoch.v == 3 + 2 * std::uint64_t(round));
  }
  f.send_text(a, alice, room, "still in step");
  // Bob saw his add and Welcome, two commits per round, then the message.
  auto got = deliveries(b, 2 + 2 * 3 + 1);
  REQUIRE(got.size() == 2 + 2 * 3 + 1);
  for (std::size_t i = 2; i + 1 < got.size(); ++i) CHECK(got[i].kind == wire::EnvelopeKind::Handshake);
  CHECK(f.text_of(bob, got.back()) == "still in step");
}

TEST_CASE("hostile handshakes get typed errors and change nothing, and the relay serves on", "[relay][ds]") {
  RelayFixture f;
  auto alice = make_identity("alice");
  auto bob = make_identity("bob");
  auto a = f.user(alice);
  auto b = f.user(bob);
  b.sync();
  const RoomId room = f.create_room(a, alice);
  f.add_members(a, alice, room, {&bob});
  (void)deliveries(b, 2);
  auto refused = [&](RelayClient& c, wire::SubmitBundle bundle) {
    bundle.envelope_id = new_envelope_id();
    auto answer = c.request(std::move(bundle));
    const auto* e = error_of(answer);
    REQUIRE(e != nullptr);
    return e->code;
  };
  auto alices = f.mls.update(alice, room);
  // Alice's commit, submitted by Bob: it claims a leaf that is not his.
  CHECK(refused(b, alices.bundle) == ErrorCode::InvalidArgument);
  // A flipped bit in the signed content or the signature (the confirmation
  // and membership tags at the end are the members' to check), a
  // truncation, noise.
  for (std::size_t at : {std::size_t{40}, alices.bundle.handshake.size() - 80}) {
    auto forged = alices.bundle;
    forged.handshake[at] ^= 0x08;
    CHECK(refused(a, forged) == ErrorCode::InvalidArgument);
  }
  auto truncated = alices.bundle;
  truncated.handshake.resize(truncated.handshake.size() / 2);
  CHECK(refused(a, truncated) == ErrorCode::InvalidArgument);
  for (std::size_t n : {std::size_t{1}, std::size_t{16}, std::size_t{300}, std::size_t{5000}}) {
    auto noise = alices.bundle;
    noise.handshake = crypto::random_bytes(n);
    CHECK(refused(a, noise) == ErrorCode::InvalidArgument);
  }
  // An application message or a GroupInfo is no handshake.
  auto app = alices.bundle;
  app.handshake = f.mls.encrypt(alice, room, "not a commit");
  CHECK(refused(a, app) == ErrorCode::InvalidArgument);
  auto gi = alices.bundle;
  gi.handshake = f.mls.new_group_info(bob, new_room_id());
  CHECK(refused(a, gi) == ErrorCode::InvalidArgument);
  // A Welcome for nobody the commit adds.
  CHECK(refused(a, [&] {
          auto w = alices.bundle;
          w.welcomes.push_back(wire::WelcomeFor{bob.account, crypto::random_bytes(64)});
          return w;
        }()) == ErrorCode::InvalidArgument);

  // Nothing moved: the genuine commit is still on the current epoch.
  REQUIRE(f.submit(a, room, std::move(alices)).new_epoch.v == 2);
  f.send_text(a, alice, room, "after the noise");
  auto got = deliveries(b, 2);
  REQUIRE(got.size() == 2);
  CHECK(got[0].kind == wire::EnvelopeKind::Handshake);
  CHECK(f.text_of(bob, got[1]) == "after the noise");
}

TEST_CASE("a joiner's KeyPackage must be one the relay handed out, its Welcome must name it", "[relay][ds]") {
  RelayFixture f;
  auto alice = make_identity("alice");
  auto bob = make_identity("bob");
  auto carol = make_identity("carol");
  auto a = f.user(alice);
  auto b = f.user(bob);
  auto c = f.user(carol);
  const RoomId room = f.create_room(a, alice);
  // Bob's own, valid package, but never handed out by the relay.
  auto unfetched = f.mls.add_packages(alice, room, {{bob.account, f.mls.unpublished_package(bob)}});
  auto answer = a.request(unfetched.bundle);
  REQUIRE(error_of(answer) != nullptr);
  CHECK(error_of(answer)->code == ErrorCode::InvalidArgument);
  CHECK(error_of(answer)->message.find("handed out") != std::string::npos);
  // Carol's Welcome presented as Bob's.
  auto for_bob = f.mls.add(a, alice, room, {&bob});
  auto for_carol = f.mls.add(a, alice, room, {&carol});
  auto swapped = for_bob.bundle;
  swapped.welcomes[0].data = for_carol.bundle.welcomes[0].data;
  answer = a.request(swapped);
  REQUIRE(error_of(answer) != nullptr);
  CHECK(error_of(answer)->code == ErrorCode::InvalidArgument);
  // The genuine bundle goes through; its package cannot be used a second time.
  REQUIRE(f.submit(a, room, std::move(for_bob)).new_epoch.v == 1);
  f.send_text(b, bob, room, "hello");
}

TEST_CASE("application envelopes: this group's PrivateMessages of the current epoch only", "[relay][ds]") {
  RelayFixture f;
  auto alice = make_identity("alice");
  auto bob = make_identity("bob");
  auto a = f.user(alice);
  auto b = f.user(bob);
  const RoomId room = f.create_room(a, alice);
  const RoomId other = f.create_room(a, alice);
  f.add_members(a, alice, room, {&bob});
  auto code = [&](RelayClient& c, const RoomId& r, Epoch e, Bytes payload) {
    auto answer = c.request(wire::SendEnvelope{r, new_envelope_id(), e, std::move(payload)});
    return error_of(answer) != nullptr ? error_of(answer)->code : ErrorCode::Unspecified;
  };
  CHECK(code(a, room, Epoch{1}, to_bytes("plain text")) == ErrorCode::InvalidArgument);
  CHECK(code(a, room, Epoch{1}, {}) == ErrorCode::InvalidArgument);
  // Another group's message is not current here (after a reset, the old
  // group's): its sender encrypts it again for the room's group.
  CHECK(code(a, room, Epoch{0}, f.mls.encrypt(alice, other, "wrong room")) == ErrorCode::StaleEpoch);
  auto bobs = f.mls.encrypt(bob, room, "written at epoch 1");
  CHECK(code(b, room, Epoch{2}, bobs) == ErrorCode::InvalidArgument);  // the header says epoch 1
  // A commit closes epoch 1: Bob's message for it is stale.
  REQUIRE(f.submit(a, room, f.mls.update(alice, room)).new_epoch.v == 2);
  CHECK(code(b, room, Epoch{1}, bobs) == ErrorCode::StaleEpoch);
  // Bob re-encrypts for the new epoch.
  REQUIRE(f.send_text(b, bob, room, "written at epoch 2").seq.v > 0);
}

TEST_CASE("leaving: a self-removal proposal, committed by another member, then nothing more", "[relay][ds]") {
  RelayFixture f;
  auto alice = make_identity("alice");
  auto bob = make_identity("bob");
  auto carol = make_identity("carol");
  auto a = f.user(alice);
  auto b = f.user(bob);
  auto c = f.user(carol);
  const RoomId room = f.create_room(a, alice);
  f.add_members(a, alice, room, {&bob, &carol});
  b.sync();
  c.sync();
  (void)b.take_deliveries();
  (void)c.take_deliveries();

  // Someone else's removal is no standalone proposal; Bob's own is.
  auto foreign = f.mls.leave(bob, room);
  require_error(c.request(foreign.bundle), ErrorCode::InvalidArgument);
  auto left = f.submit(b, room, f.mls.leave(bob, room));
  CHECK(left.new_epoch.v == 1);
  auto proposal = deliveries(c, 1);
  REQUIRE(proposal.size() == 1);
  CHECK(proposal[0].kind == wire::EnvelopeKind::Handshake);
  CHECK(proposal[0].roster_changes.empty());
  CHECK(proposal[0].sender == bob.account);
  REQUIRE(a.call<wire::Roster>(wire::GetRoster{room}).members.size() == 3);

  // Carol, no facilitator, commits it.
  auto committed = f.submit(c, room, f.mls.update(carol, room));
  CHECK(committed.new_epoch.v == 2);
  f.send_text(a, alice, room, "after bob left");
  auto for_bob = deliveries(b, 3);
  REQUIRE(for_bob.size() == 2);  // his proposal, the commit that removed him
  CHECK(for_bob.back().seq == committed.seq);
  CHECK(for_bob.back().roster_changes ==
        std::vector<wire::RosterChange>{{wire::RosterOp::Remove, bob.account, wire::Role::Member}});
  require_error(b.request(wire::GetRoster{room}), ErrorCode::NotMember);
  auto for_carol = deliveries(c, 3);
  REQUIRE_FALSE(for_carol.empty());
  CHECK(f.text_of(carol, for_carol.back()) == "after bob left");
}

TEST_CASE("restarts lose no view: commits, pending proposals and messages carry on", "[relay][ds][durability]") {
  RelayFixture f;
  auto alice = make_identity("alice");
  auto bob = make_identity("bob");
  auto carol = make_identity("carol");
  RoomId room;
  {
    auto a = f.user(alice);
    auto b = f.user(bob);
    auto c = f.user(carol);
    room = f.create_room(a, alice);
    f.add_members(a, alice, room, {&bob});
    f.send_text(a, alice, room, "epoch 1");
  }
  REQUIRE(f.relay->terminate() == 0);
  f.restart();
  auto stale = f.mls.update(alice, room);  // built on epoch 1
  {
    auto a = f.login(alice);
    auto b = f.login(bob);
    // The view continues from epoch 1 after a clean stop.
    f.add_members(a, alice, room, {&carol});
    require_error(a.request(stale.bundle), ErrorCode::EpochConflict);
    f.submit(b, room, f.mls.leave(bob, room));
  }
  f.relay->kill9();
  f.restart();
  auto a = f.login(alice);
  auto c = f.login(carol);
  // After kill -9 the pending proposal is still there: Carol commits it.
  auto committed = f.submit(c, room, f.mls.update(carol, room));
  CHECK(committed.new_epoch.v == 3);
  auto roster = a.call<wire::Roster>(wire::GetRoster{room});
  CHECK(roster.epoch.v == 3);
  std::set<AccountId> members;
  for (const auto& m : roster.members) members.insert(m.account);
  CHECK(members == std::set<AccountId>{alice.account, carol.account});
  c.sync({wire::Cursor{room, Seq{committed.seq.v}}});
  f.send_text(a, alice, room, "epoch 3");
  auto got = deliveries(c, 1);
  REQUIRE(got.size() == 1);
  CHECK(f.text_of(carol, got[0]) == "epoch 3");
}
