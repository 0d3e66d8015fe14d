// SPDX-License-Identifier: Apache-2.0
#include "server/store.h"

#include <sys/stat.h>

#include <array>
#include <system_error>

namespace hearth::relay {

namespace fs = std::filesystem;
using store::Step;
using store::StoreCode;
using store::StoreError;
using store::StoreResult;

// Propagates a failed StoreResult from the enclosing function.
#define HEARTH_TRY(expr)                                        \
  do {                                                          \
    if (auto hearth_try_r = (expr); !hearth_try_r)              \
      return ::hearth::fail(std::move(hearth_try_r.error()));   \
  } while (false)

namespace {

constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE accounts(
  id BLOB PRIMARY KEY,
  handle TEXT NOT NULL UNIQUE,
  identity_key BLOB NOT NULL,
  created_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE invites(
  token TEXT PRIMARY KEY,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  used_by BLOB
) WITHOUT ROWID;
CREATE TABLE key_packages(
  id INTEGER PRIMARY KEY,
  account BLOB NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX key_packages_by_account ON key_packages(account, id);
CREATE TABLE last_resort(
  account BLOB PRIMARY KEY,
  data BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE rooms(
  row INTEGER PRIMARY KEY,
  id BLOB NOT NULL UNIQUE,
  creator BLOB NOT NULL,
  group_info BLOB NOT NULL,
  epoch INTEGER NOT NULL,
  head INTEGER NOT NULL,
  lifetime_ms INTEGER NOT NULL,
  deleted_through INTEGER NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE TABLE members(
  room INTEGER NOT NULL,
  account BLOB NOT NULL,
  role INTEGER NOT NULL,
  joined_from INTEGER NOT NULL,
  PRIMARY KEY(room, account)
) WITHOUT ROWID;
CREATE TABLE cursors(
  room INTEGER NOT NULL,
  account BLOB NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY(room, account)
) WITHOUT ROWID;
CREATE TABLE departures(
  room INTEGER NOT NULL,
  account BLOB NOT NULL,
  last_seq INTEGER NOT NULL,
  PRIMARY KEY(room, account)
) WITHOUT ROWID;
CREATE TABLE envelopes(
  room INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  sender BLOB NOT NULL,
  envelope_id BLOB NOT NULL,
  epoch INTEGER NOT NULL,
  ts_ms INTEGER NOT NULL,
  addressee BLOB,
  roster BLOB,
  payload BLOB NOT NULL,
  PRIMARY KEY(room, seq)
);
)sql";

// Version 2 validates KeyPackages on upload and keeps their expiry. What
// version 1 stored was never checked (clients published opaque marker bytes, not KeyPackages), so it
// is dropped: clients publish fresh packages at their next login.
constexpr const char* kSchemaV2 = R"sql(
DELETE FROM key_packages;
DELETE FROM last_resort;
ALTER TABLE key_packages ADD COLUMN not_after INTEGER NOT NULL DEFAULT 0;
ALTER TABLE last_resort ADD COLUMN not_after INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 3 makes the relay MLS's Delivery Service (DESIGN.md §4): each room
// keeps the public view of its group (mls::PublicGroup::serialize), written
// with the bundle that moved it. Rooms from version 2 held opaque bytes the
// relay never checked, so they get no view: they can still be synced and
// closed, but take no new envelopes. A handshake envelope may now be a
// standalone proposal (a member leaving), which does not move the epoch.
constexpr const char* kSchemaV3 = R"sql(
ALTER TABLE rooms ADD COLUMN view BLOB;
ALTER TABLE envelopes ADD COLUMN proposal INTEGER NOT NULL DEFAULT 0;
)sql";

constexpr std::array<store::Migration, 3> kMigrations{{{1, kSchemaV1}, {2, kSchemaV2}, {3, kSchemaV3}}};
static_assert(kMigrations.size() == kSchemaVersion);

// Statement cache slots.
enum Slot : std::size_t {
  kInsertInvite,
  kSelectInvite,
  kUseInvite,
  kInsertAccount,
  kCountPackages,
  kDeleteExpiredPackages,
  kInsertPackage,
  kUpsertLastResort,
  kOldestPackage,
  kDeletePackage,
  kLastResort,
  kInsertRoom,
  kUpdateRoom,
  kUpdateView,
  kDeleteMembers,
  kInsertMember,
  kInsertEnvelope,
  kUpsertCursor,
  kUpsertDeparture,
  kDeleteDeparture,
  kReadEnvelopes,
  kSlotCount,
};

[[nodiscard]] std::int64_t to_i64(std::uint64_t v) noexcept { return static_cast<std::int64_t>(v); }
[[nodiscard]] std::uint64_t to_u64(std::int64_t v) noexcept { return v < 0 ? 0 : static_cast<std::uint64_t>(v); }

[[nodiscard]] StoreError corrupt(const std::string& what) { return StoreError{StoreCode::NotADatabase, what}; }

[[nodiscard]] std::optional<wire::EnvelopeKind> kind_from(std::int64_t v) {
  switch (v) {
    case 1: return wire::EnvelopeKind::Application;
    case 2: return wire::EnvelopeKind::Handshake;
    case 3: return wire::EnvelopeKind::Welcome;
    case 4: return wire::EnvelopeKind::Reset;
    case 5: return wire::EnvelopeKind::Report;
    default: return std::nullopt;
  }
}

[[nodiscard]] std::optional<wire::Role> role_from(std::int64_t v) {
  switch (v) {
    case 1: return wire::Role::Member;
    case 2: return wire::Role::Facilitator;
    default: return std::nullopt;
  }
}

}  // namespace

Bytes encode_roster(const std::vector<wire::RosterChange>& changes) {
  Bytes out;
  out.reserve(changes.size() * (2 + wire::kAccountIdSize));
  for (const auto& c : changes) {
    out.push_back(static_cast<std::uint8_t>(c.op));
    out.push_back(static_cast<std::uint8_t>(c.role));
    append(out, c.account.v);
  }
  return out;
}

std::optional<std::vector<wire::RosterChange>> decode_roster(BytesView blob) {
  constexpr std::size_t kItem = 2 + wire::kAccountIdSize;
  if (blob.size() % kItem != 0) return std::nullopt;
  std::vector<wire::RosterChange> out;
  for (std::size_t i = 0; i < blob.size(); i += kItem) {
    wire::RosterChange c;
    switch (blob[i]) {
      case 1: c.op = wire::RosterOp::Add; break;
      case 2: c.op = wire::RosterOp::Remove; break;
      case 3: c.op = wire::RosterOp::SetRole; break;
      default: return std::nullopt;
    }
    auto role = role_from(blob[i + 1]);
    if (!role) return std::nullopt;
    c.role = *role;
    c.account.v.assign(blob.begin() + static_cast<std::ptrdiff_t>(i + 2),
                       blob.begin() + static_cast<std::ptrdiff_t>(i + kItem));
    out.push_back(std::move(c));
  }
  return out;
}

StoreResult<RelayStore> RelayStore::finish_open(StoreResult<store::Database> db) {
  if (!db) return fail(std::move(db.error()));
  HEARTH_TRY(store::migrate(*db, kMigrations));
  RelayStore s(std::move(*db));
  s.statements_.resize(kSlotCount);
  return s;
}

StoreResult<RelayStore> RelayStore::open(const fs::path& data_dir) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) return fail(StoreError{StoreCode::CannotOpen, "cannot create " + data_dir.string() + ": " + ec.message()});
  store::OpenOptions options;
  options.pragmas = {"journal_mode=WAL", "synchronous=FULL", "wal_autocheckpoint=0", "foreign_keys=OFF"};
  auto db = store::Database::open(data_dir / kDatabaseFileName, options);
  if (!db) return fail(std::move(db.error()));
  // journal_mode=WAL silently stays "delete" on a read-only file; insist.
  {
    auto mode = db->prepare("PRAGMA journal_mode");
    if (!mode) return fail(std::move(mode.error()));
    auto step = mode->step();
    if (!step) return fail(std::move(step.error()));
    if (*step != Step::Row || mode->column_text(0) != "wal")
      return fail(StoreError{StoreCode::ReadOnly, "the database cannot switch to WAL mode (read-only?)"});
  }
  return finish_open(std::move(db));
}

StoreResult<RelayStore> RelayStore::open_memory() { return finish_open(store::Database::open_memory()); }

StoreResult<store::Statement*> RelayStore::cached(std::size_t slot, std::string_view sql) {
  auto& st = statements_.at(slot);
  if (!st) {
    auto prepared = db_.prepare(sql);
    if (!prepared) return fail(std::move(prepared.error()));
    st.emplace(std::move(*prepared));
  } else {
    st->reset();
    st->clear_bindings();
  }
  return &*st;
}

StoreResult<LoadedState> RelayStore::load() {
  LoadedState out;
  {
    auto st = db_.prepare("SELECT id, handle, identity_key FROM accounts");
    if (!st) return fail(std::move(st.error()));
    for (;;) {
      auto s = st->step();
      if (!s) return fail(std::move(s.error()));
      if (*s == Step::Done) break;
      out.accounts.push_back(AccountRow{AccountId{st->column_blob(0)}, st->column_text(1), st->column_blob(2)});
    }
  }
  {
    auto st = db_.prepare(
        "SELECT r.row, r.id, r.epoch, max(r.head, coalesce((SELECT max(seq) FROM envelopes e WHERE e.room = r.row), 0)),"
        " r.lifetime_ms, r.deleted_through, r.view FROM rooms r ORDER BY r.row");
    if (!st) return fail(std::move(st.error()));
    for (;;) {
      auto s = st->step();
      if (!s) return fail(std::move(s.error()));
      if (*s == Step::Done) break;
      RoomState r;
      r.row = st->column_int64(0);
      r.id = RoomId{st->column_blob(1)};
      r.epoch = Epoch{to_u64(st->column_int64(2))};
      r.head = Seq{to_u64(st->column_int64(3))};
      r.lifetime_ms = to_u64(st->column_int64(4));
      r.deleted_through = Seq{to_u64(st->column_int64(5))};
      if (!st->column_is_null(6)) out.views.emplace(r.row, st->column_blob(6));
      out.rooms.push_back(std::move(r));
    }
  }
  {
    auto st = db_.prepare(
        "SELECT m.room, m.account, m.role, m.joined_from, coalesce(c.seq, 0) FROM members m"
        " LEFT JOIN cursors c ON c.room = m.room AND c.account = m.account ORDER BY m.room");
    if (!st) return fail(std::move(st.error()));
    std::size_t at = 0;
    for (;;) {
      auto s = st->step();
      if (!s) return fail(std::move(s.error()));
      if (*s == Step::Done) break;
      const auto room = st->column_int64(0);
      while (at < out.rooms.size() && out.rooms[at].row < room) ++at;
      if (at == out.rooms.size() || out.rooms[at].row != room) return fail(corrupt("a member of a missing room"));
      auto role = role_from(st->column_int64(2));
      if (!role) return fail(corrupt("a member with an unknown role"));
      out.rooms[at].members.emplace(AccountId{st->column_blob(1)},
                                    MemberState{*role, Seq{to_u64(st->column_int64(3))},
                                                Seq{to_u64(st->column_int64(4))}});
    }
  }
  {
    auto st = db_.prepare(
        "SELECT sender, envelope_id, room, seq, kind, epoch, ts_ms, proposal FROM envelopes WHERE kind <> 3"
        " ORDER BY room, seq");
    if (!st) return fail(std::move(st.error()));
    for (;;) {
      auto s = st->step();
      if (!s) return fail(std::move(s.error()));
      if (*s == Step::Done) break;
      auto kind = kind_from(st->column_int64(4));
      if (!kind) return fail(corrupt("an envelope of an unknown kind"));
      out.ids.push_back(IdRow{AccountId{st->column_blob(0)}, EnvelopeId{st->column_blob(1)}, st->column_int64(2),
                              Seq{to_u64(st->column_int64(3))}, *kind, Epoch{to_u64(st->column_int64(5))},
                              st->column_int64(6), st->column_int64(7) != 0});
    }
  }
  {
    auto st = db_.prepare("SELECT room, account, last_seq FROM departures");
    if (!st) return fail(std::move(st.error()));
    for (;;) {
      auto s = st->step();
      if (!s) return fail(std::move(s.error()));
      if (*s == Step::Done) break;
      out.departures.push_back(
          DepartureRow{st->column_int64(0), AccountId{st->column_blob(1)}, Seq{to_u64(st->column_int64(2))}});
    }
  }
  return out;
}

StoreResult<void> RelayStore::insert_invite(const std::string& token, std::int64_t created_ms,
                                            std::int64_t expires_ms) {
  auto st = cached(kInsertInvite, "INSERT INTO invites(token, created_ms, expires_ms) VALUES(?1, ?2, ?3)");
  if (!st) return fail(std::move(st.error()));
  HEARTH_TRY((*st)->bind_text(1, token));
  HEARTH_TRY((*st)->bind_int64(2, created_ms));
  HEARTH_TRY((*st)->bind_int64(3, expires_ms));
  return (*st)->run();
}

StoreResult<InviteCheck> RelayStore::consume_invite(const std::string& token, std::int64_t now_ms,
                                                    const AccountId& account) {
  auto sel = cached(kSelectInvite, "SELECT expires_ms, used_by IS NULL FROM invites WHERE token = ?1");
  if (!sel) return fail(std::move(sel.error()));
  HEARTH_TRY((*sel)->bind_text(1, token));
  auto s = (*sel)->step();
  if (!s) return fail(std::move(s.error()));
  if (*s != Step::Row) return InviteCheck::Invalid;
  const bool usable = (*sel)->column_int64(0) > now_ms && (*sel)->column_int64(1) != 0;
  (*sel)->reset();
  if (!usable) return InviteCheck::Invalid;
  auto use = cached(kUseInvite, "UPDATE invites SET used_by = ?2 WHERE token = ?1 AND used_by IS NULL");
  if (!use) return fail(std::move(use.error()));
  HEARTH_TRY((*use)->bind_text(1, token));
  HEARTH_TRY((*use)->bind_blob(2, account.v));
  HEARTH_TRY((*use)->run());
  return db_.changes() == 1 ? InviteCheck::Consumed : InviteCheck::Invalid;
}

StoreResult<void> RelayStore::insert_account(const AccountRow& a, std::int64_t now_ms) {
  auto st = cached(kInsertAccount,
                   "INSERT INTO accounts(id, handle, identity_key, created_ms) VALUES(?1, ?2, ?3, ?4)");
  if (!st) return fail(std::move(st.error()));
  HEARTH_TRY((*st)->bind_blob(1, a.id.v));
  HEARTH_TRY((*st)->bind_text(2, a.handle));
  HEARTH_TRY((*st)->bind_blob(3, a.identity_key));
  HEARTH_TRY((*st)->bind_int64(4, now_ms));
  return (*st)->run();
}

StoreResult<void> RelayStore::drop_expired_key_packages(const AccountId& account, std::uint64_t now_s) {
  auto del = cached(kDeleteExpiredPackages, "DELETE FROM key_packages WHERE account = ?1 AND not_after < ?2");
  if (!del) return fail(std::move(del.error()));
  HEARTH_TRY((*del)->bind_blob(1, account.v));
  HEARTH_TRY((*del)->bind_int64(2, to_i64(now_s)));
  return (*del)->run();
}

StoreResult<std::optional<std::uint32_t>> RelayStore::add_key_packages(
    const AccountId& account, const std::vector<PublishedKeyPackage>& packages,
    const std::optional<PublishedKeyPackage>& last_resort, std::size_t max_stock, std::uint64_t now_s) {
  HEARTH_TRY(drop_expired_key_packages(account, now_s));
  auto count = cached(kCountPackages, "SELECT count(*) FROM key_packages WHERE account = ?1");
  if (!count) return fail(std::move(count.error()));
  HEARTH_TRY((*count)->bind_blob(1, account.v));
  auto s = (*count)->step();
  if (!s) return fail(std::move(s.error()));
  const auto have = to_u64((*count)->column_int64(0));
  (*count)->reset();
  if (have + packages.size() > max_stock) return std::optional<std::uint32_t>{};
  for (const auto& kp : packages) {
    auto ins = cached(kInsertPackage, "INSERT INTO key_packages(account, data, not_after) VALUES(?1, ?2, ?3)");
    if (!ins) return fail(std::move(ins.error()));
    HEARTH_TRY((*ins)->bind_blob(1, account.v));
    HEARTH_TRY((*ins)->bind_blob(2, kp.data));
    HEARTH_TRY((*ins)->bind_int64(3, to_i64(kp.not_after_s)));
    HEARTH_TRY((*ins)->run());
  }
  if (last_resort) {
    auto up = cached(kUpsertLastResort,
                     "INSERT INTO last_resort(account, data, not_after) VALUES(?1, ?2, ?3)"
                     " ON CONFLICT(account) DO UPDATE SET data = excluded.data, not_after = excluded.not_after");
    if (!up) return fail(std::move(up.error()));
    HEARTH_TRY((*up)->bind_blob(1, account.v));
    HEARTH_TRY((*up)->bind_blob(2, last_resort->data));
    HEARTH_TRY((*up)->bind_int64(3, to_i64(last_resort->not_after_s)));
    HEARTH_TRY((*up)->run());
  }
  return std::optional<std::uint32_t>{static_cast<std::uint32_t>(have + packages.size())};
}

StoreResult<std::optional<KeyPackageTaken>> RelayStore::take_key_package(const AccountId& account,
                                                                          std::uint64_t now_s) {
  HEARTH_TRY(drop_expired_key_packages(account, now_s));
  auto oldest = cached(kOldestPackage, "SELECT id, data FROM key_packages WHERE account = ?1 ORDER BY id LIMIT 1");
  if (!oldest) return fail(std::move(oldest.error()));
  HEARTH_TRY((*oldest)->bind_blob(1, account.v));
  auto s = (*oldest)->step();
  if (!s) return fail(std::move(s.error()));
  if (*s == Step::Row) {
    const auto id = (*oldest)->column_int64(0);
    KeyPackageTaken taken{(*oldest)->column_blob(1), false};
    (*oldest)->reset();
    auto del = cached(kDeletePackage, "DELETE FROM key_packages WHERE id = ?1");
    if (!del) return fail(std::move(del.error()));
    HEARTH_TRY((*del)->bind_int64(1, id));
    HEARTH_TRY((*del)->run());
    return std::optional<KeyPackageTaken>{std::move(taken)};
  }
  (*oldest)->reset();
  auto lr = cached(kLastResort, "SELECT data FROM last_resort WHERE account = ?1 AND not_after >= ?2");
  if (!lr) return fail(std::move(lr.error()));
  HEARTH_TRY((*lr)->bind_blob(1, account.v));
  HEARTH_TRY((*lr)->bind_int64(2, to_i64(now_s)));
  s = (*lr)->step();
  if (!s) return fail(std::move(s.error()));
  if (*s != Step::Row) return std::optional<KeyPackageTaken>{};
  KeyPackageTaken taken{(*lr)->column_blob(0), true};
  (*lr)->reset();
  return std::optional<KeyPackageTaken>{std::move(taken)};
}

StoreResult<void> RelayStore::insert_room(const RoomState& room, const AccountId& creator, BytesView group_info,
                                          BytesView view, std::int64_t now_ms) {
  auto st = cached(kInsertRoom,
                   "INSERT INTO rooms(row, id, creator, group_info, epoch, head, lifetime_ms, deleted_through,"
                   " created_ms, view) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9)");
  if (!st) return fail(std::move(st.error()));
  HEARTH_TRY((*st)->bind_int64(1, room.row));
  HEARTH_TRY((*st)->bind_blob(2, room.id.v));
  HEARTH_TRY((*st)->bind_blob(3, creator.v));
  HEARTH_TRY((*st)->bind_blob(4, group_info));
  HEARTH_TRY((*st)->bind_int64(5, to_i64(room.epoch.v)));
  HEARTH_TRY((*st)->bind_int64(6, to_i64(room.head.v)));
  HEARTH_TRY((*st)->bind_int64(7, to_i64(room.lifetime_ms)));
  HEARTH_TRY((*st)->bind_int64(8, now_ms));
  HEARTH_TRY((*st)->bind_blob(9, view));
  HEARTH_TRY((*st)->run());
  return save_room_members(room);
}

StoreResult<void> RelayStore::save_room_view(std::int64_t room_row, BytesView view) {
  auto st = cached(kUpdateView, "UPDATE rooms SET view = ?2 WHERE row = ?1");
  if (!st) return fail(std::move(st.error()));
  HEARTH_TRY((*st)->bind_int64(1, room_row));
  HEARTH_TRY((*st)->bind_blob(2, view));
  HEARTH_TRY((*st)->run());
  if (db_.changes() != 1) return fail(corrupt("the view of a missing room"));
  return {};
}

StoreResult<void> RelayStore::save_room_members(const RoomState& room) {
  auto up = cached(kUpdateRoom, "UPDATE rooms SET epoch = ?2, head = max(head, ?3), lifetime_ms = ?4 WHERE row = ?1");
  if (!up) return fail(std::move(up.error()));
  HEARTH_TRY((*up)->bind_int64(1, room.row));
  HEARTH_TRY((*up)->bind_int64(2, to_i64(room.epoch.v)));
  HEARTH_TRY((*up)->bind_int64(3, to_i64(room.head.v)));
  HEARTH_TRY((*up)->bind_int64(4, to_i64(room.lifetime_ms)));
  HEARTH_TRY((*up)->run());
  auto del = cached(kDeleteMembers, "DELETE FROM members WHERE room = ?1");
  if (!del) return fail(std::move(del.error()));
  HEARTH_TRY((*del)->bind_int64(1, room.row));
  HEARTH_TRY((*del)->run());
  for (const auto& [account, m] : room.members) {
    auto ins = cached(kInsertMember, "INSERT INTO members(room, account, role, joined_from) VALUES(?1, ?2, ?3, ?4)");
    if (!ins) return fail(std::move(ins.error()));
    HEARTH_TRY((*ins)->bind_int64(1, room.row));
    HEARTH_TRY((*ins)->bind_blob(2, account.v));
    HEARTH_TRY((*ins)->bind_int64(3, static_cast<std::int64_t>(m.role)));
    HEARTH_TRY((*ins)->bind_int64(4, to_i64(m.joined_from.v)));
    HEARTH_TRY((*ins)->run());
  }
  return {};
}

StoreResult<void> RelayStore::insert_envelope(std::int64_t room_row, const StoredEnvelope& e) {
  auto st = cached(kInsertEnvelope,
                   "INSERT INTO envelopes(room, seq, kind, sender, envelope_id, epoch, ts_ms, addressee, roster,"
                   " payload, proposal) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  if (!st) return fail(std::move(st.error()));
  auto& s = **st;
  HEARTH_TRY(s.bind_int64(1, room_row));
  HEARTH_TRY(s.bind_int64(2, to_i64(e.seq.v)));
  HEARTH_TRY(s.bind_int64(3, static_cast<std::int64_t>(e.kind)));
  HEARTH_TRY(s.bind_blob(4, e.sender.v));
  HEARTH_TRY(s.bind_blob(5, e.envelope_id.v));
  HEARTH_TRY(s.bind_int64(6, to_i64(e.epoch.v)));
  HEARTH_TRY(s.bind_int64(7, e.timestamp_ms));
  if (e.addressee) {
    HEARTH_TRY(s.bind_blob(8, e.addressee->v));
  } else {
    HEARTH_TRY(s.bind_null(8));
  }
  if (e.roster_changes.empty()) {
    HEARTH_TRY(s.bind_null(9));
  } else {
    HEARTH_TRY(s.bind_blob(9, encode_roster(e.roster_changes)));
  }
  HEARTH_TRY(s.bind_blob(10, e.payload));
  HEARTH_TRY(s.bind_int64(11, e.proposal ? 1 : 0));
  return s.run();
}

StoreResult<void> RelayStore::save_cursor(std::int64_t room_row, const AccountId& account, Seq seq) {
  auto st = cached(kUpsertCursor,
                   "INSERT INTO cursors(room, account, seq) VALUES(?1, ?2, ?3)"
                   " ON CONFLICT(room, account) DO UPDATE SET seq = max(seq, excluded.seq)");
  if (!st) return fail(std::move(st.error()));
  HEARTH_TRY((*st)->bind_int64(1, room_row));
  HEARTH_TRY((*st)->bind_blob(2, account.v));
  HEARTH_TRY((*st)->bind_int64(3, to_i64(seq.v)));
  return (*st)->run();
}

StoreResult<void> RelayStore::save_departure(const DepartureRow& d) {
  auto st = cached(kUpsertDeparture,
                   "INSERT INTO departures(room, account, last_seq) VALUES(?1, ?2, ?3)"
                   " ON CONFLICT(room, account) DO UPDATE SET last_seq = excluded.last_seq");
  if (!st) return fail(std::move(st.error()));
  HEARTH_TRY((*st)->bind_int64(1, d.room_row));
  HEARTH_TRY((*st)->bind_blob(2, d.account.v));
  HEARTH_TRY((*st)->bind_int64(3, to_i64(d.last_seq.v)));
  return (*st)->run();
}

StoreResult<void> RelayStore::erase_departure(std::int64_t room_row, const AccountId& account) {
  auto st = cached(kDeleteDeparture, "DELETE FROM departures WHERE room = ?1 AND account = ?2");
  if (!st) return fail(std::move(st.error()));
  HEARTH_TRY((*st)->bind_int64(1, room_row));
  HEARTH_TRY((*st)->bind_blob(2, account.v));
  return (*st)->run();
}

StoreResult<std::vector<StoredEnvelope>> RelayStore::read_envelopes(std::int64_t room_row, Seq after, Seq upto,
                                                                    const AccountId& reader, std::size_t max_count,
                                                                    std::size_t max_bytes) {
  auto st = cached(kReadEnvelopes,
                   "SELECT seq, kind, sender, envelope_id, epoch, ts_ms, addressee, roster, payload FROM envelopes"
                   " WHERE room = ?1 AND seq > ?2 AND seq <= ?3 AND (kind <> 3 OR addressee = ?4)"
                   " ORDER BY seq LIMIT ?5");
  if (!st) return fail(std::move(st.error()));
  auto& s = **st;
  HEARTH_TRY(s.bind_int64(1, room_row));
  HEARTH_TRY(s.bind_int64(2, to_i64(after.v)));
  HEARTH_TRY(s.bind_int64(3, to_i64(upto.v)));
  HEARTH_TRY(s.bind_blob(4, reader.v));
  HEARTH_TRY(s.bind_int64(5, static_cast<std::int64_t>(max_count)));
  std::vector<StoredEnvelope> out;
  std::size_t bytes = 0;
  while (bytes < max_bytes) {
    auto step = s.step();
    if (!step) return fail(std::move(step.error()));
    if (*step == Step::Done) break;
    StoredEnvelope e;
    e.seq = Seq{to_u64(s.column_int64(0))};
    auto kind = kind_from(s.column_int64(1));
    if (!kind) return fail(corrupt("an envelope of an unknown kind"));
    e.kind = *kind;
    e.sender = AccountId{s.column_blob(2)};
    e.envelope_id = EnvelopeId{s.column_blob(3)};
    e.epoch = Epoch{to_u64(s.column_int64(4))};
    e.timestamp_ms = s.column_int64(5);
    if (!s.column_is_null(6)) e.addressee = AccountId{s.column_blob(6)};
    if (!s.column_is_null(7)) {
      auto roster = decode_roster(s.column_blob(7));
      if (!roster) return fail(corrupt("an envelope with a malformed roster change"));
      e.roster_changes = std::move(*roster);
    }
    e.payload = s.column_blob(8);
    bytes += e.payload.size();
    out.push_back(std::move(e));
  }
  s.reset();
  return out;
}

StoreResult<Seq> RelayStore::delete_retained(const RoomState& room, Seq all_through,
                                             std::int64_t application_before_ms) {
  // The highest seq about to go, so a later Sync can report a history gap.
  auto top = db_.prepare(
      "SELECT coalesce(max(seq), 0) FROM envelopes WHERE room = ?1 AND (seq <= ?2 OR (kind = 1 AND ts_ms < ?3))");
  if (!top) return fail(std::move(top.error()));
  HEARTH_TRY(top->bind_int64(1, room.row));
  HEARTH_TRY(top->bind_int64(2, to_i64(all_through.v)));
  HEARTH_TRY(top->bind_int64(3, application_before_ms));
  auto s = top->step();
  if (!s) return fail(std::move(s.error()));
  const Seq deleted{std::max(room.deleted_through.v, to_u64(top->column_int64(0)))};
  if (deleted == room.deleted_through) return deleted;
  auto del = db_.prepare("DELETE FROM envelopes WHERE room = ?1 AND (seq <= ?2 OR (kind = 1 AND ts_ms < ?3))");
  if (!del) return fail(std::move(del.error()));
  HEARTH_TRY(del->bind_int64(1, room.row));
  HEARTH_TRY(del->bind_int64(2, to_i64(all_through.v)));
  HEARTH_TRY(del->bind_int64(3, application_before_ms));
  HEARTH_TRY(del->run());
  auto up = db_.prepare("UPDATE rooms SET deleted_through = ?2, head = max(head, ?3) WHERE row = ?1");
  if (!up) return fail(std::move(up.error()));
  HEARTH_TRY(up->bind_int64(1, room.row));
  HEARTH_TRY(up->bind_int64(2, to_i64(deleted.v)));
  HEARTH_TRY(up->bind_int64(3, to_i64(room.head.v)));
  HEARTH_TRY(up->run());
  return deleted;
}

StoreResult<void> RelayStore::delete_room(std::int64_t room_row) {
  for (const char* sql : {"DELETE FROM envelopes WHERE room = ?1", "DELETE FROM members WHERE room = ?1",
                          "DELETE FROM cursors WHERE room = ?1", "DELETE FROM departures WHERE room = ?1",
                          "DELETE FROM rooms WHERE row = ?1"}) {
    auto st = db_.prepare(sql);
    if (!st) return fail(std::move(st.error()));
    HEARTH_TRY(st->bind_int64(1, room_row));
    HEARTH_TRY(st->run());
  }
  return {};
}

}  // namespace hearth::relay
