// SPDX-License-Identifier: Apache-2.0
#pragma once
// LocalStore on one SQLite file per profile (common/store), with migrations.
//
// Not yet encrypted at rest: the identity seed and the envelopes are stored
// as they are. The Argon2id-wrapped profile key comes in a later version; the
// seed already sits in its own table so that change touches one place.
//
// Thread affinity: one thread at a time (the engine's network thread).

#include <filesystem>
#include <memory>

#include "client/core/local_store.h"
#include "common/store/database.h"

namespace hearth::client {

/// The schema version this code writes (the number of migrations).
inline constexpr std::int64_t kProfileSchemaVersion = 1;
/// The database file inside a profile directory.
inline constexpr const char* kProfileDbName = "profile.db";

class SqliteStore final : public LocalStore {
 public:
  /// Opens or creates `file` and migrates it. Errors: the file is not a
  /// database, is unwritable, or has a newer schema (SchemaTooNew).
  [[nodiscard]] static StoreResult<std::unique_ptr<SqliteStore>> open(const std::filesystem::path& file);

  [[nodiscard]] StoreResult<std::optional<Bytes>> identity_seed() override;
  [[nodiscard]] StoreResult<void> save_identity_seed(BytesView seed) override;
  [[nodiscard]] StoreResult<std::optional<ProfileInfo>> profile() override;
  [[nodiscard]] StoreResult<void> save_profile(const ProfileInfo& p) override;
  [[nodiscard]] StoreResult<std::vector<RoomRecord>> rooms() override;
  [[nodiscard]] StoreResult<std::optional<RoomRecord>> room(const RoomId& room) override;
  [[nodiscard]] StoreResult<void> put_room(const RoomRecord& r) override;
  [[nodiscard]] StoreResult<DeliveryOutcome> store_delivery(const wire::Deliver& d,
                                                            const RoomRecord& after) override;
  [[nodiscard]] StoreResult<void> store_sent(const StoredEnvelope& e) override;
  [[nodiscard]] StoreResult<std::vector<StoredEnvelope>> envelopes(const RoomId& room, Seq after,
                                                                   std::size_t limit) override;
  [[nodiscard]] StoreResult<void> outbox_add(const PendingSend& p) override;
  [[nodiscard]] StoreResult<std::vector<PendingSend>> outbox() override;
  [[nodiscard]] StoreResult<void> outbox_remove(const EnvelopeId& id) override;

 private:
  explicit SqliteStore(store::Database db) : db_(std::move(db)) {}
  store::Database db_;
};

}  // namespace hearth::client
