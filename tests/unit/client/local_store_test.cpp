// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <fstream>

#include "client/core/memory_store.h"
#include "client/core/sqlite_store.h"
#include "common/store/database.h"
#include "tests/support/temp_dir.h"

using namespace hearth;
using namespace hearth::client;

namespace {

struct MemoryFactory {
  std::unique_ptr<LocalStore> make() { return std::make_unique<MemoryStore>(); }
};

struct SqliteFactory {
  test::TempDir dir;
  std::unique_ptr<LocalStore> make() {
    auto s = SqliteStore::open(dir.path() / kProfileDbName);
    REQUIRE(s);
    return std::move(*s);
  }
};

RoomId room(std::uint8_t b) { return RoomId{Bytes(16, b)}; }

wire::Deliver deliver(const RoomId& r, std::uint64_t seq, std::string_view text) {
  wire::Deliver d;
  d.room = r;
  d.seq = Seq{seq};
  d.kind = wire::EnvelopeKind::Application;
  d.sender = AccountId{Bytes(16, 0xaa)};
  d.envelope_id = EnvelopeId{Bytes(16, static_cast<std::uint8_t>(seq))};
  d.epoch = Epoch{0};
  d.timestamp_ms = 1000 + static_cast<std::int64_t>(seq);
  d.payload = to_bytes(text);
  return d;
}

RoomRecord active(const RoomId& r, std::uint64_t cursor = 0) {
  return RoomRecord{r, Epoch{0}, wire::Role::Member, RoomStatus::Active, Seq{cursor}};
}

}  // namespace

TEMPLATE_TEST_CASE("local store: profile and identity seed round trip", "[client][store]", MemoryFactory,
                   SqliteFactory) {
  TestType f;
  auto s = f.make();
  CHECK_FALSE(s->profile().value());
  CHECK_FALSE(s->identity_seed().value());
  ProfileInfo p{"relay.example", 7443, Bytes(32, 0x11), AccountId{Bytes(16, 0x22)}, "dr-a"};
  REQUIRE(s->save_profile(p));
  REQUIRE(s->save_identity_seed(Bytes(32, 0x33)));
  CHECK(s->profile().value() == p);
  CHECK(s->identity_seed().value() == Bytes(32, 0x33));
}

TEMPLATE_TEST_CASE("local store: duplicates by (room, seq) are dropped and the cursor moves", "[client][store]",
                   MemoryFactory, SqliteFactory) {
  TestType f;
  auto s = f.make();
  const auto r = room(1);
  CHECK(s->store_delivery(deliver(r, 1, "one"), active(r, 1)).value() == DeliveryOutcome::Stored);
  CHECK(s->store_delivery(deliver(r, 2, "two"), active(r, 2)).value() == DeliveryOutcome::Stored);
  // Redelivery of the same seq (at-least-once) and an older one.
  CHECK(s->store_delivery(deliver(r, 2, "two again"), active(r, 2)).value() == DeliveryOutcome::Duplicate);
  CHECK(s->store_delivery(deliver(r, 1, "one again"), active(r, 1)).value() == DeliveryOutcome::Duplicate);
  auto env = s->envelopes(r, Seq{0}, 100).value();
  REQUIRE(env.size() == 2);
  CHECK(to_string_bytes(env[0].payload) == "one");
  CHECK(to_string_bytes(env[1].payload) == "two");
  CHECK(env[1].seq.v == 2);
  CHECK(s->room(r).value()->cursor.v == 2);
  // Other rooms are independent: seq 1 of room 2 is new.
  CHECK(s->store_delivery(deliver(room(2), 1, "x"), active(room(2), 1)).value() == DeliveryOutcome::Stored);
}

TEMPLATE_TEST_CASE("local store: the cursor never moves backwards", "[client][store]", MemoryFactory, SqliteFactory) {
  TestType f;
  auto s = f.make();
  const auto r = room(3);
  REQUIRE(s->put_room(active(r, 10)));
  auto back = active(r, 4);
  back.epoch = Epoch{2};
  REQUIRE(s->put_room(back));
  auto got = s->room(r).value();
  REQUIRE(got);
  CHECK(got->cursor.v == 10);
  CHECK(got->epoch.v == 2);
  // A delivery at or below the cursor is a duplicate even if never stored.
  CHECK(s->store_delivery(deliver(r, 9, "old"), active(r, 9)).value() == DeliveryOutcome::Duplicate);
  CHECK(s->envelopes(r, Seq{0}, 10).value().empty());
}

TEMPLATE_TEST_CASE("local store: envelopes come in seq order after a cursor, bounded by limit", "[client][store]",
                   MemoryFactory, SqliteFactory) {
  TestType f;
  auto s = f.make();
  const auto r = room(4);
  for (std::uint64_t i = 1; i <= 5; ++i) REQUIRE(s->store_delivery(deliver(r, i, "m"), active(r, i)));
  auto env = s->envelopes(r, Seq{2}, 2).value();
  REQUIRE(env.size() == 2);
  CHECK(env[0].seq.v == 3);
  CHECK(env[1].seq.v == 4);
  CHECK(env[0].sender == AccountId{Bytes(16, 0xaa)});
  CHECK(env[0].timestamp_ms == 1003);
  CHECK(s->envelopes(room(9), Seq{0}, 10).value().empty());
}

TEMPLATE_TEST_CASE("local store: outbox keeps order, refuses a reused id, removes by id", "[client][store]",
                   MemoryFactory, SqliteFactory) {
  TestType f;
  auto s = f.make();
  PendingSend a{EnvelopeId{Bytes(16, 1)}, room(1), to_bytes("a"), 1};
  PendingSend b{EnvelopeId{Bytes(16, 2)}, room(1), to_bytes("b"), 2};
  REQUIRE(s->outbox_add(b));
  REQUIRE(s->outbox_add(a));
  auto reused = s->outbox_add(a);
  REQUIRE_FALSE(reused);
  CHECK(reused.error().code == store::StoreCode::Constraint);
  auto all = s->outbox().value();
  REQUIRE(all.size() == 2);
  CHECK(all[0] == b);  // insertion order, not id order
  CHECK(all[1] == a);
  REQUIRE(s->outbox_remove(b.envelope_id));
  REQUIRE(s->outbox_remove(b.envelope_id));  // a second SendOk for a retry is fine
  all = s->outbox().value();
  REQUIRE(all.size() == 1);
  CHECK(all[0] == a);
}

TEST_CASE("sqlite store: outbox, cursors and identity survive closing and reopening", "[client][store]") {
  test::TempDir dir;
  const auto file = dir.path() / kProfileDbName;
  PendingSend p{EnvelopeId{Bytes(16, 7)}, room(1), to_bytes("still here"), 42};
  {
    auto s = SqliteStore::open(file);
    REQUIRE(s);
    REQUIRE((*s)->save_identity_seed(Bytes(32, 9)));
    REQUIRE((*s)->outbox_add(p));
    REQUIRE((*s)->store_delivery(deliver(room(1), 3, "x"), active(room(1), 3)));
  }
  auto s = SqliteStore::open(file);
  REQUIRE(s);
  auto all = (*s)->outbox().value();
  REQUIRE(all.size() == 1);
  CHECK(all[0] == p);
  CHECK((*s)->room(room(1)).value()->cursor.v == 3);
  CHECK((*s)->identity_seed().value() == Bytes(32, 9));
}

TEST_CASE("sqlite store: a profile written by newer code is refused, a corrupt one too", "[client][store]") {
  test::TempDir dir;
  const auto file = dir.path() / kProfileDbName;
  {
    auto s = SqliteStore::open(file);
    REQUIRE(s);
  }
  {
    auto db = store::Database::open(file);
    REQUIRE(db);
    REQUIRE(db->exec("PRAGMA user_version = " + std::to_string(kProfileSchemaVersion + 1)));
  }
  auto newer = SqliteStore::open(file);
  REQUIRE_FALSE(newer);
  CHECK(newer.error().code == store::StoreCode::SchemaTooNew);

  const auto garbage = dir.path() / "garbage.db";
  {
    std::ofstream out(garbage, std::ios::binary);
    out << std::string(2048, 'z');
  }
  auto bad = SqliteStore::open(garbage);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == store::StoreCode::NotADatabase);
}

TEMPLATE_TEST_CASE("local store: our own sent envelope is history, and its echo only moves the cursor",
                   "[client][store]", MemoryFactory, SqliteFactory) {
  TestType f;
  auto s = f.make();
  const auto r = room(5);
  REQUIRE(s->put_room(active(r, 0)));
  auto own = deliver(r, 3, "mine");
  REQUIRE(s->store_sent(StoredEnvelope{r, Seq{3}, wire::EnvelopeKind::Application, own.sender, own.envelope_id,
                                       Epoch{0}, 7, own.payload}));
  REQUIRE(s->store_sent(StoredEnvelope{r, Seq{3}, wire::EnvelopeKind::Application, own.sender, own.envelope_id,
                                       Epoch{0}, 7, own.payload}));  // idempotent
  CHECK(s->room(r).value()->cursor.v == 0);  // seqs 1 and 2 are still to come
  REQUIRE(s->envelopes(r, Seq{0}, 10).value().size() == 1);
  CHECK(s->store_delivery(deliver(r, 1, "a"), active(r, 1)).value() == DeliveryOutcome::Stored);
  CHECK(s->store_delivery(deliver(r, 2, "b"), active(r, 2)).value() == DeliveryOutcome::Stored);
  CHECK(s->store_delivery(own, active(r, 3)).value() == DeliveryOutcome::Duplicate);
  CHECK(s->room(r).value()->cursor.v == 3);
  CHECK(s->envelopes(r, Seq{0}, 10).value().size() == 3);
}
