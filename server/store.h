// SPDX-License-Identifier: Apache-2.0
#pragma once
// The relay's database: schema (versioned migrations) and every query the
// relay runs. SQLite in WAL mode with synchronous=FULL and automatic
// checkpoints off (the DbWorker checkpoints in the background).
//
// Thread affinity: one RelayStore belongs to one thread (the DbWorker's, or
// the `invite` subcommand's main thread). Methods that write expect the
// caller's transaction (the worker's group commit) to be open.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/store/store.h"
#include "common/types/ids.h"
#include "common/wire/messages.h"
#include "server/core/room_state.h"

namespace hearth::relay {

/// The schema version this relay writes.
inline constexpr std::int64_t kSchemaVersion = 3;
/// The database file inside the data directory.
inline constexpr const char* kDatabaseFileName = "relay.sqlite3";

struct StoredEnvelope {
  Seq seq;
  wire::EnvelopeKind kind = wire::EnvelopeKind::Application;
  AccountId sender;
  EnvelopeId envelope_id;
  Epoch epoch;
  std::int64_t timestamp_ms = 0;
  Bytes payload;
  std::vector<wire::RosterChange> roster_changes;
  std::optional<AccountId> addressee;  // Welcome only
  bool proposal = false;               // Handshake only: a standalone proposal, not a commit
};

struct AccountRow {
  AccountId id;
  std::string handle;
  Bytes identity_key;
};

struct IdRow {
  AccountId sender;
  EnvelopeId envelope_id;
  std::int64_t room_row = 0;
  Seq seq;
  wire::EnvelopeKind kind = wire::EnvelopeKind::Application;
  Epoch epoch;
  std::int64_t timestamp_ms = 0;
  bool proposal = false;
};

struct DepartureRow {
  std::int64_t room_row = 0;
  AccountId account;
  Seq last_seq;
};

/// Everything the relay keeps in memory, read once at start.
struct LoadedState {
  std::vector<AccountRow> accounts;
  std::vector<RoomState> rooms;
  std::vector<IdRow> ids;  // application and handshake envelopes still held, by room and seq
  std::vector<DepartureRow> departures;
  /// Each room's public MLS view (mls::PublicGroup::serialize), by room row.
  /// A room created before schema version 3 has none.
  std::unordered_map<std::int64_t, Bytes> views;
};

enum class InviteCheck { Consumed, Invalid };

/// A KeyPackage the relay checked, with its expiry (Unix seconds).
struct PublishedKeyPackage {
  Bytes data;
  std::uint64_t not_after_s = 0;
};

struct KeyPackageTaken {
  Bytes key_package;
  bool last_resort = false;
};

class RelayStore {
 public:
  /// Opens (creating if needed) <data_dir>/relay.sqlite3 and migrates it.
  /// Errors are start-up errors: CannotOpen, NotADatabase, SchemaTooNew, ...
  [[nodiscard]] static store::StoreResult<RelayStore> open(const std::filesystem::path& data_dir);
  /// Test helper: a private in-memory database, migrated.
  [[nodiscard]] static store::StoreResult<RelayStore> open_memory();

  [[nodiscard]] store::Database& db() noexcept { return db_; }
  [[nodiscard]] store::StoreResult<LoadedState> load();

  // ---- invites and accounts
  [[nodiscard]] store::StoreResult<void> insert_invite(const std::string& token, std::int64_t created_ms,
                                                       std::int64_t expires_ms);
  /// Marks the token used by `account` if it exists, is unused and unexpired.
  [[nodiscard]] store::StoreResult<InviteCheck> consume_invite(const std::string& token, std::int64_t now_ms,
                                                               const AccountId& account);
  [[nodiscard]] store::StoreResult<void> insert_account(const AccountRow& account, std::int64_t now_ms);

  // ---- key directory
  /// Drops the account's packages expired at `now_s`, then adds one-time
  /// packages (and replaces the last-resort one when given). Returns the new
  /// stock of unexpired one-time packages, or nullopt (nothing stored) when
  /// it would exceed `max_stock`.
  [[nodiscard]] store::StoreResult<std::optional<std::uint32_t>> add_key_packages(
      const AccountId& account, const std::vector<PublishedKeyPackage>& packages,
      const std::optional<PublishedKeyPackage>& last_resort, std::size_t max_stock, std::uint64_t now_s);
  /// Removes and returns the oldest unexpired one-time package, else the
  /// last-resort one while it is unexpired; drops expired ones on the way.
  [[nodiscard]] store::StoreResult<std::optional<KeyPackageTaken>> take_key_package(const AccountId& account,
                                                                                  std::uint64_t now_s);

  // ---- rooms
  /// A new room with its creator's GroupInfo and the relay's view opened from it.
  [[nodiscard]] store::StoreResult<void> insert_room(const RoomState& room, const AccountId& creator,
                                                     BytesView group_info, BytesView view, std::int64_t now_ms);
  /// Replaces the room's serialized view; the caller writes it in the
  /// transaction of the bundle that produced it.
  [[nodiscard]] store::StoreResult<void> save_room_view(std::int64_t room_row, BytesView view);
  /// Writes the room's epoch, head, lifetime and whole member list.
  [[nodiscard]] store::StoreResult<void> save_room_members(const RoomState& room);
  [[nodiscard]] store::StoreResult<void> insert_envelope(std::int64_t room_row, const StoredEnvelope& e);
  [[nodiscard]] store::StoreResult<void> save_cursor(std::int64_t room_row, const AccountId& account, Seq seq);
  [[nodiscard]] store::StoreResult<void> save_departure(const DepartureRow& d);
  [[nodiscard]] store::StoreResult<void> erase_departure(std::int64_t room_row, const AccountId& account);
  /// Envelopes with after < seq <= upto for `reader` (Welcomes only when
  /// addressed to it), ascending, at most `max_count` and about `max_bytes`.
  [[nodiscard]] store::StoreResult<std::vector<StoredEnvelope>> read_envelopes(std::int64_t room_row, Seq after,
                                                                               Seq upto, const AccountId& reader,
                                                                               std::size_t max_count,
                                                                               std::size_t max_bytes);
  /// Deletes what retention allows and records the room's head and
  /// deleted_through. Returns the new deleted_through.
  [[nodiscard]] store::StoreResult<Seq> delete_retained(const RoomState& room, Seq all_through,
                                                        std::int64_t application_before_ms);
  /// Deletes everything about a room.
  [[nodiscard]] store::StoreResult<void> delete_room(std::int64_t room_row);

 private:
  explicit RelayStore(store::Database db) : db_(std::move(db)) {}
  [[nodiscard]] static store::StoreResult<RelayStore> finish_open(store::StoreResult<store::Database> db);
  [[nodiscard]] store::StoreResult<store::Statement*> cached(std::size_t slot, std::string_view sql);
  [[nodiscard]] store::StoreResult<void> drop_expired_key_packages(const AccountId& account, std::uint64_t now_s);

  store::Database db_;
  std::vector<std::optional<store::Statement>> statements_;
};

/// Roster changes in the database: op, role, 16-byte account, per change.
[[nodiscard]] Bytes encode_roster(const std::vector<wire::RosterChange>& changes);
[[nodiscard]] std::optional<std::vector<wire::RosterChange>> decode_roster(BytesView blob);

}  // namespace hearth::relay
