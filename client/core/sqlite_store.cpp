// SPDX-License-Identifier: Apache-2.0
#include "client/core/sqlite_store.h"

#include <algorithm>
#include <array>
#include <limits>

#include "common/mls/codec.h"
#include "common/store/migrate.h"
#include "common/store/statement.h"
#include "common/store/transaction.h"

namespace hearth::client {

namespace {

using store::Statement;
using store::Step;
using store::StoreCode;

constexpr std::array<store::Migration, 9> kMigrations{{
    {1, R"sql(
CREATE TABLE identity (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  ed25519_seed BLOB NOT NULL  -- plaintext in version 1; sealed from version 2
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
    // Version 2 seals secrets and content under the profile key. The rows a
    // version-1 file holds are sealed by SqliteStore::open in the transaction
    // that creates the key (seal_version1_rows), so a file is never half sealed.
    {2, R"sql(
ALTER TABLE identity RENAME COLUMN ed25519_seed TO sealed_seed;
CREATE TABLE keyring (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  salt BLOB NOT NULL,
  kdf_ops INTEGER NOT NULL,
  kdf_memory INTEGER NOT NULL,
  sealed_key BLOB NOT NULL
);
CREATE TABLE sealed_profile (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  sealed BLOB NOT NULL
);
)sql"},
    // Version 3: our KeyPackages and their private keys (sealed), until they
    // expire or a Welcome uses them.
    {3, R"sql(
CREATE TABLE key_packages (
  ref BLOB PRIMARY KEY,
  last_resort INTEGER NOT NULL,
  not_after INTEGER NOT NULL,
  sealed_bundle BLOB NOT NULL
) WITHOUT ROWID;
)sql"},
    // Version 4: other accounts' identity keys as first seen. Public keys of
    // accounts the relay already knows we share rooms with: kept in clear.
    {4, R"sql(
CREATE TABLE pinned_keys (
  account BLOB PRIMARY KEY,
  identity_key BLOB NOT NULL,
  pinned_ms INTEGER NOT NULL,
  verified INTEGER NOT NULL
) WITHOUT ROWID;
)sql"},
    // Version 5: each room's MLS group state (its secrets), sealed.
    {5, R"sql(
CREATE TABLE group_states (
  room_id BLOB PRIMARY KEY,
  sealed_state BLOB NOT NULL
) WITHOUT ROWID;
)sql"},
    // Version 6: an outbox entry's ciphertext and its epoch, re-sent as is
    // by every retry. (MLS ciphertext: what the relay sees anyway.)
    {6, R"sql(
ALTER TABLE outbox ADD COLUMN cipher_epoch INTEGER;
ALTER TABLE outbox ADD COLUMN ciphertext BLOB;
)sql"},
    // Version 7: when we last refreshed our keys in each room, and how many
    // messages we sent since (no content: counts and a time).
    {7, R"sql(
CREATE TABLE key_refreshes (
  room_id BLOB PRIMARY KEY,
  refreshed_ms INTEGER NOT NULL,
  sent INTEGER NOT NULL
) WITHOUT ROWID;
)sql"},
    // Version 8: our commit or reset on its way, with the group state to
    // adopt when the relay's echo of it arrives (sealed: secrets).
    {8, R"sql(
CREATE TABLE pending_changes (
  room_id BLOB PRIMARY KEY,
  envelope_id BLOB NOT NULL,
  sealed_state BLOB NOT NULL
) WITHOUT ROWID;
)sql"},
    // Version 9: whether a message's sender was a facilitator when it was
    // opened (NULL: stored before), so a rebuilt conversation judges each
    // message by the roles of its own epoch.
    {9, R"sql(
ALTER TABLE envelopes ADD COLUMN sender_facilitator INTEGER;
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
  Binder& flag(std::optional<bool> v) {
    if (result) result = v ? st.bind_int64(index, *v ? 1 : 0) : st.bind_null(index);
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

// What each sealed record is (its label in the associated data).
constexpr std::string_view kIdentityLabel = "identity";
constexpr std::string_view kProfileLabel = "profile";
constexpr std::string_view kEnvelopeLabel = "envelope";
constexpr std::string_view kOutboxLabel = "outbox";
constexpr std::string_view kKeyPackageLabel = "key package";
constexpr std::string_view kGroupStateLabel = "group state";
constexpr std::string_view kPendingStateLabel = "pending group state";

// Where a record sits, in its associated data: a row sealed for one place
// does not open in another.
Bytes envelope_context(const RoomId& room, Seq seq) {
  mls::Writer w;
  w.opaque(room.v);
  w.u64(seq.v);
  return w.take();
}

Bytes outbox_context(const EnvelopeId& id, const RoomId& room) {
  mls::Writer w;
  w.opaque(id.v);
  w.opaque(room.v);
  return w.take();
}

Bytes encode_profile(const ProfileInfo& p) {
  mls::Writer w;
  w.opaque(to_bytes(p.relay_host));
  w.u16(p.relay_port);
  w.opaque(p.spki_pin);
  w.opaque(p.account.v);
  w.opaque(to_bytes(p.handle));
  return w.take();
}

StoreResult<ProfileInfo> decode_profile(BytesView in) {
  mls::Reader r(in);
  ProfileInfo p;
  const auto host = r.opaque();
  p.relay_host.assign(host.begin(), host.end());
  p.relay_port = r.u16();
  p.spki_pin = r.opaque_bytes();
  p.account = AccountId{r.opaque_bytes()};
  const auto handle = r.opaque();
  p.handle.assign(handle.begin(), handle.end());
  if (!r.ok() || r.remaining() != 0) {
    return err<ProfileInfo>(StoreError{StoreCode::Undecryptable, "the sealed profile is malformed"});
  }
  return p;
}

StoreResult<std::optional<WrappedProfileKey>> read_keyring(store::Database& db) {
  auto st = db.prepare("SELECT salt, kdf_ops, kdf_memory, sealed_key FROM keyring WHERE id = 1");
  if (!st) return err<std::optional<WrappedProfileKey>>(st.error());
  auto s = st->step();
  if (!s) return err<std::optional<WrappedProfileKey>>(s.error());
  if (*s == Step::Done) return std::optional<WrappedProfileKey>{};
  const auto ops = st->column_int64(1);
  const auto mem = st->column_int64(2);
  if (ops < 0 || mem < 0) {
    return err<std::optional<WrappedProfileKey>>(StoreError{StoreCode::NotADatabase, "negative Argon2id cost"});
  }
  WrappedProfileKey w;
  w.salt = st->column_blob(0);
  w.kdf.ops_limit = from_db(ops);
  w.kdf.mem_limit = static_cast<std::size_t>(mem);
  w.sealed_key = st->column_blob(3);
  return std::optional<WrappedProfileKey>{std::move(w)};
}

StoreResult<void> write_keyring(store::Database& db, const WrappedProfileKey& w) {
  auto st = db.prepare(
      "INSERT OR REPLACE INTO keyring(id, salt, kdf_ops, kdf_memory, sealed_key) VALUES (1, ?1, ?2, ?3, ?4)");
  if (!st) return err<void>(st.error());
  Binder b{*st};
  b.blob(w.salt).i64(to_db(w.kdf.ops_limit)).i64(to_db(w.kdf.mem_limit)).blob(w.sealed_key);
  if (!b.result) return b.result;
  return st->run();
}

/// Seals what a version-1 file held in plaintext (identity seed, profile,
/// envelope and outbox payloads). Runs inside the transaction that stores
/// the new key; secure_delete overwrites the plaintext it replaces.
StoreResult<void> seal_version1_rows(store::Database& db, const ProfileKey& key) {
  {
    auto st = db.prepare("SELECT sealed_seed FROM identity WHERE id = 1");
    if (!st) return err<void>(st.error());
    auto s = st->step();
    if (!s) return err<void>(s.error());
    if (*s == Step::Row) {
      Bytes seed = st->column_blob(0);
      auto up = db.prepare("UPDATE identity SET sealed_seed = ?1 WHERE id = 1");
      if (!up) return err<void>(up.error());
      const Bytes sealed = key.seal(kIdentityLabel, {}, seed);
      crypto::wipe(seed.data(), seed.size());
      if (auto r = up->bind_blob(1, sealed); !r) return r;
      if (auto r = up->run(); !r) return r;
    }
  }
  {
    auto st = db.prepare("SELECT relay_host, relay_port, spki_pin, account_id, handle FROM profile WHERE id = 1");
    if (!st) return err<void>(st.error());
    auto s = st->step();
    if (!s) return err<void>(s.error());
    if (*s == Step::Row) {
      const auto port = st->column_int64(1);
      if (port < 0 || port > std::numeric_limits<std::uint16_t>::max()) {
        return err<void>(StoreError{StoreCode::NotADatabase, "relay port out of range"});
      }
      const ProfileInfo p{st->column_text(0), static_cast<std::uint16_t>(port), st->column_blob(2),
                          AccountId{st->column_blob(3)}, st->column_text(4)};
      auto ins = db.prepare("INSERT OR REPLACE INTO sealed_profile(id, sealed) VALUES (1, ?1)");
      if (!ins) return err<void>(ins.error());
      if (auto r = ins->bind_blob(1, key.seal(kProfileLabel, {}, encode_profile(p))); !r) return r;
      if (auto r = ins->run(); !r) return r;
    }
  }
  if (auto r = db.exec("DROP TABLE profile"); !r) return r;
  {
    // Read first, then rewrite: no table is changed under a running SELECT.
    struct Row {
      Bytes key_a;
      Bytes key_b;
      std::int64_t seq = 0;
      Bytes payload;
    };
    std::vector<Row> rows;
    auto st = db.prepare("SELECT room_id, seq, payload FROM envelopes");
    if (!st) return err<void>(st.error());
    while (true) {
      auto s = st->step();
      if (!s) return err<void>(s.error());
      if (*s == Step::Done) break;
      rows.push_back(Row{st->column_blob(0), {}, st->column_int64(1), st->column_blob(2)});
    }
    auto up = db.prepare("UPDATE envelopes SET payload = ?3 WHERE room_id = ?1 AND seq = ?2");
    if (!up) return err<void>(up.error());
    for (const auto& row : rows) {
      const RoomId room{row.key_a};
      Binder b{*up};
      b.blob(room.v).i64(row.seq).blob(key.seal(kEnvelopeLabel, envelope_context(room, Seq{from_db(row.seq)}), row.payload));
      if (!b.result) return b.result;
      if (auto r = up->run(); !r) return r;
      up->reset();
    }
    rows.clear();
    auto ob = db.prepare("SELECT envelope_id, room_id, payload FROM outbox");
    if (!ob) return err<void>(ob.error());
    while (true) {
      auto s = ob->step();
      if (!s) return err<void>(s.error());
      if (*s == Step::Done) break;
      rows.push_back(Row{ob->column_blob(0), ob->column_blob(1), 0, ob->column_blob(2)});
    }
    auto up_ob = db.prepare("UPDATE outbox SET payload = ?2 WHERE envelope_id = ?1");
    if (!up_ob) return err<void>(up_ob.error());
    for (const auto& row : rows) {
      const EnvelopeId id{row.key_a};
      Binder b{*up_ob};
      b.blob(id.v).blob(key.seal(kOutboxLabel, outbox_context(id, RoomId{row.key_b}), row.payload));
      if (!b.result) return b.result;
      if (auto r = up_ob->run(); !r) return r;
      up_ob->reset();
    }
  }
  return {};
}

StoreResult<StoredEnvelope> read_envelope(const Statement& st, const RoomId& room, const ProfileKey& key) {
  const Seq seq{from_db(st.column_int64(0))};
  auto payload = key.open(kEnvelopeLabel, envelope_context(room, seq), st.column_blob(6));
  if (!payload) return err<StoredEnvelope>(std::move(payload.error()));
  const auto kind = st.column_int64(1);
  return StoredEnvelope{room,
                        seq,
                        kind == 2   ? wire::EnvelopeKind::Handshake
                        : kind == 3 ? wire::EnvelopeKind::Welcome
                        : kind == 4 ? wire::EnvelopeKind::Reset
                        : kind == 5 ? wire::EnvelopeKind::Report
                                    : wire::EnvelopeKind::Application,
                        AccountId{st.column_blob(2)},
                        EnvelopeId{st.column_blob(3)},
                        Epoch{from_db(st.column_int64(4))},
                        st.column_int64(5),
                        std::move(*payload),
                        st.column_is_null(7) ? std::nullopt : std::optional<bool>{st.column_int64(7) != 0}};
}

}  // namespace

StoreResult<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::filesystem::path& file,
                                                            std::string_view passphrase,
                                                            const crypto::Argon2Params& new_profile_kdf) {
  store::OpenOptions options;
  // secure_delete: deleted rows are overwritten, not left in free pages
  // (DESIGN.md §7); a rollback journal leaves no old pages in a WAL file.
  options.pragmas = {"journal_mode=DELETE", "synchronous=FULL", "secure_delete=ON"};
  auto db = store::Database::open(file, options);
  if (!db) return fail(std::move(db.error()));
  auto v = store::migrate(*db, kMigrations);
  if (!v) return fail(std::move(v.error()));
  auto wrapped = read_keyring(*db);
  if (!wrapped) return fail(std::move(wrapped.error()));
  if (*wrapped) {
    auto key = ProfileKey::unlock(passphrase, **wrapped);
    if (!key) return fail(std::move(key.error()));
    return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(*db), std::move(*key)));
  }
  // A new profile, or one written before the store was sealed.
  auto created = ProfileKey::create(passphrase, new_profile_kdf);
  if (!created) return fail(std::move(created.error()));
  {
    auto tx = store::Transaction::begin(*db);
    if (!tx) return fail(std::move(tx.error()));
    if (auto r = write_keyring(*db, created->second); !r) return fail(std::move(r.error()));
    if (auto r = seal_version1_rows(*db, created->first); !r) return fail(std::move(r.error()));
    if (auto r = tx->commit(); !r) return fail(std::move(r.error()));
  }
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(*db), std::move(created->first)));
}

StoreResult<void> SqliteStore::change_passphrase(std::string_view passphrase, const crypto::Argon2Params& kdf) {
  auto w = key_.rewrap(passphrase, kdf);
  if (!w) return fail(std::move(w.error()));
  // One row replaced; secure_delete overwrites the old wrapping in the file.
  return write_keyring(db_, *w);
}

StoreResult<std::optional<Bytes>> SqliteStore::identity_seed() {
  auto st = db_.prepare("SELECT sealed_seed FROM identity WHERE id = 1");
  if (!st) return err<std::optional<Bytes>>(st.error());
  auto s = st->step();
  if (!s) return err<std::optional<Bytes>>(s.error());
  if (*s == Step::Done) return std::optional<Bytes>{};
  auto seed = key_.open(kIdentityLabel, {}, st->column_blob(0));
  if (!seed) return err<std::optional<Bytes>>(std::move(seed.error()));
  return std::optional<Bytes>{std::move(*seed)};
}

StoreResult<void> SqliteStore::save_identity_seed(BytesView seed) {
  auto st = db_.prepare("INSERT OR REPLACE INTO identity(id, sealed_seed) VALUES (1, ?1)");
  if (!st) return err<void>(st.error());
  if (auto r = st->bind_blob(1, key_.seal(kIdentityLabel, {}, seed)); !r) return r;
  return st->run();
}

StoreResult<std::optional<ProfileInfo>> SqliteStore::profile() {
  auto st = db_.prepare("SELECT sealed FROM sealed_profile WHERE id = 1");
  if (!st) return err<std::optional<ProfileInfo>>(st.error());
  auto s = st->step();
  if (!s) return err<std::optional<ProfileInfo>>(s.error());
  if (*s == Step::Done) return std::optional<ProfileInfo>{};
  auto plain = key_.open(kProfileLabel, {}, st->column_blob(0));
  if (!plain) return err<std::optional<ProfileInfo>>(std::move(plain.error()));
  auto p = decode_profile(*plain);
  if (!p) return err<std::optional<ProfileInfo>>(std::move(p.error()));
  return std::optional<ProfileInfo>{std::move(*p)};
}

StoreResult<void> SqliteStore::save_profile(const ProfileInfo& p) {
  auto st = db_.prepare("INSERT OR REPLACE INTO sealed_profile(id, sealed) VALUES (1, ?1)");
  if (!st) return err<void>(st.error());
  if (auto r = st->bind_blob(1, key_.seal(kProfileLabel, {}, encode_profile(p))); !r) return r;
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

StoreResult<bool> SqliteStore::insert_envelope(const StoredEnvelope& e) {
  auto st = db_.prepare(
      "INSERT OR IGNORE INTO envelopes(room_id, seq, kind, sender, envelope_id, epoch, timestamp_ms, payload,"
      " sender_facilitator) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  if (!st) return err<bool>(st.error());
  Binder b{*st};
  b.blob(e.room.v)
      .i64(to_db(e.seq.v))
      .i64(static_cast<std::int64_t>(e.kind))
      .blob(e.sender.v)
      .blob(e.envelope_id.v)
      .i64(to_db(e.epoch.v))
      .i64(e.timestamp_ms)
      .blob(key_.seal(kEnvelopeLabel, envelope_context(e.room, e.seq), e.payload))
      .flag(e.sender_facilitator);
  if (!b.result) return err<bool>(b.result.error());
  if (auto r = st->run(); !r) return err<bool>(r.error());
  return db_.changes() != 0;
}

StoreResult<DeliveryOutcome> SqliteStore::store_delivery(const wire::Deliver& d, const RoomRecord& after,
                                                         const DeliveryWrite& write) {
  auto tx = store::Transaction::begin(db_);
  if (!tx) return err<DeliveryOutcome>(tx.error());
  auto existing = room(d.room);
  if (!existing) return err<DeliveryOutcome>(existing.error());
  if (*existing && d.seq <= (*existing)->cursor) return DeliveryOutcome::Duplicate;
  auto inserted = insert_envelope(StoredEnvelope{d.room, d.seq, d.kind, d.sender, d.envelope_id, d.epoch,
                                                 d.timestamp_ms, write.payload ? *write.payload : d.payload,
                                                 write.sender_facilitator});
  if (!inserted) return err<DeliveryOutcome>(inserted.error());
  if (write.group_state) {
    if (auto r = put_group_state(d.room, *write.group_state); !r) return err<DeliveryOutcome>(r.error());
  }
  RoomRecord next = after;
  if (next.cursor < d.seq) next.cursor = d.seq;
  if (auto r = put_room(next); !r) return err<DeliveryOutcome>(r.error());
  if (auto r = tx->commit(); !r) return err<DeliveryOutcome>(r.error());
  // Not inserted: e.g. our own envelope, already recorded by store_sent().
  return *inserted ? DeliveryOutcome::Stored : DeliveryOutcome::Duplicate;
}

StoreResult<void> SqliteStore::store_sent(const StoredEnvelope& e) {
  auto inserted = insert_envelope(e);
  if (!inserted) return err<void>(inserted.error());
  return {};
}

StoreResult<void> SqliteStore::erase_payloads(const RoomId& room, const std::vector<Seq>& seqs) {
  auto tx = store::Transaction::begin(db_);
  if (!tx) return err<void>(tx.error());
  auto st = db_.prepare("UPDATE envelopes SET payload = ?3 WHERE room_id = ?1 AND seq = ?2");
  if (!st) return err<void>(st.error());
  for (const Seq seq : seqs) {
    // secure_delete overwrites the replaced cell; an empty payload is sealed
    // like any other, so a row cannot be told apart by being bare.
    Binder b{*st};
    b.blob(room.v).i64(to_db(seq.v)).blob(key_.seal(kEnvelopeLabel, envelope_context(room, seq), Bytes{}));
    if (!b.result) return b.result;
    if (auto r = st->run(); !r) return r;  // run() resets it for the next seq
  }
  return tx->commit();
}

StoreResult<std::vector<StoredEnvelope>> SqliteStore::envelopes(const RoomId& room, Seq after, std::size_t limit) {
  auto st = db_.prepare(
      "SELECT seq, kind, sender, envelope_id, epoch, timestamp_ms, payload, sender_facilitator FROM envelopes "
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
    auto e = read_envelope(*st, room, key_);
    if (!e) return err<std::vector<StoredEnvelope>>(std::move(e.error()));
    out.push_back(std::move(*e));
  }
  return out;
}

StoreResult<void> SqliteStore::outbox_add(const PendingSend& p) {
  auto tx = store::Transaction::begin(db_);
  if (!tx) return err<void>(tx.error());
  auto st = db_.prepare("INSERT INTO outbox(envelope_id, room_id, payload, created_ms) VALUES (?1, ?2, ?3, ?4)");
  if (!st) return err<void>(st.error());
  Binder b{*st};
  b.blob(p.envelope_id.v)
      .blob(p.room.v)
      .blob(key_.seal(kOutboxLabel, outbox_context(p.envelope_id, p.room), p.payload))
      .i64(p.created_ms);
  if (!b.result) return b.result;
  if (auto r = st->run(); !r) return r;
  if (p.encrypted) {
    if (auto r = write_ciphertext(p.envelope_id, *p.encrypted); !r) return r;
  }
  return tx->commit();
}

StoreResult<std::vector<PendingSend>> SqliteStore::outbox() {
  auto st = db_.prepare(
      "SELECT envelope_id, room_id, payload, created_ms, cipher_epoch, ciphertext FROM outbox ORDER BY position");
  if (!st) return err<std::vector<PendingSend>>(st.error());
  std::vector<PendingSend> out;
  while (true) {
    auto s = st->step();
    if (!s) return err<std::vector<PendingSend>>(s.error());
    if (*s == Step::Done) break;
    EnvelopeId id{st->column_blob(0)};
    RoomId room{st->column_blob(1)};
    auto payload = key_.open(kOutboxLabel, outbox_context(id, room), st->column_blob(2));
    if (!payload) return err<std::vector<PendingSend>>(std::move(payload.error()));
    std::optional<EncryptedSend> encrypted;
    if (!st->column_is_null(5)) encrypted = EncryptedSend{Epoch{from_db(st->column_int64(4))}, st->column_blob(5)};
    out.push_back(PendingSend{std::move(id), std::move(room), std::move(*payload), st->column_int64(3),
                              std::move(encrypted)});
  }
  return out;
}

StoreResult<void> SqliteStore::write_ciphertext(const EnvelopeId& id, const EncryptedSend& encrypted) {
  auto st = db_.prepare("UPDATE outbox SET cipher_epoch = ?2, ciphertext = ?3 WHERE envelope_id = ?1");
  if (!st) return err<void>(st.error());
  Binder b{*st};
  b.blob(id.v).i64(to_db(encrypted.epoch.v)).blob(encrypted.payload);
  if (!b.result) return b.result;
  if (auto r = st->run(); !r) return r;
  if (db_.changes() == 0) return err<void>(StoreError{StoreCode::Constraint, "no such outbox entry"});
  return {};
}

StoreResult<void> SqliteStore::save_encrypted(const EnvelopeId& id, const EncryptedSend& encrypted,
                                              BytesView group_state) {
  auto tx = store::Transaction::begin(db_);
  if (!tx) return err<void>(tx.error());
  auto st = db_.prepare("SELECT room_id FROM outbox WHERE envelope_id = ?1");
  if (!st) return err<void>(st.error());
  if (auto r = st->bind_blob(1, id.v); !r) return r;
  auto s = st->step();
  if (!s) return err<void>(s.error());
  if (*s == Step::Done) return err<void>(StoreError{StoreCode::Constraint, "no such outbox entry"});
  const RoomId room{st->column_blob(0)};
  if (auto r = write_ciphertext(id, encrypted); !r) return r;
  if (auto r = put_group_state(room, group_state); !r) return r;
  return tx->commit();
}

StoreResult<void> SqliteStore::outbox_remove(const EnvelopeId& id) {
  auto st = db_.prepare("DELETE FROM outbox WHERE envelope_id = ?1");
  if (!st) return err<void>(st.error());
  if (auto r = st->bind_blob(1, id.v); !r) return r;
  return st->run();
}

StoreResult<void> SqliteStore::add_key_packages(const std::vector<StoredKeyPackage>& packages) {
  auto tx = store::Transaction::begin(db_);
  if (!tx) return err<void>(tx.error());
  auto st = db_.prepare("INSERT INTO key_packages(ref, last_resort, not_after, sealed_bundle) VALUES (?1, ?2, ?3, ?4)");
  if (!st) return err<void>(st.error());
  for (const auto& p : packages) {
    Binder b{*st};
    // The ref is the context: a bundle moved to another row does not open.
    b.blob(p.ref).i64(p.last_resort ? 1 : 0).i64(to_db(p.not_after)).blob(key_.seal(kKeyPackageLabel, p.ref, p.bundle));
    if (!b.result) return b.result;
    if (auto r = st->run(); !r) return r;
    st->reset();
  }
  return tx->commit();
}

StoreResult<std::vector<StoredKeyPackage>> SqliteStore::key_packages() {
  auto st = db_.prepare("SELECT ref, last_resort, not_after, sealed_bundle FROM key_packages");
  if (!st) return err<std::vector<StoredKeyPackage>>(st.error());
  std::vector<StoredKeyPackage> out;
  while (true) {
    auto s = st->step();
    if (!s) return err<std::vector<StoredKeyPackage>>(s.error());
    if (*s == Step::Done) break;
    StoredKeyPackage p;
    p.ref = st->column_blob(0);
    p.last_resort = st->column_int64(1) != 0;
    p.not_after = from_db(st->column_int64(2));
    auto bundle = key_.open(kKeyPackageLabel, p.ref, st->column_blob(3));
    if (!bundle) return err<std::vector<StoredKeyPackage>>(std::move(bundle.error()));
    p.bundle = std::move(*bundle);
    out.push_back(std::move(p));
  }
  return out;
}

StoreResult<void> SqliteStore::remove_key_package(BytesView ref) {
  auto st = db_.prepare("DELETE FROM key_packages WHERE ref = ?1");
  if (!st) return err<void>(st.error());
  if (auto r = st->bind_blob(1, ref); !r) return r;
  return st->run();
}

StoreResult<std::optional<PinnedKey>> SqliteStore::pinned_key(const AccountId& account) {
  auto st = db_.prepare("SELECT identity_key, pinned_ms, verified FROM pinned_keys WHERE account = ?1");
  if (!st) return err<std::optional<PinnedKey>>(st.error());
  if (auto r = st->bind_blob(1, account.v); !r) return err<std::optional<PinnedKey>>(r.error());
  auto s = st->step();
  if (!s) return err<std::optional<PinnedKey>>(s.error());
  if (*s == Step::Done) return std::optional<PinnedKey>{};
  return std::optional<PinnedKey>{PinnedKey{account, st->column_blob(0), st->column_int64(1), st->column_int64(2) != 0}};
}

StoreResult<void> SqliteStore::put_pinned_key(const PinnedKey& pin) {
  auto st = db_.prepare(
      "INSERT OR REPLACE INTO pinned_keys(account, identity_key, pinned_ms, verified) VALUES (?1, ?2, ?3, ?4)");
  if (!st) return err<void>(st.error());
  Binder b{*st};
  b.blob(pin.account.v).blob(pin.identity_key).i64(pin.pinned_ms).i64(pin.verified ? 1 : 0);
  if (!b.result) return b.result;
  return st->run();
}

StoreResult<std::optional<Bytes>> SqliteStore::group_state(const RoomId& room) {
  auto st = db_.prepare("SELECT sealed_state FROM group_states WHERE room_id = ?1");
  if (!st) return err<std::optional<Bytes>>(st.error());
  if (auto r = st->bind_blob(1, room.v); !r) return err<std::optional<Bytes>>(r.error());
  auto s = st->step();
  if (!s) return err<std::optional<Bytes>>(s.error());
  if (*s == Step::Done) return std::optional<Bytes>{};
  auto state = key_.open(kGroupStateLabel, room.v, st->column_blob(0));
  if (!state) return err<std::optional<Bytes>>(std::move(state.error()));
  return std::optional<Bytes>{std::move(*state)};
}

StoreResult<void> SqliteStore::put_group_state(const RoomId& room, BytesView state) {
  auto st = db_.prepare("INSERT OR REPLACE INTO group_states(room_id, sealed_state) VALUES (?1, ?2)");
  if (!st) return err<void>(st.error());
  Binder b{*st};
  b.blob(room.v).blob(key_.seal(kGroupStateLabel, room.v, state));
  if (!b.result) return b.result;
  return st->run();
}

StoreResult<void> SqliteStore::remove_group_state(const RoomId& room) {
  auto st = db_.prepare("DELETE FROM group_states WHERE room_id = ?1");
  if (!st) return err<void>(st.error());
  if (auto r = st->bind_blob(1, room.v); !r) return r;
  return st->run();
}

StoreResult<std::optional<PendingChange>> SqliteStore::pending_change(const RoomId& room) {
  using R = std::optional<PendingChange>;
  auto st = db_.prepare("SELECT envelope_id, sealed_state FROM pending_changes WHERE room_id = ?1");
  if (!st) return err<R>(st.error());
  if (auto r = st->bind_blob(1, room.v); !r) return err<R>(r.error());
  auto s = st->step();
  if (!s) return err<R>(s.error());
  if (*s == Step::Done) return R{};
  EnvelopeId id{st->column_blob(0)};
  auto state = key_.open(kPendingStateLabel, room.v, st->column_blob(1));
  if (!state) return err<R>(std::move(state.error()));
  return R{PendingChange{std::move(id), std::move(*state)}};
}

StoreResult<void> SqliteStore::put_pending_change(const RoomId& room, const PendingChange& change) {
  auto st = db_.prepare("INSERT OR REPLACE INTO pending_changes(room_id, envelope_id, sealed_state) VALUES (?1, ?2, ?3)");
  if (!st) return err<void>(st.error());
  Binder b{*st};
  b.blob(room.v).blob(change.envelope_id.v).blob(key_.seal(kPendingStateLabel, room.v, change.state));
  if (!b.result) return b.result;
  return st->run();
}

StoreResult<void> SqliteStore::remove_pending_change(const RoomId& room) {
  auto st = db_.prepare("DELETE FROM pending_changes WHERE room_id = ?1");
  if (!st) return err<void>(st.error());
  if (auto r = st->bind_blob(1, room.v); !r) return r;
  return st->run();
}

StoreResult<KeyRefresh> SqliteStore::key_refresh(const RoomId& room) {
  auto st = db_.prepare("SELECT refreshed_ms, sent FROM key_refreshes WHERE room_id = ?1");
  if (!st) return err<KeyRefresh>(st.error());
  if (auto r = st->bind_blob(1, room.v); !r) return err<KeyRefresh>(r.error());
  auto s = st->step();
  if (!s) return err<KeyRefresh>(s.error());
  if (*s == Step::Done) return KeyRefresh{};
  return KeyRefresh{st->column_int64(0), static_cast<std::uint32_t>(std::clamp<std::int64_t>(st->column_int64(1), 0, std::numeric_limits<std::uint32_t>::max()))};
}

StoreResult<void> SqliteStore::put_key_refresh(const RoomId& room, const KeyRefresh& r) {
  auto st = db_.prepare("INSERT OR REPLACE INTO key_refreshes(room_id, refreshed_ms, sent) VALUES (?1, ?2, ?3)");
  if (!st) return err<void>(st.error());
  Binder b{*st};
  b.blob(room.v).i64(r.refreshed_ms).i64(r.sent);
  if (!b.result) return b.result;
  return st->run();
}

}  // namespace hearth::client
