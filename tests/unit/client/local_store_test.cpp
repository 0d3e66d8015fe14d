// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>

#include "client/core/memory_store.h"
#include "client/core/sqlite_store.h"
#include "common/store/database.h"
#include "common/store/statement.h"
#include "tests/support/file_bytes.h"
#include "tests/support/profile.h"
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
    auto s = SqliteStore::open(dir.path() / kProfileDbName, test::kTestPassphrase, test::kTestKdf);
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
    auto s = SqliteStore::open(file, test::kTestPassphrase, test::kTestKdf);
    REQUIRE(s);
    REQUIRE((*s)->save_identity_seed(Bytes(32, 9)));
    REQUIRE((*s)->outbox_add(p));
    REQUIRE((*s)->store_delivery(deliver(room(1), 3, "x"), active(room(1), 3)));
    REQUIRE((*s)->put_key_refresh(room(1), KeyRefresh{77, 4}));
  }
  auto s = SqliteStore::open(file, test::kTestPassphrase, test::kTestKdf);
  REQUIRE(s);
  CHECK((*s)->key_refresh(room(1)).value() == KeyRefresh{77, 4});
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
    auto s = SqliteStore::open(file, test::kTestPassphrase, test::kTestKdf);
    REQUIRE(s);
  }
  {
    auto db = store::Database::open(file);
    REQUIRE(db);
    REQUIRE(db->exec("PRAGMA user_version = " + std::to_string(kProfileSchemaVersion + 1)));
  }
  auto newer = SqliteStore::open(file, test::kTestPassphrase, test::kTestKdf);
  REQUIRE_FALSE(newer);
  CHECK(newer.error().code == store::StoreCode::SchemaTooNew);

  const auto garbage = dir.path() / "garbage.db";
  {
    std::ofstream out(garbage, std::ios::binary);
    out << std::string(2048, 'z');
  }
  auto bad = SqliteStore::open(garbage, test::kTestPassphrase, test::kTestKdf);
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

namespace {

// The profile file as version 1 wrote it: everything in clear.
constexpr const char* kVersion1Sql = R"sql(
CREATE TABLE identity (id INTEGER PRIMARY KEY CHECK (id = 1), ed25519_seed BLOB NOT NULL);
CREATE TABLE profile (id INTEGER PRIMARY KEY CHECK (id = 1), relay_host TEXT NOT NULL,
  relay_port INTEGER NOT NULL, spki_pin BLOB NOT NULL, account_id BLOB NOT NULL, handle TEXT NOT NULL);
CREATE TABLE rooms (room_id BLOB PRIMARY KEY, epoch INTEGER NOT NULL, role INTEGER NOT NULL,
  status INTEGER NOT NULL, cursor INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE envelopes (room_id BLOB NOT NULL, seq INTEGER NOT NULL, kind INTEGER NOT NULL,
  sender BLOB NOT NULL, envelope_id BLOB NOT NULL, epoch INTEGER NOT NULL, timestamp_ms INTEGER NOT NULL,
  payload BLOB NOT NULL, PRIMARY KEY (room_id, seq)) WITHOUT ROWID;
CREATE TABLE outbox (position INTEGER PRIMARY KEY AUTOINCREMENT, envelope_id BLOB NOT NULL UNIQUE,
  room_id BLOB NOT NULL, payload BLOB NOT NULL, created_ms INTEGER NOT NULL);
INSERT INTO identity VALUES (1, x'5151515151515151515151515151515151515151515151515151515151515151');
INSERT INTO profile VALUES (1, 'relay.st-elsewhere.example', 7443, x'1111', x'2222', 'dr-version-one');
INSERT INTO rooms VALUES (x'01010101010101010101010101010101', 0, 0, 1, 2);
INSERT INTO envelopes VALUES (x'01010101010101010101010101010101', 1, 1, x'aa', x'01', 0, 1001,
  CAST('what the family said in the corridor' AS BLOB));
INSERT INTO envelopes VALUES (x'01010101010101010101010101010101', 2, 1, x'aa', x'02', 0, 1002,
  CAST('I keep replaying the handover' AS BLOB));
INSERT INTO outbox(envelope_id, room_id, payload, created_ms) VALUES (x'03', x'01010101010101010101010101010101',
  CAST('not sent before the upgrade' AS BLOB), 5);
PRAGMA user_version = 1;
)sql";

}  // namespace

TEST_CASE("sqlite store: a wrong passphrase opens nothing and changes nothing", "[client][store]") {
  test::TempDir dir;
  const auto file = dir.path() / kProfileDbName;
  {
    auto s = SqliteStore::open(file, test::kTestPassphrase, test::kTestKdf);
    REQUIRE(s);
    REQUIRE((*s)->save_identity_seed(Bytes(32, 4)));
  }
  const Bytes before = test::file_bytes(file);
  auto wrong = SqliteStore::open(file, "not the passphrase", test::kTestKdf);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == store::StoreCode::WrongPassphrase);
  auto empty = SqliteStore::open(file, "", test::kTestKdf);
  REQUIRE_FALSE(empty);
  CHECK(empty.error().code == store::StoreCode::InvalidPassphrase);
  CHECK(test::file_bytes(file) == before);
  auto right = SqliteStore::open(file, test::kTestPassphrase, test::kTestKdf);
  REQUIRE(right);
  CHECK((*right)->identity_seed().value() == Bytes(32, 4));
}

TEST_CASE("sqlite store: texts, handle and seed never reach the file in clear, nor stay after deletion",
          "[client][store]") {
  test::TempDir dir;
  const auto file = dir.path() / kProfileDbName;
  const std::string_view texts[] = {"I froze during the resuscitation", "nobody asked how I was doing"};
  const std::string_view draft = "draft I have not sent yet";
  const ProfileInfo p{"relay.hospital.example", 7443, Bytes(32, 0x11), AccountId{Bytes(16, 0x22)}, "dr-confidential"};
  const Bytes seed(32, 0x7c);
  {
    auto s = SqliteStore::open(file, test::kTestPassphrase, test::kTestKdf);
    REQUIRE(s);
    REQUIRE((*s)->save_profile(p));
    REQUIRE((*s)->save_identity_seed(seed));
    REQUIRE((*s)->store_delivery(deliver(room(1), 1, texts[0]), active(room(1), 1)));
    REQUIRE((*s)->store_delivery(deliver(room(1), 2, texts[1]), active(room(1), 2)));
    REQUIRE((*s)->outbox_add(PendingSend{EnvelopeId{Bytes(16, 9)}, room(1), to_bytes(draft), 3}));
    const Bytes bytes = test::file_bytes(file);
    for (auto t : texts) CHECK_FALSE(test::contains(bytes, t));
    CHECK_FALSE(test::contains(bytes, draft));
    CHECK_FALSE(test::contains(bytes, p.handle));
    CHECK_FALSE(test::contains(bytes, p.relay_host));
    CHECK_FALSE(test::contains(bytes, seed));
    REQUIRE((*s)->outbox_remove(EnvelopeId{Bytes(16, 9)}));
  }
  // No journal or WAL is left beside the file, holding older pages.
  CHECK_FALSE(std::filesystem::exists(dir.path() / (std::string(kProfileDbName) + "-journal")));
  CHECK_FALSE(std::filesystem::exists(dir.path() / (std::string(kProfileDbName) + "-wal")));
  auto s = SqliteStore::open(file, test::kTestPassphrase, test::kTestKdf);
  REQUIRE(s);
  CHECK((*s)->outbox().value().empty());
  CHECK((*s)->profile().value() == p);
  auto env = (*s)->envelopes(room(1), Seq{0}, 10).value();
  REQUIRE(env.size() == 2);
  CHECK(to_string_bytes(env[1].payload) == texts[1]);
}

TEST_CASE("sqlite store: a version-1 file is sealed on first open and reads back whole", "[client][store]") {
  test::TempDir dir;
  const auto file = dir.path() / kProfileDbName;
  {
    auto db = store::Database::open(file);
    REQUIRE(db);
    REQUIRE(db->exec(kVersion1Sql));
  }
  REQUIRE(test::contains(test::file_bytes(file), "what the family said in the corridor"));
  {
    auto s = SqliteStore::open(file, test::kTestPassphrase, test::kTestKdf);
    REQUIRE(s);
    auto profile = (*s)->profile().value();
    REQUIRE(profile);
    CHECK(profile->relay_host == "relay.st-elsewhere.example");
    CHECK(profile->relay_port == 7443);
    CHECK(profile->handle == "dr-version-one");
    CHECK(profile->account == AccountId{Bytes{0x22, 0x22}});
    CHECK((*s)->identity_seed().value() == Bytes(32, 0x51));
    CHECK((*s)->room(room(1)).value()->cursor.v == 2);
    auto env = (*s)->envelopes(room(1), Seq{0}, 10).value();
    REQUIRE(env.size() == 2);
    CHECK(to_string_bytes(env[0].payload) == "what the family said in the corridor");
    CHECK(to_string_bytes(env[1].payload) == "I keep replaying the handover");
    CHECK(env[1].timestamp_ms == 1002);
    auto outbox = (*s)->outbox().value();
    REQUIRE(outbox.size() == 1);
    CHECK(to_string_bytes(outbox[0].payload) == "not sent before the upgrade");
  }
  const Bytes bytes = test::file_bytes(file);
  CHECK_FALSE(test::contains(bytes, "what the family said in the corridor"));
  CHECK_FALSE(test::contains(bytes, "I keep replaying the handover"));
  CHECK_FALSE(test::contains(bytes, "not sent before the upgrade"));
  CHECK_FALSE(test::contains(bytes, "dr-version-one"));
  CHECK_FALSE(test::contains(bytes, "relay.st-elsewhere.example"));
  const Bytes seed(32, 0x51);
  CHECK_FALSE(test::contains(bytes, seed));
  // The second open unlocks the key the first one made.
  auto wrong = SqliteStore::open(file, "another passphrase", test::kTestKdf);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == store::StoreCode::WrongPassphrase);
}

TEST_CASE("sqlite store: a sealed row moved to another place does not open", "[client][store]") {
  test::TempDir dir;
  const auto file = dir.path() / kProfileDbName;
  {
    auto s = SqliteStore::open(file, test::kTestPassphrase, test::kTestKdf);
    REQUIRE(s);
    REQUIRE((*s)->store_delivery(deliver(room(1), 1, "first"), active(room(1), 1)));
    REQUIRE((*s)->store_delivery(deliver(room(1), 2, "second"), active(room(1), 2)));
  }
  {
    // Someone with write access to the file swaps two payloads.
    auto db = store::Database::open(file);
    REQUIRE(db);
    REQUIRE(db->exec("UPDATE envelopes SET seq = 3 WHERE seq = 1"));
    REQUIRE(db->exec("UPDATE envelopes SET seq = 1 WHERE seq = 2"));
    REQUIRE(db->exec("UPDATE envelopes SET seq = 2 WHERE seq = 3"));
  }
  auto s = SqliteStore::open(file, test::kTestPassphrase, test::kTestKdf);
  REQUIRE(s);
  auto env = (*s)->envelopes(room(1), Seq{0}, 10);
  REQUIRE_FALSE(env);
  CHECK(env.error().code == store::StoreCode::Undecryptable);
}

TEST_CASE("sqlite store: a changed passphrase opens the same profile, the old one no longer does",
          "[client][store]") {
  test::TempDir dir;
  const auto file = dir.path() / kProfileDbName;
  {
    auto s = SqliteStore::open(file, test::kTestPassphrase, test::kTestKdf);
    REQUIRE(s);
    REQUIRE((*s)->save_identity_seed(Bytes(32, 8)));
    auto bad = (*s)->change_passphrase("", test::kTestKdf);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == store::StoreCode::InvalidPassphrase);
    REQUIRE((*s)->change_passphrase("the new passphrase", test::kTestKdf));
    CHECK((*s)->identity_seed().value() == Bytes(32, 8));
  }
  auto old = SqliteStore::open(file, test::kTestPassphrase, test::kTestKdf);
  REQUIRE_FALSE(old);
  CHECK(old.error().code == store::StoreCode::WrongPassphrase);
  auto s = SqliteStore::open(file, "the new passphrase", test::kTestKdf);
  REQUIRE(s);
  CHECK((*s)->identity_seed().value() == Bytes(32, 8));
}

TEMPLATE_TEST_CASE("local store: KeyPackages are added all or none and removed by ref", "[client][store]",
                   MemoryFactory, SqliteFactory) {
  TestType f;
  auto s = f.make();
  const StoredKeyPackage a{Bytes(32, 1), to_bytes("bundle a"), false, 100};
  const StoredKeyPackage b{Bytes(32, 2), to_bytes("bundle b"), true, 200};
  const StoredKeyPackage c{Bytes(32, 3), to_bytes("bundle c"), false, 300};
  REQUIRE(s->add_key_packages({a, b}));
  // A batch with a ref stored already changes nothing.
  auto again = s->add_key_packages({c, a});
  REQUIRE_FALSE(again);
  CHECK(again.error().code == store::StoreCode::Constraint);
  auto all = s->key_packages().value();
  std::sort(all.begin(), all.end(), [](const auto& x, const auto& y) { return x.ref < y.ref; });
  REQUIRE(all.size() == 2);
  CHECK(all[0] == a);
  CHECK(all[1] == b);
  REQUIRE(s->remove_key_package(a.ref));
  REQUIRE(s->remove_key_package(a.ref));  // not there: fine
  all = s->key_packages().value();
  REQUIRE(all.size() == 1);
  CHECK(all[0] == b);
}

TEST_CASE("sqlite store: KeyPackage private keys are sealed, and a bundle moved to another ref does not open",
          "[client][store]") {
  test::TempDir dir;
  const auto file = dir.path() / kProfileDbName;
  const Bytes secret = to_bytes("an X25519 private key, 32 bytes!");
  const StoredKeyPackage kp{Bytes(32, 5), secret, false, 100};
  {
    auto s = SqliteStore::open(file, test::kTestPassphrase, test::kTestKdf);
    REQUIRE(s);
    REQUIRE((*s)->add_key_packages({kp}));
    CHECK_FALSE(test::contains(test::file_bytes(file), secret));
  }
  {
    // Moved to another ref, the bundle does not open.
    auto db = store::Database::open(file);
    REQUIRE(db);
    REQUIRE(db->exec("UPDATE key_packages SET ref = x'" + std::string(64, '6') + "'"));
  }
  auto s = SqliteStore::open(file, test::kTestPassphrase, test::kTestKdf);
  REQUIRE(s);
  auto moved = (*s)->key_packages();
  REQUIRE_FALSE(moved);
  CHECK(moved.error().code == store::StoreCode::Undecryptable);
  REQUIRE((*s)->remove_key_package(Bytes(32, 0x66)));
  CHECK((*s)->key_packages().value().empty());
}

TEMPLATE_TEST_CASE("local store: a pinned identity key is read back and replaced whole", "[client][store]",
                   MemoryFactory, SqliteFactory) {
  TestType f;
  auto s = f.make();
  const AccountId bob{Bytes(16, 0xb0)};
  CHECK_FALSE(s->pinned_key(bob).value());
  const PinnedKey first{bob, Bytes(32, 1), 1000, false};
  REQUIRE(s->put_pinned_key(first));
  CHECK(s->pinned_key(bob).value() == first);
  const PinnedKey verified{bob, Bytes(32, 1), 1000, true};
  REQUIRE(s->put_pinned_key(verified));
  CHECK(s->pinned_key(bob).value() == verified);
  const PinnedKey accepted{bob, Bytes(32, 2), 2000, false};
  REQUIRE(s->put_pinned_key(accepted));
  CHECK(s->pinned_key(bob).value() == accepted);
  CHECK_FALSE(s->pinned_key(AccountId{Bytes(16, 0xc0)}).value());
}

TEMPLATE_TEST_CASE("local store: a room's key refresh record reads back per room, empty until written",
                   "[client][store]", MemoryFactory, SqliteFactory) {
  TestType f;
  auto s = f.make();
  CHECK(s->key_refresh(room(1)).value() == KeyRefresh{});
  REQUIRE(s->put_key_refresh(room(1), KeyRefresh{1'000, 3}));
  REQUIRE(s->put_key_refresh(room(2), KeyRefresh{2'000, 0}));
  CHECK(s->key_refresh(room(1)).value() == KeyRefresh{1'000, 3});
  CHECK(s->key_refresh(room(2)).value() == KeyRefresh{2'000, 0});
  REQUIRE(s->put_key_refresh(room(1), KeyRefresh{5'000, 0}));
  CHECK(s->key_refresh(room(1)).value() == KeyRefresh{5'000, 0});
}

TEMPLATE_TEST_CASE("local store: a room's group state is replaced and removed whole", "[client][store]",
                   MemoryFactory, SqliteFactory) {
  TestType f;
  auto s = f.make();
  CHECK_FALSE(s->group_state(room(1)).value());
  REQUIRE(s->put_group_state(room(1), to_bytes("epoch 1 secrets")));
  REQUIRE(s->put_group_state(room(2), to_bytes("another room")));
  CHECK(s->group_state(room(1)).value() == to_bytes("epoch 1 secrets"));
  REQUIRE(s->put_group_state(room(1), to_bytes("epoch 2 secrets")));
  CHECK(s->group_state(room(1)).value() == to_bytes("epoch 2 secrets"));
  REQUIRE(s->remove_group_state(room(1)));
  REQUIRE(s->remove_group_state(room(1)));
  CHECK_FALSE(s->group_state(room(1)).value());
  CHECK(s->group_state(room(2)).value() == to_bytes("another room"));
}

TEMPLATE_TEST_CASE("local store: a message keeps its sender's role, and every kind reads back as itself",
                   "[client][store]", MemoryFactory, SqliteFactory) {
  TestType f;
  auto s = f.make();
  auto delivered = [&](std::uint64_t seq, wire::EnvelopeKind kind, std::optional<bool> facilitator) {
    wire::Deliver d;
    d.room = room(1);
    d.seq = Seq{seq};
    d.kind = kind;
    d.sender = AccountId{Bytes(16, 3)};
    d.envelope_id = EnvelopeId{Bytes(16, static_cast<std::uint8_t>(seq))};
    const RoomRecord after{room(1), Epoch{1}, wire::Role::Member, RoomStatus::Active, Seq{}};
    REQUIRE(s->store_delivery(d, after, DeliveryWrite{Bytes{}, std::nullopt, facilitator}));
  };
  delivered(1, wire::EnvelopeKind::Application, true);
  delivered(2, wire::EnvelopeKind::Application, false);
  delivered(3, wire::EnvelopeKind::Handshake, std::nullopt);
  delivered(4, wire::EnvelopeKind::Welcome, std::nullopt);
  delivered(5, wire::EnvelopeKind::Reset, std::nullopt);
  delivered(6, wire::EnvelopeKind::Report, std::nullopt);
  auto all = s->envelopes(room(1), Seq{0}, 10);
  REQUIRE(all);
  REQUIRE(all->size() == 6);
  CHECK((*all)[0].sender_facilitator == std::optional<bool>{true});
  CHECK((*all)[1].sender_facilitator == std::optional<bool>{false});
  CHECK_FALSE((*all)[2].sender_facilitator);
  const std::vector<wire::EnvelopeKind> kinds{wire::EnvelopeKind::Application, wire::EnvelopeKind::Application,
                                              wire::EnvelopeKind::Handshake,   wire::EnvelopeKind::Welcome,
                                              wire::EnvelopeKind::Reset,       wire::EnvelopeKind::Report};
  for (std::size_t i = 0; i < kinds.size(); ++i) CHECK((*all)[i].kind == kinds[i]);
}

TEMPLATE_TEST_CASE("local store: our change on its way is kept per room until removed", "[client][store]",
                   MemoryFactory, SqliteFactory) {
  TestType f;
  auto s = f.make();
  CHECK_FALSE(s->pending_change(room(1)).value());
  const PendingChange first{EnvelopeId{Bytes(16, 1)}, to_bytes("the state after our commit")};
  const PendingChange second{EnvelopeId{Bytes(16, 2)}, to_bytes("the state after our rebuilt commit")};
  REQUIRE(s->put_pending_change(room(1), first));
  REQUIRE(s->put_pending_change(room(2), second));
  CHECK(s->pending_change(room(1)).value() == first);
  REQUIRE(s->put_pending_change(room(1), second));
  CHECK(s->pending_change(room(1)).value() == second);
  REQUIRE(s->remove_pending_change(room(1)));
  REQUIRE(s->remove_pending_change(room(1)));
  CHECK_FALSE(s->pending_change(room(1)).value());
  CHECK(s->pending_change(room(2)).value() == second);
}

TEST_CASE("sqlite store: a pending change is sealed to its room and leaves no bytes once removed", "[client][store]") {
  test::TempDir dir;
  const auto file = dir.path() / kProfileDbName;
  auto s = SqliteStore::open(file, test::kTestPassphrase, test::kTestKdf);
  REQUIRE(s);
  const Bytes secret(600, 0x33);
  REQUIRE((*s)->put_pending_change(room(1), PendingChange{EnvelopeId{Bytes(16, 9)}, secret}));
  CHECK_FALSE(test::contains(test::file_bytes(file), secret));
  Bytes sealed;
  {
    auto db = store::Database::open(file);
    REQUIRE(db);
    auto st = db->prepare("SELECT sealed_state FROM pending_changes");
    REQUIRE(st);
    REQUIRE(st->step().value() == store::Step::Row);
    sealed = st->column_blob(0);
    // Moved to another room's row, it does not open.
    REQUIRE(db->exec("UPDATE pending_changes SET room_id = x'" + std::string(64, '7') + "'"));
  }
  CHECK_FALSE((*s)->pending_change(RoomId{Bytes(32, 0x77)}));
  REQUIRE((*s)->remove_pending_change(RoomId{Bytes(32, 0x77)}));
  CHECK_FALSE(test::contains(test::file_bytes(file), sealed));
}

TEST_CASE("sqlite store: a replaced or removed group state leaves no bytes in the file", "[client][store]") {
  test::TempDir dir;
  const auto file = dir.path() / kProfileDbName;
  auto sealed_now = [&]() {
    auto db = store::Database::open(file);
    REQUIRE(db);
    auto st = db->prepare("SELECT sealed_state FROM group_states");
    REQUIRE(st);
    REQUIRE(st->step().value() == store::Step::Row);
    return st->column_blob(0);
  };
  auto s = SqliteStore::open(file, test::kTestPassphrase, test::kTestKdf);
  REQUIRE(s);
  REQUIRE((*s)->put_group_state(room(1), Bytes(600, 0x11)));
  const Bytes first = sealed_now();
  REQUIRE(test::contains(test::file_bytes(file), first));
  // Forward secrecy on disk: the old epoch's sealed secrets are overwritten.
  REQUIRE((*s)->put_group_state(room(1), Bytes(600, 0x22)));
  const Bytes second = sealed_now();
  auto bytes = test::file_bytes(file);
  CHECK_FALSE(test::contains(bytes, first));
  CHECK(test::contains(bytes, second));
  REQUIRE((*s)->remove_group_state(room(1)));
  CHECK_FALSE(test::contains(test::file_bytes(file), second));
  CHECK_FALSE(std::filesystem::exists(dir.path() / (std::string(kProfileDbName) + "-wal")));
}

TEMPLATE_TEST_CASE("local store: a delivery's plaintext and group state are stored with its cursor",
                   "[client][store]", MemoryFactory, SqliteFactory) {
  TestType f;
  auto s = f.make();
  const auto r = room(6);
  REQUIRE(s->put_group_state(r, to_bytes("state at generation 0")));
  auto d = deliver(r, 1, "MLS ciphertext");
  auto stored = s->store_delivery(d, active(r, 1), DeliveryWrite{to_bytes("the plaintext"), to_bytes("generation 1")});
  REQUIRE(stored.value() == DeliveryOutcome::Stored);
  auto env = s->envelopes(r, Seq{0}, 10).value();
  REQUIRE(env.size() == 1);
  CHECK(to_string_bytes(env[0].payload) == "the plaintext");
  CHECK(s->group_state(r).value() == to_bytes("generation 1"));
  CHECK(s->room(r).value()->cursor.v == 1);
  // A redelivery changes nothing, the group state included.
  auto again = s->store_delivery(d, active(r, 1), DeliveryWrite{to_bytes("other"), to_bytes("generation 2")});
  CHECK(again.value() == DeliveryOutcome::Duplicate);
  CHECK(s->group_state(r).value() == to_bytes("generation 1"));
  CHECK(to_string_bytes(s->envelopes(r, Seq{0}, 10).value()[0].payload) == "the plaintext");
}

TEMPLATE_TEST_CASE("local store: an outbox entry keeps its ciphertext, saved with the ratchet step",
                   "[client][store]", MemoryFactory, SqliteFactory) {
  TestType f;
  auto s = f.make();
  const auto r = room(7);
  PendingSend p{EnvelopeId{Bytes(16, 3)}, r, to_bytes("plaintext to re-encrypt"), 5};
  REQUIRE(s->outbox_add(p));
  CHECK_FALSE(s->outbox().value()[0].encrypted);
  const EncryptedSend first{Epoch{4}, to_bytes("ciphertext for epoch 4")};
  REQUIRE(s->save_encrypted(p.envelope_id, first, to_bytes("state after encrypting")));
  auto all = s->outbox().value();
  REQUIRE(all.size() == 1);
  REQUIRE(all[0].encrypted);
  CHECK(*all[0].encrypted == first);
  CHECK(all[0].payload == p.payload);
  CHECK(s->group_state(r).value() == to_bytes("state after encrypting"));
  // Encrypted again for a later epoch (after StaleEpoch): replaced.
  const EncryptedSend second{Epoch{5}, to_bytes("ciphertext for epoch 5")};
  REQUIRE(s->save_encrypted(p.envelope_id, second, to_bytes("state at epoch 5")));
  CHECK(*s->outbox().value()[0].encrypted == second);
  // Gone from the outbox: nothing to attach the ciphertext to, the state untouched.
  REQUIRE(s->outbox_remove(p.envelope_id));
  auto orphan = s->save_encrypted(p.envelope_id, first, to_bytes("must not be written"));
  REQUIRE_FALSE(orphan);
  CHECK(orphan.error().code == store::StoreCode::Constraint);
  CHECK(s->group_state(r).value() == to_bytes("state at epoch 5"));
  // Added with its ciphertext already.
  PendingSend q{EnvelopeId{Bytes(16, 4)}, r, to_bytes("x"), 6, EncryptedSend{Epoch{5}, to_bytes("y")}};
  REQUIRE(s->outbox_add(q));
  CHECK(s->outbox().value()[0] == q);
}

TEMPLATE_TEST_CASE("local store: erased payloads are empty, the rest of the history is whole", "[client][store]",
                   MemoryFactory, SqliteFactory) {
  TestType f;
  auto s = f.make();
  for (std::uint64_t seq = 1; seq <= 4; ++seq) {
    REQUIRE(s->store_delivery(deliver(room(1), seq, "message " + std::to_string(seq)), active(room(1), seq)));
  }
  REQUIRE(s->store_delivery(deliver(room(2), 2, "other room"), active(room(2), 2)));
  REQUIRE(s->erase_payloads(room(1), {Seq{2}, Seq{4}, Seq{9}}));  // 9 was never stored
  const auto env = s->envelopes(room(1), Seq{0}, 10).value();
  REQUIRE(env.size() == 4);
  CHECK(to_string_bytes(env[0].payload) == "message 1");
  CHECK(env[1].payload.empty());
  CHECK(env[1].seq == Seq{2});
  CHECK(env[1].envelope_id == deliver(room(1), 2, "").envelope_id);
  CHECK(to_string_bytes(env[2].payload) == "message 3");
  CHECK(env[3].payload.empty());
  CHECK(s->room(room(1)).value()->cursor == Seq{4});
  // The same seq in another room is untouched.
  CHECK(to_string_bytes(s->envelopes(room(2), Seq{0}, 10).value().at(0).payload) == "other room");
}

TEST_CASE("sqlite store: an erased payload leaves no bytes of it in the file", "[client][store]") {
  test::TempDir dir;
  const auto file = dir.path() / kProfileDbName;
  auto sealed_payload = [&](std::uint64_t seq) {
    auto db = store::Database::open(file);
    REQUIRE(db);
    auto st = db->prepare("SELECT payload FROM envelopes WHERE seq = ?1");
    REQUIRE(st);
    REQUIRE(st->bind_int64(1, static_cast<std::int64_t>(seq)));
    REQUIRE(st->step().value() == store::Step::Row);
    return st->column_blob(0);
  };
  auto s = SqliteStore::open(file, test::kTestPassphrase, test::kTestKdf);
  REQUIRE(s);
  REQUIRE((*s)->store_delivery(deliver(room(1), 1, std::string(500, 'a')), active(room(1), 1)));
  REQUIRE((*s)->store_delivery(deliver(room(1), 2, std::string(500, 'b')), active(room(1), 2)));
  const Bytes gone = sealed_payload(1);
  const Bytes kept = sealed_payload(2);
  REQUIRE(test::contains(test::file_bytes(file), gone));
  REQUIRE((*s)->erase_payloads(room(1), {Seq{1}}));
  const auto bytes = test::file_bytes(file);
  CHECK_FALSE(test::contains(bytes, gone));
  CHECK(test::contains(bytes, kept));
  CHECK_FALSE(std::filesystem::exists(dir.path() / (std::string(kProfileDbName) + "-journal")));
  // The erased row still opens (to nothing) after a restart.
  s->reset();
  auto again = SqliteStore::open(file, test::kTestPassphrase, test::kTestKdf);
  REQUIRE(again);
  const auto env = (*again)->envelopes(room(1), Seq{0}, 10).value();
  REQUIRE(env.size() == 2);
  CHECK(env[0].payload.empty());
  CHECK(env[1].payload == Bytes(500, 'b'));
}
