// SPDX-License-Identifier: Apache-2.0
#pragma once
// LocalStore on one SQLite file per profile (common/store), with migrations.
//
// Sealed at rest (DESIGN.md §7): the identity seed, the profile (relay,
// account, handle) and every envelope and outbox payload are sealed under
// the profile key (profile_key.h), which the file holds only wrapped under
// the passphrase. What stays in clear is what the relay knows anyway: room
// ids, epochs, sequence numbers, sender account ids, timestamps and roles.
// secure_delete is on and the journal is a rollback journal, so a deleted or
// replaced record leaves no old page in the file or in a WAL.
//
// Thread affinity: one thread at a time (the engine's network thread).

#include <filesystem>
#include <memory>

#include "client/core/local_store.h"
#include "client/core/profile_key.h"
#include "common/store/database.h"

namespace hearth::client {

/// The schema version this code writes (the number of migrations).
inline constexpr std::int64_t kProfileSchemaVersion = 9;
/// The database file inside a profile directory.
inline constexpr const char* kProfileDbName = "profile.db";

class SqliteStore final : public LocalStore {
 public:
  /// Opens or creates `file`, migrates it and unlocks it with `passphrase`.
  /// A new profile (or one written before profiles were sealed) gets a fresh
  /// profile key wrapped with `new_profile_kdf`; an existing one keeps the
  /// cost it was wrapped with. Errors: the file is not a database, is
  /// unwritable, or has a newer schema (SchemaTooNew); WrongPassphrase;
  /// InvalidPassphrase (empty or too long); KdfFailed.
  [[nodiscard]] static StoreResult<std::unique_ptr<SqliteStore>> open(
      const std::filesystem::path& file, std::string_view passphrase,
      const crypto::Argon2Params& new_profile_kdf = kDefaultProfileKdf);

  /// Rewraps the profile key under a new passphrase; nothing else changes.
  [[nodiscard]] StoreResult<void> change_passphrase(std::string_view passphrase,
                                                    const crypto::Argon2Params& kdf = kDefaultProfileKdf);

  [[nodiscard]] StoreResult<std::optional<Bytes>> identity_seed() override;
  [[nodiscard]] StoreResult<void> save_identity_seed(BytesView seed) override;
  [[nodiscard]] StoreResult<std::optional<ProfileInfo>> profile() override;
  [[nodiscard]] StoreResult<void> save_profile(const ProfileInfo& p) override;
  [[nodiscard]] StoreResult<std::vector<RoomRecord>> rooms() override;
  [[nodiscard]] StoreResult<std::optional<RoomRecord>> room(const RoomId& room) override;
  [[nodiscard]] StoreResult<void> put_room(const RoomRecord& r) override;
  using LocalStore::store_delivery;
  [[nodiscard]] StoreResult<DeliveryOutcome> store_delivery(const wire::Deliver& d, const RoomRecord& after,
                                                            const DeliveryWrite& write) override;
  [[nodiscard]] StoreResult<void> store_sent(const StoredEnvelope& e) override;
  [[nodiscard]] StoreResult<void> erase_payloads(const RoomId& room, const std::vector<Seq>& seqs) override;
  [[nodiscard]] StoreResult<std::vector<StoredEnvelope>> envelopes(const RoomId& room, Seq after,
                                                                   std::size_t limit) override;
  [[nodiscard]] StoreResult<void> outbox_add(const PendingSend& p) override;
  [[nodiscard]] StoreResult<std::vector<PendingSend>> outbox() override;
  [[nodiscard]] StoreResult<void> save_encrypted(const EnvelopeId& id, const EncryptedSend& encrypted,
                                                 BytesView group_state) override;
  [[nodiscard]] StoreResult<void> outbox_remove(const EnvelopeId& id) override;
  [[nodiscard]] StoreResult<void> add_key_packages(const std::vector<StoredKeyPackage>& packages) override;
  [[nodiscard]] StoreResult<std::vector<StoredKeyPackage>> key_packages() override;
  [[nodiscard]] StoreResult<void> remove_key_package(BytesView ref) override;
  [[nodiscard]] StoreResult<std::optional<Bytes>> group_state(const RoomId& room) override;
  [[nodiscard]] StoreResult<void> put_group_state(const RoomId& room, BytesView state) override;
  [[nodiscard]] StoreResult<void> remove_group_state(const RoomId& room) override;
  [[nodiscard]] StoreResult<std::optional<PendingChange>> pending_change(const RoomId& room) override;
  [[nodiscard]] StoreResult<void> put_pending_change(const RoomId& room, const PendingChange& change) override;
  [[nodiscard]] StoreResult<void> remove_pending_change(const RoomId& room) override;
  [[nodiscard]] StoreResult<KeyRefresh> key_refresh(const RoomId& room) override;
  [[nodiscard]] StoreResult<void> put_key_refresh(const RoomId& room, const KeyRefresh& r) override;
  [[nodiscard]] StoreResult<std::optional<PinnedKey>> pinned_key(const AccountId& account) override;
  [[nodiscard]] StoreResult<void> put_pinned_key(const PinnedKey& pin) override;

 private:
  SqliteStore(store::Database db, ProfileKey key) : db_(std::move(db)), key_(std::move(key)) {}
  /// Inserts a sealed envelope unless (room, seq) is stored; true when inserted.
  [[nodiscard]] StoreResult<void> write_ciphertext(const EnvelopeId& id, const EncryptedSend& encrypted);
  [[nodiscard]] StoreResult<bool> insert_envelope(const StoredEnvelope& e);
  store::Database db_;
  ProfileKey key_;
};

}  // namespace hearth::client
