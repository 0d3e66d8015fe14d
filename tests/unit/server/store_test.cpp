// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>

#include "server/store.h"
#include "tests/support/temp_dir.h"

using namespace hearth;
using namespace hearth::relay;

namespace {

AccountId acct(std::uint8_t b) { return AccountId{Bytes(16, b)}; }

StoredEnvelope envelope(std::uint64_t seq, wire::EnvelopeKind kind, std::int64_t ts,
                        std::optional<AccountId> to = std::nullopt) {
  StoredEnvelope e;
  e.seq = Seq{seq};
  e.kind = kind;
  e.sender = acct(1);
  e.envelope_id = EnvelopeId{Bytes(16, static_cast<std::uint8_t>(seq))};
  e.epoch = Epoch{0};
  e.timestamp_ms = ts;
  e.payload = Bytes{static_cast<std::uint8_t>(seq)};
  e.addressee = std::move(to);
  return e;
}

}  // namespace

TEST_CASE("store: open creates and migrates, reopen keeps the data", "[server][store]") {
  test::TempDir dir;
  {
    auto s = RelayStore::open(dir.path() / "data");
    REQUIRE(s);
    REQUIRE(s->db().user_version().value() == kSchemaVersion);
    REQUIRE(s->insert_account(AccountRow{acct(1), "alice", Bytes(32, 7)}, 1));
    auto room = new_room(RoomId{Bytes(16, 9)}, 1, acct(1), 0);
    REQUIRE(s->insert_room(room, acct(1), Bytes{1}, Bytes{0xe0, 0}, 1));
    REQUIRE(s->insert_envelope(1, envelope(1, wire::EnvelopeKind::Application, 10)));
    auto proposal = envelope(2, wire::EnvelopeKind::Handshake, 11);
    proposal.proposal = true;
    REQUIRE(s->insert_envelope(1, proposal));
    REQUIRE(s->save_cursor(1, acct(1), Seq{1}));
    // A later bundle's view replaces the first, in the caller's transaction.
    REQUIRE(s->save_room_view(1, Bytes{0xe1, 1}));
    // There is no room 2 to hold a view.
    REQUIRE_FALSE(s->save_room_view(2, Bytes{0xe2}));
  }
  auto s = RelayStore::open(dir.path() / "data");
  REQUIRE(s);
  auto state = s->load();
  REQUIRE(state);
  REQUIRE(state->accounts.size() == 1);
  REQUIRE(state->accounts[0].handle == "alice");
  REQUIRE(state->rooms.size() == 1);
  REQUIRE(state->rooms[0].head.v == 2);
  REQUIRE(state->rooms[0].members.at(acct(1)).role == wire::Role::Facilitator);
  REQUIRE(state->rooms[0].members.at(acct(1)).cursor.v == 1);
  REQUIRE(state->views.size() == 1);
  REQUIRE(state->views.at(1) == Bytes{0xe1, 1});
  REQUIRE(state->ids.size() == 2);
  REQUIRE(state->ids[0].seq.v == 1);
  REQUIRE_FALSE(state->ids[0].proposal);
  REQUIRE(state->ids[1].proposal);
}

TEST_CASE("store: version 2 migrates to 3, its rooms kept without a view", "[server][store]") {
  test::TempDir dir;
  {
    // What a version 2 relay left: the same tables without the new columns.
    auto s = RelayStore::open(dir.path());
    REQUIRE(s);
    REQUIRE(s->insert_account(AccountRow{acct(1), "alice", Bytes(32, 7)}, 1));
    REQUIRE(s->db().exec("ALTER TABLE rooms DROP COLUMN view"));
    REQUIRE(s->db().exec("ALTER TABLE envelopes DROP COLUMN proposal"));
    REQUIRE(s->db().exec("INSERT INTO rooms(row, id, creator, group_info, epoch, head, lifetime_ms, deleted_through,"
                         " created_ms) VALUES(1, x'09090909090909090909090909090909', x'01', x'010203', 3, 4, 0, 0, 1)"));
    REQUIRE(s->db().exec("INSERT INTO envelopes(room, seq, kind, sender, envelope_id, epoch, ts_ms, payload)"
                         " VALUES(1, 4, 2, x'01', x'04', 2, 5, x'c001')"));
    REQUIRE(s->db().exec("PRAGMA user_version = 2"));
  }
  auto s = RelayStore::open(dir.path());
  REQUIRE(s);
  REQUIRE(s->db().user_version().value() == 3);
  auto state = s->load();
  REQUIRE(state);
  REQUIRE(state->rooms.size() == 1);
  REQUIRE(state->rooms[0].epoch.v == 3);
  REQUIRE(state->views.empty());
  REQUIRE(state->ids.size() == 1);
  REQUIRE_FALSE(state->ids[0].proposal);  // every version 2 handshake was a commit
  // The migrated room takes a view like any other.
  REQUIRE(s->save_room_view(1, Bytes{0xe0}));
  REQUIRE(s->load()->views.at(1) == Bytes{0xe0});
}

TEST_CASE("store: a corrupt or foreign file is a clear error", "[server][store]") {
  test::TempDir dir;
  {
    std::ofstream junk(dir.path() / kDatabaseFileName);
    junk << std::string(4096, 'x');
  }
  auto s = RelayStore::open(dir.path());
  REQUIRE_FALSE(s);
  REQUIRE(s.error().code == store::StoreCode::NotADatabase);
}

TEST_CASE("store: a schema from newer code is refused", "[server][store]") {
  test::TempDir dir;
  {
    auto s = RelayStore::open(dir.path());
    REQUIRE(s);
    REQUIRE(s->db().exec("PRAGMA user_version = 99"));
  }
  auto s = RelayStore::open(dir.path());
  REQUIRE_FALSE(s);
  REQUIRE(s.error().code == store::StoreCode::SchemaTooNew);
}

TEST_CASE("store: an unwritable data directory is a clear error", "[server][store]") {
  if (::geteuid() == 0) SUCCEED("root writes anywhere; the permission case cannot be shown");
  test::TempDir dir;
  std::filesystem::create_directories(dir.path() / "ro");
  ::chmod((dir.path() / "ro").c_str(), 0500);
  auto s = RelayStore::open(dir.path() / "ro");
  if (::geteuid() != 0) REQUIRE_FALSE(s);
  ::chmod((dir.path() / "ro").c_str(), 0700);
  // A data directory that is a file fails for everyone.
  { std::ofstream f(dir.path() / "file"); }
  REQUIRE_FALSE(RelayStore::open(dir.path() / "file"));
}

TEST_CASE("store: invites are single-use and expire", "[server][store]") {
  auto s = RelayStore::open_memory();
  REQUIRE(s);
  REQUIRE(s->insert_invite("tok", 0, 1000));
  REQUIRE(s->consume_invite("nope", 10, acct(1)).value() == InviteCheck::Invalid);
  REQUIRE(s->consume_invite("tok", 1000, acct(1)).value() == InviteCheck::Invalid);  // expired
  REQUIRE(s->consume_invite("tok", 10, acct(1)).value() == InviteCheck::Consumed);
  REQUIRE(s->consume_invite("tok", 10, acct(2)).value() == InviteCheck::Invalid);
  REQUIRE_FALSE(s->insert_invite("tok", 0, 1000));  // unique
}

TEST_CASE("store: key packages are handed out once, then the last resort", "[server][store]") {
  auto s = RelayStore::open_memory();
  REQUIRE(s);
  constexpr std::uint64_t now = 1000;
  auto kp = [](std::uint8_t b) { return PublishedKeyPackage{Bytes{b}, now + 100}; };
  REQUIRE(s->add_key_packages(acct(1), {kp(1), kp(2)}, kp(9), 3, now).value() == 2u);
  REQUIRE_FALSE(s->add_key_packages(acct(1), {kp(3), kp(4)}, std::nullopt, 3, now).value().has_value());
  REQUIRE(s->add_key_packages(acct(1), {}, std::nullopt, 3, now).value() == 2u);
  REQUIRE(s->take_key_package(acct(1), now).value()->key_package == Bytes{1});
  REQUIRE(s->take_key_package(acct(1), now).value()->key_package == Bytes{2});
  auto last = s->take_key_package(acct(1), now).value();
  REQUIRE(last->last_resort);
  REQUIRE(last->key_package == Bytes{9});
  REQUIRE(s->take_key_package(acct(1), now).value()->last_resort);
  REQUIRE_FALSE(s->take_key_package(acct(2), now).value().has_value());
}

TEST_CASE("store: expired key packages are never handed out and leave the stock", "[server][store]") {
  auto s = RelayStore::open_memory();
  REQUIRE(s);
  const PublishedKeyPackage soon{Bytes{1}, 150};
  const PublishedKeyPackage later{Bytes{2}, 500};
  const PublishedKeyPackage last{Bytes{9}, 300};
  REQUIRE(s->add_key_packages(acct(1), {soon, later}, last, 2, 100).value() == 2u);
  // At 200 the first has expired: it no longer counts against the stock ...
  REQUIRE(s->add_key_packages(acct(1), {PublishedKeyPackage{Bytes{3}, 600}}, std::nullopt, 2, 200).value() == 2u);
  // ... and is skipped: the oldest unexpired one comes first.
  REQUIRE(s->take_key_package(acct(1), 200).value()->key_package == Bytes{2});
  // At 400 package 3 is still good, the last resort is not.
  REQUIRE(s->take_key_package(acct(1), 400).value()->key_package == Bytes{3});
  REQUIRE_FALSE(s->take_key_package(acct(1), 400).value().has_value());
  // Exactly at not_after a package is still valid.
  REQUIRE(s->add_key_packages(acct(2), {PublishedKeyPackage{Bytes{4}, 700}}, std::nullopt, 2, 700).value() == 1u);
  REQUIRE(s->take_key_package(acct(2), 700).value()->key_package == Bytes{4});
}

TEST_CASE("store: envelopes, Welcome addressing, retention and closing", "[server][store]") {
  auto s = RelayStore::open_memory();
  REQUIRE(s);
  auto room = new_room(RoomId{Bytes(16, 9)}, 1, acct(1), 0);
  REQUIRE(s->insert_room(room, acct(1), Bytes{}, Bytes{}, 0));
  REQUIRE(s->insert_envelope(1, envelope(1, wire::EnvelopeKind::Application, 10)));
  auto hs = envelope(2, wire::EnvelopeKind::Handshake, 20);
  hs.roster_changes = {wire::RosterChange{wire::RosterOp::Add, acct(2), wire::Role::Member}};
  REQUIRE(s->insert_envelope(1, hs));
  REQUIRE(s->insert_envelope(1, envelope(3, wire::EnvelopeKind::Welcome, 20, acct(2))));
  REQUIRE(s->insert_envelope(1, envelope(4, wire::EnvelopeKind::Application, 30)));
  REQUIRE_FALSE(s->insert_envelope(1, envelope(4, wire::EnvelopeKind::Application, 30)));  // one per seq

  const Seq all{1000};
  auto for_alice = s->read_envelopes(1, Seq{0}, all, acct(1), 100, 1 << 20).value();
  REQUIRE(for_alice.size() == 3);  // not Bob's Welcome
  auto for_bob = s->read_envelopes(1, Seq{1}, all, acct(2), 100, 1 << 20).value();
  REQUIRE(for_bob.size() == 3);
  REQUIRE(for_bob[0].roster_changes == hs.roster_changes);
  REQUIRE(for_bob[1].kind == wire::EnvelopeKind::Welcome);
  REQUIRE(s->read_envelopes(1, Seq{0}, Seq{2}, acct(1), 100, 1 << 20).value().size() == 2);
  REQUIRE(s->read_envelopes(1, Seq{0}, all, acct(1), 1, 1 << 20).value().size() == 1);

  // Age-based: only application envelopes older than the cutoff.
  room.head = Seq{4};
  auto deleted = s->delete_retained(room, Seq{0}, 25);
  REQUIRE(deleted.value().v == 1);
  room.deleted_through = *deleted;
  auto left = s->read_envelopes(1, Seq{0}, all, acct(2), 100, 1 << 20).value();
  REQUIRE(left.size() == 3);
  REQUIRE(left[0].seq.v == 2);
  // Cursor-based: everything through the cursor.
  deleted = s->delete_retained(room, Seq{3}, 0);
  REQUIRE(deleted.value().v == 3);
  REQUIRE(s->read_envelopes(1, Seq{0}, all, acct(2), 100, 1 << 20).value().size() == 1);
  auto state = s->load().value();
  REQUIRE(state.rooms.at(0).deleted_through.v == 3);
  REQUIRE(state.rooms.at(0).head.v == 4);

  REQUIRE(s->delete_room(1));
  REQUIRE(s->load().value().rooms.empty());
}

TEST_CASE("store: roster encoding round-trips and rejects garbage", "[server][store]") {
  std::vector<wire::RosterChange> changes{{wire::RosterOp::Add, acct(1), wire::Role::Facilitator},
                                          {wire::RosterOp::Remove, acct(2), wire::Role::Member},
                                          {wire::RosterOp::SetRole, acct(3), wire::Role::Member}};
  REQUIRE(decode_roster(encode_roster(changes)) == changes);
  REQUIRE_FALSE(decode_roster(Bytes{1, 2, 3}));
  Bytes bad = encode_roster(changes);
  bad[0] = 9;
  REQUIRE_FALSE(decode_roster(bad));
}
