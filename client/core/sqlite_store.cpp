// SPDX-License-Identifier: Apache-2.0
#include "client/core/sqlite_store.h"

#include <array>
#include <limits>

#include "common/store/migrate.h"
#include "common/store/statement.h"
#include "common/store/transaction.h"

namespace hearth::client {

namespace {

using store::Statement;
using store::Step;
using store::StoreCode;

constexpr std::array<store::Migration, 1> kMigrations{{
    {1, R"sql(
CREATE TABLE identity (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  ed25519_seed BLOB NOT NULL  -- plaintext in this version (see sqlite_store.h)
);
CREATE TABLE profile (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  relay_host TEXT NOT NULL,
  relay_port INTEGER NOT NULL,
  spki_pin BLOB NOT NULL,
  account_id BLOB NOT NULL,
  handle TEXT NOT NULL
);
CREATE TABLE rooms (
  room_id BLOB PRIMARY KEY,
  epoch INTEGER NOT NULL,
  role INTEGER NOT NULL,
  status INTEGER NOT NULL,
  cursor INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE envelopes (
  room_id BLOB NOT NULL,
  seq INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  sender BLOB NOT NULL,
  envelope_id BLOB NOT NULL,
  epoch INTEGER NOT NULL,
  timestamp_ms INTEGER NOT NULL,
  payload BLOB NOT NULL,
  PRIMARY KEY (room_id, seq)
) WITHOUT ROWID;
CREATE TABLE outbox (
  position INTEGER PRIMARY KEY AUTOINCREMENT,
  envelope_id BLOB NOT NULL UNIQUE,
  room_id BLOB NOT NULL,
  payload BLOB NOT NULL,
  created_ms INTEGER NOT NULL
);
)sql"},
}};
static_assert(kMigrations.size() == kProfileSchemaVersion);

// SQLite integers are signed 64-bit; seqs and epochs stay far below 2^63.
std::int64_t to_db(std::uint64_t v) { return static_cast<std::int64_t>(v); }
std::uint64_t from_db(std::int64_t v) { return static_cast<std::uint64_t>(v); }

template <class T>
StoreResult<T> err(StoreError e) {
  return fail(std::move(e));
}

// Binds all values in order (1-based); stops at the first failure.
struct Binder {
  Statement& st;
  int index = 1;
  StoreResult<void> result{};
  Binder& i64(std::int64_t v) {
    if (result) result = st.bind_int64(index, v);
    ++index;
    return *this;
  }
  Binder& blob(BytesView v) {
    if (result) result = st.bind_blob(index, v);
    ++index;
    return *this;
  }
  Binder& text(std::string_view v) {
    if (result) result = st.bind_text(index, v);
    ++index;
    return *this;
  }
};

wire::Role role_from_db(std::int64_t v) {
  return v == static_cast<std::int64_t>(wire::Role::Facilitator) ? wire::Role::Facilitator : wire::Role::Member;
}

RoomStatus status_from_db(std::int64_t v) {
  switch (v) {
    case 2: return RoomStatus::Left;
    case 3: return RoomStatus::Closed;
    default: return RoomStatus::Active;
  }
}

RoomRecord read_room(const Statement& st) {
  return RoomRecord{RoomId{st.column_blob(0)}, Epoch{from_db(st.column_int64(1))}, role_from_db(st.column_int64(2)),
                    status_from_db(st.column_int64(3)), Seq{from_db(st.column_int64(4))}};
}

constexpr const char* kRoomColumns = "room_id, epoch, role, status, cursor";

}  // namespace

StoreResult<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::filesystem::path& file) {
  store::OpenOptions options;
  // secure_delete: deleted rows are overwritten, not left in free pages
  // (DESIGN.md §7); a rollback journal leaves no old pages in a WAL file.
  options.pragmas = {"journal_mode=DELETE", "synchronous=FULL", "secure_delete=ON"};
  auto db = store::Database::open(file, options);
  if (!db) return fail(std::move(db.error()));
  auto v = store::migrate(*db, kMigrations);
  if (!v) return fail(std::move(v.error()));
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(*db)));
}

StoreResult<std::optional<Bytes>> SqliteStore::identity_seed() {
  auto st = db_.prepare("SELECT ed25519_seed FROM identity WHERE id = 1");
  if (!st) return err<std::optional<Bytes>>(st.error());
  auto s = st->step();
  if (!s) return err<std::optional<Bytes>>(s.error());
  if (*s == Step::Done) return std::optional<Bytes>{};
  return std::optional<Bytes>{st->column_blob(0)};
}

StoreResult<void> SqliteStore::save_identity_seed(BytesView seed) {
  auto st = db_.prepare("INSERT OR REPLACE INTO identity(id, ed25519_seed) VALUES (1, ?1)");
  if (!st) return err<void>(st.error());
  if (auto r = st->bind_blob(1, seed); !r) return r;
  return st->run();
}

StoreResult<std::optional<ProfileInfo>> SqliteStore::profile() {
  auto st = db_.prepare("SELECT relay_host, relay_port, spki_pin, account_id, handle FROM profile WHERE id = 1");
  if (!st) return err<std::optional<ProfileInfo>>(st.error());
  auto s = st->step();
  if (!s) return err<std::optional<ProfileInfo>>(s.error());
  if (*s == Step::Done) return std::optional<ProfileInfo>{};
  const auto port = st->column_int64(1);
  if (port < 0 || port > std::numeric_limits<std::uint16_t>::max()) {
    return err<std::optional<ProfileInfo>>(StoreError{StoreCode::NotADatabase, "relay port out of range"});
  }
  return std::optional<ProfileInfo>{ProfileInfo{st->column_text(0), static_cast<std::uint16_t>(port),
                                                st->column_blob(2), AccountId{st->column_blob(3)},
                                                st->column_text(4)}};
}

StoreResult<void> SqliteStore::save_profile(const ProfileInfo& p) {
  auto st = db_.prepare(
      "INSERT OR REPLACE INTO profile(id, relay_host, relay_port, spki_pin, account_id, handle) "
      "VALUES (1, ?1, ?2, ?3, ?4, ?5)");
  if (!st) return err<void>(st.error());
  Binder b{*st};
  b.text(p.relay_host).i64(p.relay_port).blob(p.spki_pin).blob(p.account.v).text(p.handle);
  if (!b.result) return b.result;
  return st->run();
}

StoreResult<std::vector<RoomRecord>> SqliteStore::rooms() {
  auto st = db_.prepare(std::string("SELECT ") + kRoomColumns + " FROM rooms ORDER BY room_id");
  if (!st) return err<std::vector<RoomRecord>>(st.error());
  std::vector<RoomRecord> out;
  while (true) {
    auto s = st->step();
    if (!s) return err<std::vector<RoomRecord>>(s.error());
    if (*s == Step::Done) break;
    out.push_back(read_room(*st));
  }
  return out;
}

StoreResult<std::optional<RoomRecord>> SqliteStore::room(const RoomId& room) {
  auto st = db_.prepare(std::string("SELECT ") + kRoomColumns + " FROM rooms WHERE room_id = ?1");
  if (!st) return err<std::optional<RoomRecord>>(st.error());
  if (auto r = st->bind_blob(1, room.v); !r) return err<std::optional<RoomRecord>>(r.error());
  auto s = st->step();
  if (!s) return err<std::optional<RoomRecord>>(s.error());
  if (*s == Step::Done) return std::optional<RoomRecord>{};
  return std::optional<RoomRecord>{read_room(*st)};
}

StoreResult<void> SqliteStore::put_room(const RoomRecord& r) {
  auto st = db_.prepare(
      "INSERT INTO rooms(room_id, epoch, role, status, cursor) VALUES (?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT(room_id) DO UPDATE SET epoch = excluded.epoch, role = excluded.role, "
      "status = excluded.status, cursor = max(cursor, excluded.cursor)");
  if (!st) return err<void>(st.error());
  Binder b{*st};
  b.blob(r.room.v)
      .i64(to_db(r.epoch.v))
      .i64(static_cast<std::int64_t>(r.role))
      .i64(static_cast<std::int64_t>(r.status))
      .i64(to_db(r.cursor.v));
  if (!b.result) return b.result;
  return st->run();
}

StoreResult<DeliveryOutcome> SqliteStore::store_delivery(const wire::Deliver& d, const RoomRecord& after) {
  auto tx = store::Transaction::begin(db_);
  if (!tx) return err<DeliveryOutcome>(tx.error());
  auto existing = room(d.room);
  if (!existing) return err<DeliveryOutcome>(existing.error());
  if (*existing && d.seq <= (*existing)->cursor) return DeliveryOutcome::Duplicate;
  auto st = db_.prepare(
      "INSERT OR IGNORE INTO envelopes(room_id, seq, kind, sender, envelope_id, epoch, timestamp_ms, payload) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (!st) return err<DeliveryOutcome>(st.error());
  Binder b{*st};
  b.blob(d.room.v)
      .i64(to_db(d.seq.v))
      .i64(static_cast<std::int64_t>(d.kind))
      .blob(d.sender.v)
      .blob(d.envelope_id.v)
      .i64(to_db(d.epoch.v))
      .i64(d.timestamp_ms)
      .blob(d.payload);
  if (!b.result) return err<DeliveryOutcome>(b.result.error());
  if (auto r = st->run(); !r) return err<DeliveryOutcome>(r.error());
  const bool known = db_.changes() == 0;  // e.g. our own envelope from store_sent()
  RoomRecord next = after;
  if (next.cursor < d.seq) next.cursor = d.seq;
  if (auto r = put_room(next); !r) return err<DeliveryOutcome>(r.error());
  if (auto r = tx->commit(); !r) return err<DeliveryOutcome>(r.error());
  return known ? DeliveryOutcome::Duplicate : DeliveryOutcome::Stored;
}

StoreResult<void> SqliteStore::store_sent(const StoredEnvelope& e) {
  auto st = db_.prepare(
      "INSERT OR IGNORE INTO envelopes(room_id, seq, kind, sender, envelope_id, epoch, timestamp_ms, payload) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (!st) return err<void>(st.error());
  Binder b{*st};
  b.blob(e.room.v)
      .i64(to_db(e.seq.v))
      .i64(static_cast<std::int64_t>(e.kind))
      .blob(e.sender.v)
      .blob(e.envelope_id.v)
      .i64(to_db(e.epoch.v))
      .i64(e.timestamp_ms)
      .blob(e.payload);
  if (!b.result) return b.result;
  return st->run();
}

StoreResult<std::vector<StoredEnvelope>> SqliteStore::envelopes(const RoomId& room, Seq after, std::size_t limit) {
  auto st = db_.prepare(
      "SELECT seq, kind, sender, envelope_id, epoch, timestamp_ms, payload FROM envelopes "
      "WHERE room_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3");
  if (!st) return err<std::vector<StoredEnvelope>>(st.error());
  Binder b{*st};
  b.blob(room.v).i64(to_db(after.v)).i64(static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  if (!b.result) return err<std::vector<StoredEnvelope>>(b.result.error());
  std::vector<StoredEnvelope> out;
  while (true) {
    auto s = st->step();
    if (!s) return err<std::vector<StoredEnvelope>>(s.error());
    if (*s == Step::Done) break;
    const auto kind = st->column_int64(1);
    out.push_back(StoredEnvelope{room, Seq{from_db(st->column_int64(0))},
                                 kind == 2   ? wire::EnvelopeKind::Handshake
                                 : kind == 3 ? wire::EnvelopeKind::Welcome
                                             : wire::EnvelopeKind::Application,
                                 AccountId{st->column_blob(2)}, EnvelopeId{st->column_blob(3)},
                                 Epoch{from_db(st->column_int64(4))}, st->column_int64(5), st->column_blob(6)});
  }
  return out;
}

StoreResult<void> SqliteStore::outbox_add(const PendingSend& p) {
  auto st = db_.prepare("INSERT INTO outbox(envelope_id, room_id, payload, created_ms) VALUES (?1, ?2, ?3, ?4)");
  if (!st) return err<void>(st.error());
  Binder b{*st};
  b.blob(p.envelope_id.v).blob(p.room.v).blob(p.payload).i64(p.created_ms);
  if (!b.result) return b.result;
  return st->run();
}

StoreResult<std::vector<PendingSend>> SqliteStore::outbox() {
  auto st = db_.prepare("SELECT envelope_id, room_id, payload, created_ms FROM outbox ORDER BY position");
  if (!st) return err<std::vector<PendingSend>>(st.error());
  std::vector<PendingSend> out;
  while (true) {
    auto s = st->step();
    if (!s) return err<std::vector<PendingSend>>(s.error());
    if (*s == Step::Done) break;
    out.push_back(PendingSend{EnvelopeId{st->column_blob(0)}, RoomId{st->column_blob(1)}, st->column_blob(2),
                              st->column_int64(3)});
  }
  return out;
}

StoreResult<void> SqliteStore::outbox_remove(const EnvelopeId& id) {
  auto st = db_.prepare("DELETE FROM outbox WHERE envelope_id = ?1");
  if (!st) return err<void>(st.error());
  if (auto r = st->bind_blob(1, id.v); !r) return r;
  return st->run();
}

}  // namespace hearth::client
