// SPDX-License-Identifier: Apache-2.0
#include "client/core/memory_store.h"

#include <algorithm>

namespace hearth::client {

std::string to_string(RoomStatus s) {
  switch (s) {
    case RoomStatus::Active: return "active";
    case RoomStatus::Left: return "left";
    case RoomStatus::Closed: return "closed";
  }
  return "unknown";
}

StoreResult<std::optional<Bytes>> MemoryStore::identity_seed() { return seed_; }

StoreResult<void> MemoryStore::save_identity_seed(BytesView seed) {
  seed_ = Bytes(seed.begin(), seed.end());
  return {};
}

StoreResult<std::optional<ProfileInfo>> MemoryStore::profile() { return profile_; }

StoreResult<void> MemoryStore::save_profile(const ProfileInfo& p) {
  profile_ = p;
  return {};
}

StoreResult<std::vector<RoomRecord>> MemoryStore::rooms() {
  std::vector<RoomRecord> out;
  for (const auto& [id, r] : rooms_) out.push_back(r);
  return out;
}

StoreResult<std::optional<RoomRecord>> MemoryStore::room(const RoomId& room) {
  auto it = rooms_.find(room);
  if (it == rooms_.end()) return std::optional<RoomRecord>{};
  return std::optional<RoomRecord>{it->second};
}

StoreResult<void> MemoryStore::put_room(const RoomRecord& r) {
  auto it = rooms_.find(r.room);
  RoomRecord next = r;
  if (it != rooms_.end()) next.cursor = std::max(it->second.cursor, r.cursor);
  rooms_[r.room] = next;
  return {};
}

StoreResult<DeliveryOutcome> MemoryStore::store_delivery(const wire::Deliver& d, const RoomRecord& after,
                                                         const DeliveryWrite& write) {
  auto it = rooms_.find(d.room);
  if (it != rooms_.end() && d.seq <= it->second.cursor) return DeliveryOutcome::Duplicate;
  const auto key = std::make_pair(d.room, d.seq.v);
  const bool known = envelopes_.contains(key);
  if (!known) {
    envelopes_[key] = StoredEnvelope{d.room,         d.seq,       d.kind,
                                     d.sender,       d.envelope_id, d.epoch,
                                     d.timestamp_ms, write.payload ? *write.payload : d.payload,
                                     write.sender_facilitator};
  }
  if (write.group_state) group_states_.insert_or_assign(d.room, *write.group_state);
  RoomRecord next = after;
  next.cursor = std::max(after.cursor, d.seq);
  return put_room(next).map([known] { return known ? DeliveryOutcome::Duplicate : DeliveryOutcome::Stored; });
}

StoreResult<void> MemoryStore::store_sent(const StoredEnvelope& e) {
  envelopes_.try_emplace(std::make_pair(e.room, e.seq.v), e);
  return {};
}

StoreResult<void> MemoryStore::erase_payloads(const RoomId& room, const std::vector<Seq>& seqs) {
  for (const Seq seq : seqs) {
    if (auto it = envelopes_.find(std::make_pair(room, seq.v)); it != envelopes_.end()) it->second.payload.clear();
  }
  return {};
}

StoreResult<std::vector<StoredEnvelope>> MemoryStore::envelopes(const RoomId& room, Seq after, std::size_t limit) {
  std::vector<StoredEnvelope> out;
  for (auto it = envelopes_.upper_bound({room, after.v}); it != envelopes_.end() && out.size() < limit; ++it) {
    if (it->first.first != room) break;
    out.push_back(it->second);
  }
  return out;
}

StoreResult<void> MemoryStore::outbox_add(const PendingSend& p) {
  for (const auto& [pos, e] : outbox_) {
    if (e.envelope_id == p.envelope_id) return fail(StoreError{store::StoreCode::Constraint, "envelope id already queued"});
  }
  outbox_[next_position_++] = p;
  return {};
}

StoreResult<std::vector<PendingSend>> MemoryStore::outbox() {
  std::vector<PendingSend> out;
  for (const auto& [pos, e] : outbox_) out.push_back(e);
  return out;
}

StoreResult<void> MemoryStore::save_encrypted(const EnvelopeId& id, const EncryptedSend& encrypted,
                                             BytesView group_state) {
  for (auto& [pos, e] : outbox_) {
    if (e.envelope_id != id) continue;
    e.encrypted = encrypted;
    group_states_.insert_or_assign(e.room, Bytes(group_state.begin(), group_state.end()));
    return {};
  }
  return fail(StoreError{store::StoreCode::Constraint, "no such outbox entry"});
}

StoreResult<void> MemoryStore::outbox_remove(const EnvelopeId& id) {
  std::erase_if(outbox_, [&](const auto& kv) { return kv.second.envelope_id == id; });
  return {};
}

StoreResult<void> MemoryStore::add_key_packages(const std::vector<StoredKeyPackage>& packages) {
  auto next = key_packages_;  // all or none
  for (const auto& p : packages) {
    if (!next.emplace(p.ref, p).second) {
      return fail(StoreError{store::StoreCode::Constraint, "key package stored already"});
    }
  }
  key_packages_ = std::move(next);
  return {};
}

StoreResult<std::vector<StoredKeyPackage>> MemoryStore::key_packages() {
  std::vector<StoredKeyPackage> out;
  for (const auto& [ref, p] : key_packages_) out.push_back(p);
  return out;
}

StoreResult<void> MemoryStore::remove_key_package(BytesView ref) {
  key_packages_.erase(Bytes(ref.begin(), ref.end()));
  return {};
}

StoreResult<std::optional<PinnedKey>> MemoryStore::pinned_key(const AccountId& account) {
  auto it = pins_.find(account);
  if (it == pins_.end()) return std::optional<PinnedKey>{};
  return std::optional<PinnedKey>{it->second};
}

StoreResult<void> MemoryStore::put_pinned_key(const PinnedKey& pin) {
  pins_.insert_or_assign(pin.account, pin);
  return {};
}

StoreResult<std::optional<Bytes>> MemoryStore::group_state(const RoomId& room) {
  auto it = group_states_.find(room);
  if (it == group_states_.end()) return std::optional<Bytes>{};
  return std::optional<Bytes>{it->second};
}

StoreResult<void> MemoryStore::put_group_state(const RoomId& room, BytesView state) {
  group_states_.insert_or_assign(room, Bytes(state.begin(), state.end()));
  return {};
}

StoreResult<void> MemoryStore::remove_group_state(const RoomId& room) {
  group_states_.erase(room);
  return {};
}

StoreResult<std::optional<PendingChange>> MemoryStore::pending_change(const RoomId& room) {
  auto it = pending_changes_.find(room);
  if (it == pending_changes_.end()) return std::optional<PendingChange>{};
  return std::optional<PendingChange>{it->second};
}

StoreResult<void> MemoryStore::put_pending_change(const RoomId& room, const PendingChange& change) {
  pending_changes_.insert_or_assign(room, change);
  return {};
}

StoreResult<void> MemoryStore::remove_pending_change(const RoomId& room) {
  pending_changes_.erase(room);
  return {};
}

StoreResult<KeyRefresh> MemoryStore::key_refresh(const RoomId& room) {
  auto it = key_refreshes_.find(room);
  return it == key_refreshes_.end() ? KeyRefresh{} : it->second;
}

StoreResult<void> MemoryStore::put_key_refresh(const RoomId& room, const KeyRefresh& r) {
  key_refreshes_.insert_or_assign(room, r);
  return {};
}

}  // namespace hearth::client
