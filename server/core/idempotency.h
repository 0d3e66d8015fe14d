// SPDX-License-Identifier: Apache-2.0
#pragma once
// Which envelope ids a sender has already used, so a retried SendEnvelope or
// SubmitBundle gets its original answer instead of a second copy. Entries
// live as long as the relay keeps the envelope (the caller evicts them with
// retention). Pure data structure; not thread-safe.

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>

#include "common/types/ids.h"
#include "common/wire/messages.h"

namespace hearth::relay {

struct IdRecord {
  std::int64_t room_row = 0;
  Seq seq;
  wire::EnvelopeKind kind = wire::EnvelopeKind::Application;
  Epoch epoch;  // the epoch the envelope was sent in (a commit's new epoch is epoch + 1)
  bool proposal = false;  // a standalone proposal: a handshake that leaves the epoch as it was
  /// The epoch a BundleOk for this handshake names.
  [[nodiscard]] Epoch epoch_after() const noexcept { return proposal ? epoch : Epoch{epoch.v + 1}; }
};

enum class IdDecision {
  New,        // never seen: store it
  Replay,     // the same request again: answer with the recorded result
  Conflict,   // the id was used for something else (DuplicateId)
};

class IdempotencyIndex {
 public:
  /// Looks up what `sender` did with `id`, if anything.
  [[nodiscard]] const IdRecord* find(const AccountId& sender, const EnvelopeId& id) const;
  /// Decides how to treat a request that would use `id` in `room_row` as `kind`.
  [[nodiscard]] IdDecision decide(const AccountId& sender, const EnvelopeId& id, std::int64_t room_row,
                                  wire::EnvelopeKind kind) const;
  /// Records a new envelope. Precondition: decide() said New; seqs per room ascend.
  void record(const AccountId& sender, const EnvelopeId& id, const IdRecord& rec, std::int64_t timestamp_ms);
  /// Forgets the room's entries from the oldest on, while `seq <= through`
  /// or the entry is older than `before_ms`.
  void evict(std::int64_t room_row, Seq through, std::int64_t before_ms);
  /// Forgets everything about a room (closed).
  void erase_room(std::int64_t room_row);
  [[nodiscard]] std::size_t size() const noexcept { return map_.size(); }

 private:
  using Key = std::array<std::uint8_t, 2 * wire::kEnvelopeIdSize>;
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  struct Entry {
    Seq seq;
    std::int64_t timestamp_ms;
    Key key;
  };
  [[nodiscard]] static std::optional<Key> make_key(const AccountId& sender, const EnvelopeId& id);

  std::unordered_map<Key, IdRecord, KeyHash> map_;
  std::unordered_map<std::int64_t, std::deque<Entry>> by_room_;
};

}  // namespace hearth::relay
