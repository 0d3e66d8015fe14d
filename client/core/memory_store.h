// SPDX-License-Identifier: Apache-2.0
#pragma once
// LocalStore in memory, for tests. Same contract as SqliteStore, no file.

#include <map>
#include <utility>

#include "client/core/local_store.h"

namespace hearth::client {

class MemoryStore final : public LocalStore {
 public:
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
  std::optional<Bytes> seed_;
  std::optional<ProfileInfo> profile_;
  std::map<RoomId, RoomRecord> rooms_;
  std::map<std::pair<RoomId, std::uint64_t>, StoredEnvelope> envelopes_;
  std::uint64_t next_position_ = 0;
  std::map<std::uint64_t, PendingSend> outbox_;  // by insertion position
  std::map<Bytes, StoredKeyPackage> key_packages_;  // by ref
  std::map<AccountId, PinnedKey> pins_;
  std::map<RoomId, Bytes> group_states_;
  std::map<RoomId, KeyRefresh> key_refreshes_;
  std::map<RoomId, PendingChange> pending_changes_;
};

}  // namespace hearth::client
