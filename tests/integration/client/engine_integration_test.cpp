// SPDX-License-Identifier: Apache-2.0
// client/core engines against the real hearth-relay.
#include <catch2/catch.hpp>

#include "common/wire/invite.h"
#include "client/core/sqlite_store.h"
#include "tests/integration/client/engine_support.h"
#include "tests/support/key_packages.h"
#include "tests/integration/client/relay_process.h"
#include "tests/integration/client/world.h"

using namespace hearth;
using namespace hearth::client;
using namespace hearth::test;
using namespace std::chrono_literals;

namespace {

bool has_all(const Seen& s, const RoomId& room, std::size_t n) { return s.count(room) >= n; }

}  // namespace

TEST_CASE("integration: three clients chat and everyone reads everyone", "[integration][client]") {
  World w(3);
  const std::vector<std::string> lines{"hi from alice", "hi from bob", "hi from carol"};
  for (std::size_t i = 0; i < 3; ++i) {
    auto sent = await(w.clients[i]->send_text(w.room, lines[i]));
    INFO(why(sent));
    REQUIRE(sent);
    CHECK(sent->seq.v > 0);
  }
  for (std::size_t i = 0; i < 3; ++i) {
    auto& c = w.clients[i];
    // Everyone gets the other two (the relay may or may not echo our own).
    REQUIRE(collect(*c, c.seen, [&](const Seen& s) {
      std::size_t others = 0;
      for (std::size_t k = 0; k < 3; ++k) {
        if (k == i) continue;
        const auto texts = s.texts();
        if (std::count(texts.begin(), texts.end(), lines[k]) > 0) ++others;
      }
      return others == 2;
    }));
    collect_for(*c, c.seen, 300ms);
    CHECK(unique_seqs(c.seen, w.room));
    CHECK(c.seen.count_events<MessageSent>() == 1);
  }
  auto roster = await(w.clients[1]->roster(w.room));
  REQUIRE(roster);
  CHECK(roster->members.size() == 3);
  for (const auto& m : roster->members) {
    if (m.handle == "alice") CHECK(m.role == wire::Role::Facilitator);
    if (m.handle == "bob") CHECK(m.role == wire::Role::Member);
  }
}

TEST_CASE("integration: an offline member catches up, once", "[integration][client]") {
  World w(2);
  auto& bob = w.clients[1];
  bob.close();
  constexpr int kMessages = 5;
  for (int i = 0; i < kMessages; ++i) {
    REQUIRE(await(w.clients[0]->send_text(w.room, "backlog " + std::to_string(i))));
  }
  bob.open();
  bob.seen = {};
  REQUIRE(await(bob->start()));
  REQUIRE(collect(*bob, bob.seen, [&](const Seen& s) { return s.count(w.room) >= kMessages; }));
  const auto texts = bob.seen.texts();
  for (int i = 0; i < kMessages; ++i) CHECK(texts[static_cast<std::size_t>(i)] == "backlog " + std::to_string(i));
  CHECK(unique_seqs(bob.seen, w.room));

  // Coming back again: the cursor was stored, nothing is shown twice.
  bob.close();
  bob.open();
  bob.seen = {};
  REQUIRE(await(bob->start()));
  collect_for(*bob, bob.seen, 500ms);
  CHECK(bob.seen.count(w.room) == 0);
  auto history = await(bob->history(w.room, Seq{}, 100));
  REQUIRE(history);
  std::size_t app = 0;
  for (const auto& e : *history) {
    if (e.kind == wire::EnvelopeKind::Application) ++app;
  }
  CHECK(app == kMessages);
}

TEST_CASE("integration: dropped connections resume with no loss and no duplicates", "[integration][client]") {
  World w(2);
  auto& alice = w.clients[0];
  auto& bob = w.clients[1];
  constexpr int kMessages = 30;
  for (int i = 0; i < kMessages; ++i) {
    if (i % 7 == 3) bob->drop_connection();
    if (i % 11 == 5) alice->drop_connection();  // alice's sends wait in the outbox meanwhile
    auto f = alice->send_text(w.room, "m" + std::to_string(i));
    const bool answered = f.wait_for(30s) == std::future_status::ready;
    collect_for(*alice, alice.seen, 1ms);
    INFO("alice went offline: " << offline_reasons(alice.seen));
    REQUIRE(answered);
    auto r = f.get();
    INFO(why(r));
    REQUIRE(r);
  }
  const bool all = collect(*bob, bob.seen, [&](const Seen& s) { return has_all(s, w.room, kMessages); }, 30s);
  std::string got;
  for (const auto& m : bob.seen.messages) got += std::to_string(m.seq.v) + " ";
  INFO("bob got " << got);
  INFO("bob went offline: " << offline_reasons(bob.seen));
  REQUIRE(all);
  collect_for(*bob, bob.seen, 500ms);
  CHECK(bob.seen.count(w.room) == kMessages);
  CHECK(unique_seqs(bob.seen, w.room));
  const auto texts = bob.seen.texts();
  for (int i = 0; i < kMessages; ++i) CHECK(texts[static_cast<std::size_t>(i)] == "m" + std::to_string(i));
  CHECK(bob.seen.count_events<ConnectionChanged>() >= 4);
}

TEST_CASE("integration: a relay restart is survived with no loss and no duplicates", "[integration][client]") {
  World w(2);
  auto& alice = w.clients[0];
  auto& bob = w.clients[1];
  REQUIRE(await(alice->send_text(w.room, "before restart")));
  REQUIRE(collect(*bob, bob.seen, [&](const Seen& s) { return has_all(s, w.room, 1); }));
  w.relay->restart();
  // Sent while the engines reconnect: queued in the outbox, then delivered.
  auto after = alice->send_text(w.room, "after restart");
  auto r = await(std::move(after), 40s);
  INFO(why(r));
  REQUIRE(r);
  REQUIRE(collect(*bob, bob.seen, [&](const Seen& s) { return has_all(s, w.room, 2); }, 40s));
  collect_for(*bob, bob.seen, 500ms);
  CHECK(bob.seen.texts() == std::vector<std::string>{"before restart", "after restart"});
  CHECK(unique_seqs(bob.seen, w.room));
}

TEST_CASE("integration: the outbox survives a client restart and is sent once", "[integration][client]") {
  World w(2);
  auto& alice = w.clients[0];
  auto& bob = w.clients[1];
  alice.close();
  {
    // Offline: the engine is never started, so the message waits in the outbox.
    alice.open(false);
    auto queued = alice->send_text(w.room, "written offline");
    CHECK(queued.wait_for(200ms) == std::future_status::timeout);
    alice.close();
    auto r = queued.get();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ClientCode::Stopped);
  }
  alice.open();
  auto pending = await(alice->outbox());
  REQUIRE(pending);
  REQUIRE(pending->size() == 1);
  REQUIRE(await(alice->start()));
  REQUIRE(collect(*alice, alice.seen, [](const Seen& s) { return s.count_events<MessageSent>() >= 1; }));
  REQUIRE(collect(*bob, bob.seen, [&](const Seen& s) { return has_all(s, w.room, 1); }));
  collect_for(*bob, bob.seen, 500ms);
  CHECK(bob.seen.texts() == std::vector<std::string>{"written offline"});
  CHECK(await(alice->outbox())->empty());
}

TEST_CASE("integration: membership changes reach the roster, a removed member gets nothing after",
          "[integration][client]") {
  World w(3);
  auto& alice = w.clients[0];
  auto& bob = w.clients[1];
  auto& carol = w.clients[2];
  auto removed = await(alice->remove_member(w.room, "carol"));
  INFO(why(removed));
  REQUIRE(removed);
  REQUIRE(collect(*carol, carol.seen, [&](const Seen& s) { return s.count_events<RoomLeft>() >= 1; }));
  REQUIRE(await(alice->send_text(w.room, "carol cannot read this")));
  REQUIRE(collect(*bob, bob.seen, [&](const Seen& s) { return has_all(s, w.room, 1); }));
  collect_for(*carol, carol.seen, 500ms);
  CHECK(carol.seen.count(w.room) == 0);
  auto roster = await(alice->roster(w.room));
  REQUIRE(roster);
  CHECK(roster->members.size() == 2);

  // A member cannot add people: its own client applies the role policy.
  auto refused = await(bob->add_member(w.room, "carol"));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ClientCode::NotAllowed);

  // Leaving is a proposal removing ourselves, which another member commits.
  REQUIRE(await(bob->leave_room(w.room)));
  REQUIRE(collect(*bob, bob.seen, [&](const Seen& s) { return s.count_events<RoomLeft>() >= 1; }));
}

TEST_CASE("integration: a wrong pin is refused, naming both hashes", "[integration][client]") {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "relay");
  RelayProcess relay(tmp.path() / "relay");
  auto invite = wire::parse_invite(relay.invites(1).front());
  REQUIRE(invite);
  REQUIRE(to_hex(invite->spki_pin) == relay.spki_hex());
  invite->spki_pin[0] ^= 0xff;
  Client c;
  c.dir = tmp.path() / "mallory";
  c.open(false);
  auto r = await(c->register_account(wire::format_invite(*invite), "mallory"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ClientCode::PinMismatch);
  CHECK(r.error().detail.find(to_hex(invite->spki_pin)) != std::string::npos);
  CHECK(r.error().detail.find(relay.spki_hex()) != std::string::npos);
  c.close();
}

TEST_CASE("integration: account lookup by handle", "[integration][client]") {
  World w(2);
  auto& bob = w.clients[1];
  auto info = await(bob->lookup("alice"));
  INFO(why(info));
  REQUIRE(info);
  CHECK(info->handle == "alice");
  CHECK(info->identity_key.size() == 32);
  auto unknown = await(bob->lookup("nobody"));
  REQUIRE_FALSE(unknown);
  REQUIRE(unknown.error().relay);
  CHECK(unknown.error().relay->code == wire::ErrorCode::UnknownAccount);
}

TEST_CASE("integration: each device keeps its own KeyPackages at the relay, topped up as others take them",
          "[integration][client]") {
  World w(2);
  auto& alice = w.clients[0];
  auto& bob = w.clients[1];
  const auto target = options().key_packages.target;
  // The top-up after Alice's sync, or this one joining it.
  auto stock = await(alice->top_up_key_packages());
  INFO(why(stock));
  REQUIRE(stock);
  CHECK(stock->relay_stock == target);

  auto info = await(bob->lookup("alice"));
  REQUIRE(info);
  std::set<Bytes> refs;
  for (std::uint32_t i = 0; i <= target; ++i) {
    auto kp = await(bob->fetch_key_package(info->account));
    INFO(why(kp));
    REQUIRE(kp);
    CHECK(kp->last_resort == (i == target));  // the one-time ones first, then the last resort
    CHECK(kp->identity_key == info->identity_key);
    auto checked = mls::check_account_key_package(kp->key_package, info->account.v, info->identity_key, unix_now_s());
    REQUIRE(checked);
    refs.insert(Bytes(checked->ref.begin(), checked->ref.end()));
  }
  CHECK(refs.size() == target + 1);

  // Drained: the next top-up publishes a full stock again, the last resort is still fresh.
  auto again = await(alice->top_up_key_packages());
  INFO(why(again));
  REQUIRE(again);
  CHECK(again->added == target);
  CHECK(again->relay_stock == target);
  CHECK_FALSE(again->last_resort);
  auto fresh = await(bob->fetch_key_package(info->account));
  REQUIRE(fresh);
  CHECK_FALSE(fresh->last_resort);

  // Alice's device holds the private keys of every package it handed out, sealed.
  alice.close();
  auto store = client::SqliteStore::open(alice.dir / client::kProfileDbName, kTestPassphrase, kTestKdf);
  REQUIRE(store);
  auto held = (*store)->key_packages();
  REQUIRE(held);
  std::set<Bytes> held_refs;
  for (const auto& p : *held) {
    auto bundle = client::decode_bundle(p.bundle);
    REQUIRE(bundle);
    CHECK(Bytes(bundle->ref.begin(), bundle->ref.end()) == p.ref);
    held_refs.insert(p.ref);
  }
  for (const auto& r : refs) CHECK(held_refs.contains(r));
}

TEST_CASE("integration: closing a room reaches its members and ends sending", "[integration][client]") {
  World w(2);
  auto& alice = w.clients[0];
  auto& bob = w.clients[1];
  auto refused = await(bob->close_room(w.room));
  REQUIRE_FALSE(refused);
  REQUIRE(refused.error().relay);
  CHECK(refused.error().relay->code == wire::ErrorCode::NotFacilitator);
  auto closed = await(alice->close_room(w.room));
  INFO(why(closed));
  REQUIRE(closed);
  REQUIRE(collect(*bob, bob.seen, [](const Seen& s) { return s.count_events<RoomClosedEvent>() >= 1; }));
  auto rooms = await(bob->rooms());
  REQUIRE(rooms);
  REQUIRE(rooms->size() == 1);
  CHECK((*rooms)[0].status == RoomStatus::Closed);
  auto late = await(bob->send_text(w.room, "anyone?"));
  REQUIRE_FALSE(late);
  CHECK(late.error().code == ClientCode::InvalidArgument);
}

TEST_CASE("integration: identity keys are pinned on first sight and compared as safety numbers",
          "[integration][client]") {
  World w(2);
  auto& alice = w.clients[0];
  auto& bob = w.clients[1];
  // Alice added Bob, so she has pinned his key; Bob pins hers now.
  auto a_view = await(alice->safety_number("bob"));
  INFO(why(a_view));
  REQUIRE(a_view);
  auto b_view = await(bob->safety_number("alice"));
  INFO(why(b_view));
  REQUIRE(b_view);
  CHECK(a_view->digits == b_view->digits);  // what they read to each other
  CHECK_FALSE(a_view->verified);

  auto wrong = await(alice->verify_safety_number("bob", "12345 12345"));
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == client::ClientCode::InvalidArgument);
  auto right = await(alice->verify_safety_number("bob", b_view->digits));
  INFO(why(right));
  REQUIRE(right);
  CHECK(right->verified);
  CHECK(await(alice->safety_number("bob"))->verified);

  // Our own account: the relay's key for it must be ours.
  CHECK(await(alice->lookup("alice")));

  // Bob's key changes under Alice (as if the relay substituted it): her
  // device pinned another one, so lookups, KeyPackages and adds stop.
  alice.close();
  {
    auto store = client::SqliteStore::open(alice.dir / client::kProfileDbName, kTestPassphrase, kTestKdf);
    REQUIRE(store);
    auto pin = (*store)->pinned_key(a_view->account);
    REQUIRE(pin);
    REQUIRE(*pin);
    auto forged = **pin;
    forged.identity_key[0] ^= 0x01;
    REQUIRE((*store)->put_pinned_key(forged));
  }
  alice.open();
  REQUIRE(await(alice->start()));
  auto changed = await(alice->lookup("bob"));
  REQUIRE_FALSE(changed);
  CHECK(changed.error().code == client::ClientCode::IdentityChanged);
  auto kp = await(alice->fetch_key_package(a_view->account));
  REQUIRE_FALSE(kp);
  CHECK(kp.error().code == client::ClientCode::IdentityChanged);
  auto room = await(alice->create_room());
  REQUIRE(room);
  auto add = await(alice->add_member(*room, "bob"));
  REQUIRE_FALSE(add);
  CHECK(add.error().code == client::ClientCode::IdentityChanged);
  REQUIRE(collect(*alice, alice.seen, [](const Seen& s) { return s.count_events<client::IdentityKeyChanged>() > 0; }));
  for (const auto& e : alice.seen.all) {
    if (const auto* c = std::get_if<client::IdentityKeyChanged>(&e)) {
      CHECK(c->account == a_view->account);
      CHECK(c->new_key != c->pinned_key);
      CHECK((c->handle == "bob" || c->handle.empty()));  // KeyPackage answers carry no handle
    }
  }

  // Alice accepts the key the relay names; it is pinned again, not verified.
  auto accepted = await(alice->accept_identity_key("bob"));
  INFO(why(accepted));
  REQUIRE(accepted);
  CHECK_FALSE(accepted->verified);
  CHECK(accepted->digits == b_view->digits);
  CHECK(await(alice->lookup("bob")));
  CHECK(await(alice->add_member(*room, "bob")));
}
