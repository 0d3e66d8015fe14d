// SPDX-License-Identifier: Apache-2.0
// The real hearth-relay over TLS: rooms, bundles, envelopes, sync, retention.
#include <chrono>
#include <map>
#include <set>
#include <thread>
#include <unordered_set>

#include "common/mls/codec.h"
#include "server/core/limits.h"
#include "tests/support/key_packages.h"
#include "tests/integration/relay/relay_fixture.h"

using namespace hearth;
using namespace hearth::test;
using wire::ErrorCode;

TEST_CASE("a room: live delivery in order, sync backlog, rosters, Ack", "[relay][rooms]") {
  RelayFixture f;
  auto alice = make_identity("alice");
  auto bob = make_identity("bob");
  auto a = f.user(alice);
  auto b = f.user(bob);
  a.sync();
  b.sync();
  const RoomId room = f.create_room(a, alice);
  auto added = f.add_members(a, alice, room, {&bob});
  REQUIRE(added.seq.v == 1);
  REQUIRE(added.new_epoch.v == 1);

  // Bob, live, gets the handshake that added him, then his Welcome.
  REQUIRE(b.wait_deliveries(2));
  auto joined = b.take_deliveries();
  REQUIRE(joined[0].kind == wire::EnvelopeKind::Handshake);
  REQUIRE(joined[0].seq.v == 1);
  REQUIRE(joined[0].roster_changes ==
          std::vector<wire::RosterChange>{{wire::RosterOp::Add, bob.account, wire::Role::Member}});
  REQUIRE(joined[1].kind == wire::EnvelopeKind::Welcome);
  REQUIRE(joined[1].seq.v == 2);

  for (int i = 0; i < 20; ++i)
    REQUIRE(f.send_text(a, alice, room, "m" + std::to_string(i)).seq.v == 3u + unsigned(i));
  REQUIRE(b.wait_deliveries(20));
  auto msgs = b.take_deliveries();
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    REQUIRE(msgs[i].seq.v == 3 + i);
    REQUIRE(f.text_of(bob, msgs[i]) == "m" + std::to_string(i));
    REQUIRE(msgs[i].sender == alice.account);
  }

  auto roster = b.call<wire::Roster>(wire::GetRoster{room});
  REQUIRE(roster.epoch.v == 1);
  REQUIRE(roster.members.size() == 2);

  // A second connection syncs the backlog from a cursor, then gets live traffic.
  auto b2 = f.login(bob);
  auto ok = b2.sync({wire::Cursor{room, Seq{10}}});
  REQUIRE(ok.rooms.size() == 1);
  REQUIRE(ok.rooms[0].head.v == 22);
  REQUIRE(ok.rooms[0].epoch.v == 1);
  REQUIRE(ok.rooms[0].role == wire::Role::Member);
  REQUIRE(ok.gaps.empty());
  auto backlog = b2.take_deliveries();
  REQUIRE(backlog.size() == 12);
  REQUIRE(backlog.front().seq.v == 11);
  REQUIRE(backlog.back().seq.v == 22);
  f.send_text(a, alice, room, "live");
  REQUIRE(b2.wait_deliveries(1));
  REQUIRE(b2.take_deliveries().at(0).seq.v == 23);

  // An Ack moves the stored cursor: a Sync without cursors starts there.
  b2.send(wire::Frame{0, wire::Ack{{wire::Cursor{room, Seq{20}}}}});
  REQUIRE(b2.call<wire::Pong>(wire::Ping{1}).nonce == 1);
  auto b3 = f.login(bob);
  b3.sync();
  auto from_ack = b3.take_deliveries();
  REQUIRE(from_ack.size() == 3);
  REQUIRE(from_ack.front().seq.v == 21);

  // A Welcome only goes to its addressee: Alice never saw Bob's.
  auto a2 = f.login(alice);
  a2.sync({wire::Cursor{room, Seq{0}}});
  for (const auto& d : a2.take_deliveries()) REQUIRE(d.kind != wire::EnvelopeKind::Welcome);
}

TEST_CASE("roster rules over the wire", "[relay][rooms]") {
  RelayFixture f;
  auto alice = make_identity("alice");
  auto bob = make_identity("bob");
  auto carol = make_identity("carol");
  auto a = f.user(alice);
  auto b = f.user(bob);
  auto c = f.user(carol);
  const RoomId room = f.create_room(a, alice);
  require_error(a.request(wire::CreateRoom{room, {}, 0}), ErrorCode::RoomExists);

  SECTION("a non-member cannot send, read the roster or submit") {
    require_error(c.request(wire::SendEnvelope{room, new_envelope_id(), Epoch{0}, Bytes{1}}), ErrorCode::NotMember);
    require_error(c.request(wire::GetRoster{room}), ErrorCode::NotMember);
    require_error(c.request(wire::SubmitBundle{room, Epoch{0}, new_envelope_id(), Bytes{1}, {}, {}}),
                  ErrorCode::NotMember);
    require_error(c.request(wire::SendEnvelope{new_room_id(), new_envelope_id(), Epoch{0}, Bytes{1}}),
                  ErrorCode::UnknownRoom);
  }
  SECTION("a non-facilitator cannot add or remove others, or close the room") {
    f.add_members(a, alice, room, {&bob});
    // Bob's client ignores the role policy; the relay applies it.
    crypto::SystemRng rng;
    const mls::GroupEnv env{unix_now_s(), nullptr};
    auto rogue = f.mls.rogue(bob, room);
    auto carol_kp = b.call<wire::KeyPackageOk>(wire::FetchKeyPackage{carol.account});
    auto add = rogue.add({mls::decode<mls::KeyPackage>(carol_kp.key_package).value()}, rng, env);
    REQUIRE(add);
    require_error(b.request(wire::SubmitBundle{room, Epoch{1}, new_envelope_id(), mls::encode(add->commit),
                                               {wire::WelcomeFor{carol.account, mls::encode(*add->welcome)}}, {}}),
                  ErrorCode::NotFacilitator);
    auto remove = rogue.remove({mls::LeafIndex{0}}, rng, env);
    REQUIRE(remove);
    require_error(b.request(wire::SubmitBundle{room, Epoch{1}, new_envelope_id(), mls::encode(remove->commit), {}, {}}),
                  ErrorCode::NotFacilitator);
    require_error(b.request(wire::CloseRoom{room}), ErrorCode::NotFacilitator);
    // Nothing moved: Alice's next commit is on epoch 1.
    REQUIRE(f.submit(a, room, f.mls.update(alice, room)).new_epoch.v == 2);
  }
  SECTION("the last facilitator cannot leave; a member can, and any member commits it") {
    f.add_members(a, alice, room, {&bob, &carol});
    require_error(a.request(f.mls.leave(alice, room).bundle), ErrorCode::LastFacilitator);
    auto left = f.submit(b, room, f.mls.leave(bob, room));
    REQUIRE(left.new_epoch.v == 1);  // a proposal leaves the epoch as it is
    auto committed = f.submit(c, room, f.mls.update(carol, room));
    REQUIRE(committed.new_epoch.v == 2);
    require_error(b.request(wire::SendEnvelope{room, new_envelope_id(), Epoch{2}, Bytes{1}}), ErrorCode::NotMember);
    auto roster = a.call<wire::Roster>(wire::GetRoster{room});
    REQUIRE(roster.members.size() == 2);
  }
  SECTION("a Welcome must go to an account being added") {
    auto p = f.mls.add(a, alice, room, {&bob});
    p.bundle.welcomes[0].account = carol.account;
    require_error(a.request(p.bundle), ErrorCode::InvalidArgument);
  }
}

TEST_CASE("a removed member gets the handshake that removed it and nothing after", "[relay][rooms]") {
  RelayFixture f;
  auto alice = make_identity("alice");
  auto bob = make_identity("bob");
  auto a = f.user(alice);
  auto b = f.user(bob);
  b.sync();
  const RoomId room = f.create_room(a, alice);
  f.add_members(a, alice, room, {&bob});
  f.send_text(a, alice, room, "before");
  auto removed = f.submit(a, room, f.mls.remove(alice, room, {&bob}));
  REQUIRE(removed.new_epoch.v == 2);
  f.send_text(a, alice, room, "after");
  REQUIRE(a.call<wire::Pong>(wire::Ping{1}).nonce == 1);
  REQUIRE(b.wait_deliveries(4));
  REQUIRE_FALSE(b.wait_deliveries(5, std::chrono::milliseconds(300)));
  auto got = b.take_deliveries();
  REQUIRE(got.back().seq == removed.seq);
  REQUIRE(got.back().kind == wire::EnvelopeKind::Handshake);
  REQUIRE(got.back().roster_changes ==
          std::vector<wire::RosterChange>{{wire::RosterOp::Remove, bob.account, wire::Role::Member}});

  // Offline at the time: a later Sync still brings the removal, nothing after.
  auto b2 = f.login(bob);
  auto ok = b2.sync({wire::Cursor{room, Seq{3}}});
  REQUIRE(ok.rooms.empty());
  auto later = b2.take_deliveries();
  REQUIRE(later.size() == 1);
  REQUIRE(later[0].seq == removed.seq);
}

TEST_CASE("retried envelope ids are idempotent", "[relay][idempotency]") {
  RelayFixture f;
  auto alice = make_identity("alice");
  auto bob = make_identity("bob");
  auto a = f.user(alice);
  auto b = f.user(bob);
  const RoomId room = f.create_room(a, alice);
  auto add = f.mls.add(a, alice, room, {&bob});
  auto first_bundle = a.call<wire::BundleOk>(add.bundle);
  REQUIRE(a.call<wire::BundleOk>(add.bundle) == first_bundle);
  f.mls.accepted(room, std::move(add));
  // A retried proposal names the epoch it left in place.
  auto leave = f.mls.leave(bob, room);
  const EnvelopeId leave_id = leave.bundle.envelope_id;
  auto first_leave = b.call<wire::BundleOk>(leave.bundle);
  REQUIRE(first_leave.new_epoch.v == 1);
  REQUIRE(b.call<wire::BundleOk>(leave.bundle) == first_leave);
  f.mls.accepted(room, std::move(leave));

  const auto id = new_envelope_id();
  auto first = f.send_text(a, alice, room, "once", id);
  auto again = f.send_text(a, alice, room, "once", id);
  REQUIRE(first.seq == again.seq);
  // The same id from another account is a different envelope.
  auto bobs = f.send_text(b, bob, room, "bob's", id);
  REQUIRE(bobs.seq.v == first.seq.v + 1);
  // The same id in another room is a conflict.
  const RoomId other = f.create_room(a, alice);
  require_error(a.request(wire::SendEnvelope{other, id, Epoch{0}, f.mls.encrypt(alice, other, "x")}),
                ErrorCode::DuplicateId);

  auto b2 = f.login(bob);
  b2.sync({wire::Cursor{room, Seq{0}}});
  int copies = 0;
  for (const auto& d : b2.take_deliveries()) copies += d.envelope_id == id && d.sender == alice.account ? 1 : 0;
  REQUIRE(copies == 1);

  // Still idempotent after a restart.
  REQUIRE(f.relay->terminate() == 0);
  f.restart();
  auto a2 = f.login(alice);
  REQUIRE(f.send_text(a2, alice, room, "once", id).seq == first.seq);
  auto bob_again = f.login(bob);
  REQUIRE(bob_again.call<wire::BundleOk>(wire::SubmitBundle{room, Epoch{1}, leave_id, {}, {}, {}}) == first_leave);
}

TEST_CASE("durability: every acknowledged envelope survives kill -9, once and in order", "[relay][durability]") {
  RelayFixture f;
  auto alice = make_identity("alice");
  const RoomId room = [&] {
    auto a = f.user(alice);
    return f.create_room(a, alice);
  }();
  auto a = f.login(alice);
  // Pipeline a burst without waiting, read acks as they come, kill mid-way.
  constexpr int kBurst = 3000;
  std::vector<EnvelopeId> ids;
  for (int i = 0; i < kBurst; ++i) ids.push_back(new_envelope_id());
  std::map<std::uint64_t, std::size_t> acked;  // seq -> index of the envelope
  std::size_t sent = 0;
  bool killed = false;
  while (true) {
    try {
      while (sent < ids.size() && sent < acked.size() + 200) {
        a.send(wire::Frame{1000 + sent,
                           wire::SendEnvelope{room, ids[sent], Epoch{0},
                                              f.mls.encrypt(alice, room, "e" + std::to_string(sent))}});
        ++sent;
      }
    } catch (const RelayClientError&) {
      if (!killed) throw;  // writes fail only once the relay is gone
    }
    if (!killed && acked.size() >= 500) {
      f.relay->kill9();
      killed = true;
    }
    auto r = a.receive(std::chrono::milliseconds(2000));
    if (r.status != ReceiveStatus::Frame) break;
    if (auto* ok = std::get_if<wire::SendOk>(&r.frame->body)) acked.emplace(ok->seq.v, r.frame->request_id - 1000);
  }
  REQUIRE(killed);
  REQUIRE(acked.size() >= 500);

  f.restart();
  auto c = f.login(alice);
  c.sync({wire::Cursor{room, Seq{0}}});
  auto stored = c.take_deliveries();
  // Stored seqs are 1..N with no gap, each envelope at most once.
  std::unordered_set<EnvelopeId, BytesIdHash> seen;
  for (std::size_t i = 0; i < stored.size(); ++i) {
    REQUIRE(stored[i].seq.v == i + 1);
    REQUIRE(seen.insert(stored[i].envelope_id).second);
  }
  // Every acknowledged envelope is there, at the acknowledged seq.
  for (const auto& [seq, index] : acked) {
    REQUIRE(seq <= stored.size());
    REQUIRE(stored[seq - 1].envelope_id == ids[index]);
  }
  // A retry of an acknowledged envelope gets its original seq.
  const auto& [seq0, index0] = *acked.begin();
  REQUIRE(f.send_text(c, alice, room, "retry", ids[index0]).seq.v == seq0);
}

TEST_CASE("graceful SIGTERM finishes acknowledged writes", "[relay][durability]") {
  RelayFixture f;
  auto alice = make_identity("alice");
  auto a = f.user(alice);
  const RoomId room = f.create_room(a, alice);
  for (int i = 0; i < 300; ++i)
    a.send(wire::Frame{5000 + std::uint64_t(i),
                       wire::SendEnvelope{room, new_envelope_id(), Epoch{0}, f.mls.encrypt(alice, room, "x")}});
  const int code = f.relay->terminate();
  REQUIRE(code == 0);
  std::set<std::uint64_t> acked;
  for (;;) {
    auto r = a.receive(std::chrono::milliseconds(1000));
    if (r.status != ReceiveStatus::Frame) break;
    if (auto* ok = std::get_if<wire::SendOk>(&r.frame->body)) acked.insert(ok->seq.v);
  }
  f.restart();
  auto c = f.login(alice);
  auto sync = c.sync({wire::Cursor{room, Seq{0}}});
  const auto stored = c.take_deliveries();
  REQUIRE(stored.size() >= acked.size());
  for (auto seq : acked) REQUIRE(seq <= stored.size());
  REQUIRE(sync.rooms.at(0).head.v == stored.size());
}

TEST_CASE("a slow reader is cut off, the others keep receiving, and it resumes from its cursor", "[relay][slow]") {
  RelayFixture f({"--max-frame-size", "16384", "--outbox-bytes", "65536", "--outbox-frames", "64"});
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
  (void)c.take_deliveries();
  // Bob stops reading. Alice sends far more than his socket buffers and
  // outbox hold; Carol reads everything as it comes.
  constexpr std::uint64_t kCount = 1500;
  const std::string payload(12000, 'p');
  for (std::uint64_t i = 0; i < kCount; ++i) {
    REQUIRE(f.send_text(a, alice, room, payload).seq.v == 4 + i);
    REQUIRE(c.wait_deliveries(1));
    auto got = c.take_deliveries();
    REQUIRE(got.size() == 1);
    REQUIRE(got[0].seq.v == 4 + i);
  }
  // Bob's connection was closed: reading drains what was buffered, then EOF.
  REQUIRE(b.wait_closed(std::chrono::seconds(30)));
  std::uint64_t bob_last = 0;
  for (const auto& d : b.take_deliveries()) {
    REQUIRE(d.seq.v > bob_last);
    bob_last = d.seq.v;
  }
  REQUIRE(bob_last < 3 + kCount);
  // He resumes from his cursor and gets the rest, nothing lost, in order.
  auto b2 = f.login(bob);
  auto ok = b2.sync({wire::Cursor{room, Seq{bob_last}}});
  const auto head = ok.rooms.at(0).head.v;
  REQUIRE(head == 3 + kCount);
  std::uint64_t next = bob_last + 1;
  while (next <= head) {
    for (const auto& d : b2.take_deliveries()) {
      REQUIRE(d.seq.v == next);
      next = d.seq.v + 1;
    }
    if (next <= head) REQUIRE(b2.wait_deliveries(1));
  }
}

TEST_CASE("garbage from one client does not disturb the others", "[relay][isolation]") {
  RelayFixture f;
  auto alice = make_identity("alice");
  auto bob = make_identity("bob");
  auto a = f.user(alice);
  auto b = f.user(bob);
  b.sync();
  const RoomId room = f.create_room(a, alice);
  f.add_members(a, alice, room, {&bob});
  REQUIRE(b.wait_deliveries(2));
  (void)b.take_deliveries();

  std::vector<RelayClient> noisy;
  for (int i = 0; i < 3; ++i) noisy.push_back(f.connect());
  for (int round = 0; round < 10; ++round) {
    for (auto& n : noisy) {
      try {
        n.send_raw(crypto::random_bytes(64 + std::size_t(round) * 100));
      } catch (const RelayClientError&) {
        // closed by the relay: that is the point
      }
    }
    f.send_text(a, alice, room, "r" + std::to_string(round));
  }
  REQUIRE(b.wait_deliveries(10));
  auto got = b.take_deliveries();
  for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(f.text_of(bob, got[i]) == "r" + std::to_string(i));
  REQUIRE(a.call<wire::Pong>(wire::Ping{9}).nonce == 9);
}

TEST_CASE("closing a room deletes it and tells the members", "[relay][rooms]") {
  RelayFixture f;
  auto alice = make_identity("alice");
  auto bob = make_identity("bob");
  auto a = f.user(alice);
  auto b = f.user(bob);
  b.sync();
  const RoomId room = f.create_room(a, alice);
  f.add_members(a, alice, room, {&bob});
  f.send_text(a, alice, room, "soon gone");
  REQUIRE(a.call<wire::CloseRoomOk>(wire::CloseRoom{room}).room == room);
  bool closed_seen = false;
  for (int i = 0; i < 10 && !closed_seen; ++i) {
    for (auto& p : b.pushes()) closed_seen = closed_seen || std::holds_alternative<wire::RoomClosed>(p.body);
    if (!closed_seen) (void)b.wait_deliveries(100, std::chrono::milliseconds(200));
    (void)b.take_deliveries();
  }
  REQUIRE(closed_seen);
  require_error(a.request(wire::GetRoster{room}), ErrorCode::UnknownRoom);
  auto b2 = f.login(bob);
  REQUIRE(b2.sync().rooms.empty());
  REQUIRE(b2.take_deliveries().empty());
}

TEST_CASE("retention deletes expired envelopes and Sync reports the history gap", "[relay][retention]") {
  RelayFixture f({"--retention-interval-ms", "100"});
  auto alice = make_identity("alice");
  auto bob = make_identity("bob");
  auto a = f.user(alice);
  auto b = f.user(bob);
  const RoomId room = f.create_room(a, alice, 300);
  f.add_members(a, alice, room, {&bob});
  for (int i = 0; i < 3; ++i) f.send_text(a, alice, room, "old");
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  f.send_text(a, alice, room, "new");
  auto b2 = f.login(bob);
  auto ok = b2.sync({wire::Cursor{room, Seq{2}}});
  REQUIRE(ok.gaps.size() == 1);
  REQUIRE(ok.gaps[0].code == ErrorCode::HistoryGap);
  REQUIRE(ok.gaps[0].room == room);
  // The application envelopes are gone; the new one is there.
  auto got = b2.take_deliveries();
  REQUIRE(got.size() == 1);
  REQUIRE(f.text_of(bob, got[0]) == "new");
  // Handshakes and Welcomes stay until every member has them.
  auto b3 = f.login(bob);
  b3.sync({wire::Cursor{room, Seq{0}}});
  auto all = b3.take_deliveries();
  REQUIRE(all.size() == 3);
  REQUIRE(all[0].kind == wire::EnvelopeKind::Handshake);
  REQUIRE(all[1].kind == wire::EnvelopeKind::Welcome);
}

TEST_CASE("an idle connection is closed, Ping keeps it alive", "[relay][idle]") {
  RelayFixture f({"--idle-timeout-seconds", "1"});
  auto quiet = f.connect();
  auto chatty = f.connect();
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    REQUIRE(chatty.call<wire::Pong>(wire::Ping{std::uint64_t(i)}).nonce == std::uint64_t(i));
  }
  REQUIRE(quiet.wait_closed(std::chrono::seconds(5)));
}

TEST_CASE("per-connection frame rate limit answers RateLimited", "[relay][ratelimit]") {
  RelayFixture f({"--rate-frames-per-second", "5", "--rate-burst", "10"});
  auto c = f.connect();
  bool limited = false;
  for (int i = 0; i < 30 && !limited; ++i) {
    auto r = c.request(wire::Ping{std::uint64_t(i)});
    if (auto* e = std::get_if<wire::Error>(&r.body)) limited = e->code == ErrorCode::RateLimited;
  }
  REQUIRE(limited);
}

TEST_CASE("an account can create at most kMaxRoomsPerAccount rooms", "[relay][quota]") {
  RelayFixture f;
  auto alice = make_identity("alice");
  auto a = f.user(alice);
  // Pipelined, so the relay's group commit takes them in a few transactions.
  for (std::size_t i = 0; i < relay::kMaxRoomsPerAccount; ++i) {
    const RoomId room = new_room_id();
    a.send(wire::Frame{1000 + i, wire::CreateRoom{room, f.mls.new_group_info(alice, room), 0}});
  }
  std::size_t created = 0;
  for (std::size_t i = 0; i < relay::kMaxRoomsPerAccount; ++i) {
    auto r = a.receive();
    REQUIRE(r.frame.has_value());
    if (std::holds_alternative<wire::CreateRoomOk>(r.frame->body)) ++created;
  }
  REQUIRE(created == relay::kMaxRoomsPerAccount);
  const RoomId one_more = new_room_id();
  require_error(a.request(wire::CreateRoom{one_more, f.mls.new_group_info(alice, one_more), 0}),
                ErrorCode::QuotaExceeded);
  // Another account is not affected.
  auto bob = make_identity("bob");
  auto b = f.user(bob);
  (void)f.create_room(b, bob);
}
