// SPDX-License-Identifier: Apache-2.0
#include "server/core/idempotency.h"

#include <algorithm>
#include <cstring>

namespace hearth::relay {

std::size_t IdempotencyIndex::KeyHash::operator()(const Key& k) const noexcept {
  // The envelope id is client-chosen random bytes; FNV-1a over the whole key
  // keeps a client that picks colliding ids to the cost of its own lookups.
  std::size_t h = 1469598103934665603ULL;
  for (auto b : k) h = (h ^ b) * 1099511628211ULL;
  return h;
}

std::optional<IdempotencyIndex::Key> IdempotencyIndex::make_key(const AccountId& sender, const EnvelopeId& id) {
  if (sender.v.size() != wire::kAccountIdSize || id.v.size() != wire::kEnvelopeIdSize) return std::nullopt;
  Key k{};
  std::memcpy(k.data(), sender.v.data(), wire::kAccountIdSize);
  std::memcpy(k.data() + wire::kAccountIdSize, id.v.data(), wire::kEnvelopeIdSize);
  return k;
}

const IdRecord* IdempotencyIndex::find(const AccountId& sender, const EnvelopeId& id) const {
  auto key = make_key(sender, id);
  if (!key) return nullptr;
  auto it = map_.find(*key);
  return it == map_.end() ? nullptr : &it->second;
}

IdDecision IdempotencyIndex::decide(const AccountId& sender, const EnvelopeId& id, std::int64_t room_row,
                                    wire::EnvelopeKind kind) const {
  const IdRecord* rec = find(sender, id);
  if (rec == nullptr) return IdDecision::New;
  if (rec->room_row == room_row && rec->kind == kind) return IdDecision::Replay;
  return IdDecision::Conflict;
}

void IdempotencyIndex::record(const AccountId& sender, const EnvelopeId& id, const IdRecord& rec,
                              std::int64_t timestamp_ms) {
  auto key = make_key(sender, id);
  if (!key) return;
  map_.insert_or_assign(*key, rec);
  by_room_[rec.room_row].push_back(Entry{rec.seq, timestamp_ms, *key});
}

void IdempotencyIndex::evict(std::int64_t room_row, Seq through, std::int64_t before_ms) {
  auto it = by_room_.find(room_row);
  if (it == by_room_.end()) return;
  auto& entries = it->second;
  while (!entries.empty() && (entries.front().seq <= through || entries.front().timestamp_ms < before_ms)) {
    map_.erase(entries.front().key);
    entries.pop_front();
  }
  if (entries.empty()) by_room_.erase(it);
}

void IdempotencyIndex::erase_room(std::int64_t room_row) {
  auto it = by_room_.find(room_row);
  if (it == by_room_.end()) return;
  for (const auto& e : it->second) map_.erase(e.key);
  by_room_.erase(it);
}

}  // namespace hearth::relay
