// SPDX-License-Identifier: Apache-2.0
#pragma once
// The client's local state, behind a small interface the engine owns:
// SqliteStore (one SQLite file per profile) in production, MemoryStore in
// tests. Every method is called on the engine's network thread only; an
// implementation need not be thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/store/error.h"
#include "common/types/bytes.h"
#include "common/types/ids.h"
#include "common/wire/messages.h"

namespace hearth::client {

using store::StoreError;
template <class T>
using StoreResult = store::StoreResult<T>;

/// Where the relay is and who we are on it.
struct ProfileInfo {
  std::string relay_host;
  std::uint16_t relay_port = 0;
  Bytes spki_pin;      // SHA-256 of the relay's SPKI; empty = verify with the system CA store
  AccountId account;   // empty until registered
  std::string handle;
  friend bool operator==(const ProfileInfo&, const ProfileInfo&) = default;
};

enum class RoomStatus : std::uint8_t { Active = 1, Left = 2, Closed = 3 };
[[nodiscard]] std::string to_string(RoomStatus s);

struct RoomRecord {
  RoomId room;
  Epoch epoch;           // the current epoch as far as this device knows
  wire::Role role = wire::Role::Member;
  RoomStatus status = RoomStatus::Active;
  Seq cursor;            // the highest seq stored for this room
  friend bool operator==(const RoomRecord&, const RoomRecord&) = default;
};

/// An envelope as received from the relay and stored.
struct StoredEnvelope {
  RoomId room;
  Seq seq;
  wire::EnvelopeKind kind = wire::EnvelopeKind::Application;
  AccountId sender;
  EnvelopeId envelope_id;
  Epoch epoch;
  std::int64_t timestamp_ms = 0;
  Bytes payload;
  /// Whether its sender was a facilitator of the epoch it was opened in
  /// (what the room's rules judged it by; nullopt for an envelope stored
  /// before this was kept, or not a message).
  std::optional<bool> sender_facilitator = std::nullopt;
  friend bool operator==(const StoredEnvelope&, const StoredEnvelope&) = default;
};

/// An outbox entry as encrypted for one epoch: the exact bytes every retry
/// re-sends (the relay refuses an envelope id reused for other bytes).
struct EncryptedSend {
  Epoch epoch;
  Bytes payload;
  friend bool operator==(const EncryptedSend&, const EncryptedSend&) = default;
};

/// An envelope written locally before it is sent, removed once the relay
/// acknowledged it (SendOk) or refused it for good. `payload` is the
/// plaintext, kept so the message can be encrypted again for a later epoch.
struct PendingSend {
  EnvelopeId envelope_id;
  RoomId room;
  Bytes payload;
  std::int64_t created_ms = 0;
  std::optional<EncryptedSend> encrypted = std::nullopt;
  friend bool operator==(const PendingSend&, const PendingSend&) = default;
};

enum class DeliveryOutcome { Stored, Duplicate };

/// What processing a delivery produced, stored with it in one transaction
/// (DESIGN.md §7: a message's plaintext, the group state it advanced and the
/// cursor together, so a crash can neither lose the one nor replay the other).
struct DeliveryWrite {
  std::optional<Bytes> payload;      // kept instead of the envelope's: the plaintext
  std::optional<Bytes> group_state;  // the room's MLS state after it
  std::optional<bool> sender_facilitator = std::nullopt;  // StoredEnvelope::sender_facilitator
};

/// Another account's identity key as this device first saw it (trust on
/// first use); a different key later is an IdentityChanged error and event.
struct PinnedKey {
  AccountId account;
  Bytes identity_key;
  std::int64_t pinned_ms = 0;
  bool verified = false;  // the user compared safety numbers and confirmed them
  friend bool operator==(const PinnedKey&, const PinnedKey&) = default;
};

/// One of our KeyPackages with the private keys a Welcome to it needs
/// (client/core/key_packages.h encodes the bundle). Kept until it expires or
/// is used to join.
struct StoredKeyPackage {
  Bytes ref;                   // KeyPackageRef
  Bytes bundle;                // encoded KeyPackage and private keys (a secret)
  bool last_resort = false;
  std::uint64_t not_after = 0;  // Unix seconds
  friend bool operator==(const StoredKeyPackage&, const StoredKeyPackage&) = default;
};

/// When this device last refreshed its own keys in a room (a commit of ours
/// with a path) and how many messages it sent since: the engine commits
/// again when either passes its bound (EngineOptions::key_refresh).
struct KeyRefresh {
  std::int64_t refreshed_ms = 0;  // 0 = not yet known (set when first looked at)
  std::uint32_t sent = 0;
  friend bool operator==(const KeyRefresh&, const KeyRefresh&) = default;
};

/// A change of ours sent to the relay and not yet adopted here (a commit or
/// a reset): the relay may have taken it even if its answer never came.
/// When the relay's echo of that envelope arrives, also after a restart,
/// the device goes on from `state`; any other change makes it void.
struct PendingChange {
  EnvelopeId envelope_id;
  Bytes state;  // the group state after it: secrets
  friend bool operator==(const PendingChange&, const PendingChange&) = default;
};

class LocalStore {
 public:
  virtual ~LocalStore() = default;

  // ---- device identity (kept apart from the rest so it can be encrypted later) ----
  [[nodiscard]] virtual StoreResult<std::optional<Bytes>> identity_seed() = 0;
  [[nodiscard]] virtual StoreResult<void> save_identity_seed(BytesView seed) = 0;

  // ---- profile ----
  /// nullopt until save_profile() was called once.
  [[nodiscard]] virtual StoreResult<std::optional<ProfileInfo>> profile() = 0;
  [[nodiscard]] virtual StoreResult<void> save_profile(const ProfileInfo& p) = 0;

  // ---- rooms and received envelopes ----
  [[nodiscard]] virtual StoreResult<std::vector<RoomRecord>> rooms() = 0;
  [[nodiscard]] virtual StoreResult<std::optional<RoomRecord>> room(const RoomId& room) = 0;
  /// Inserts or replaces the room's epoch, role and status; the cursor never
  /// moves backwards (the stored cursor is kept when it is higher).
  [[nodiscard]] virtual StoreResult<void> put_room(const RoomRecord& r) = 0;
  /// In one transaction: stores the envelope and writes `after` (the room
  /// with its cursor at d.seq). Duplicate when d.seq is at or below the
  /// cursor (nothing changes) or when (room, seq) is already stored, e.g. our
  /// own envelope recorded by store_sent() (then only `after` is written, so
  /// the cursor moves past it).
  [[nodiscard]] StoreResult<DeliveryOutcome> store_delivery(const wire::Deliver& d, const RoomRecord& after) {
    return store_delivery(d, after, DeliveryWrite{});
  }
  /// The same, with what processing the envelope produced (nothing of it is
  /// written for a Duplicate at or below the cursor).
  [[nodiscard]] virtual StoreResult<DeliveryOutcome> store_delivery(const wire::Deliver& d, const RoomRecord& after,
                                                                    const DeliveryWrite& write) = 0;
  /// Records our own envelope at the seq the relay gave it, without moving
  /// the cursor (earlier seqs may still be on their way). Idempotent.
  [[nodiscard]] virtual StoreResult<void> store_sent(const StoredEnvelope& e) = 0;
  /// Erases the payloads (plaintext) of these stored envelopes of `room`, in
  /// one transaction: a message that disappeared or was redacted. The
  /// envelopes stay (empty) so the history keeps its order and the cursor
  /// its meaning; the old bytes are gone from the file. Seqs not stored are
  /// skipped.
  [[nodiscard]] virtual StoreResult<void> erase_payloads(const RoomId& room, const std::vector<Seq>& seqs) = 0;
  /// Stored envelopes of a room with seq > `after`, in seq order, at most `limit`.
  [[nodiscard]] virtual StoreResult<std::vector<StoredEnvelope>> envelopes(const RoomId& room, Seq after,
                                                                           std::size_t limit) = 0;

  // ---- outbox ----
  /// Adds an envelope before it is sent. Adding an id twice is a Constraint error.
  [[nodiscard]] virtual StoreResult<void> outbox_add(const PendingSend& p) = 0;
  /// All pending envelopes, oldest first.
  [[nodiscard]] virtual StoreResult<std::vector<PendingSend>> outbox() = 0;
  /// In one transaction: the entry's ciphertext for `encrypted.epoch` and its
  /// room's group state after encrypting it, so the ratchet step is saved
  /// before the ciphertext leaves (DESIGN.md §7). Constraint when the entry
  /// is no longer in the outbox.
  [[nodiscard]] virtual StoreResult<void> save_encrypted(const EnvelopeId& id, const EncryptedSend& encrypted,
                                                         BytesView group_state) = 0;
  /// Removing an id that is not there is not an error (a retry's SendOk).
  [[nodiscard]] virtual StoreResult<void> outbox_remove(const EnvelopeId& id) = 0;

  // ---- our KeyPackages ----
  /// Adds packages in one transaction (all or none); a ref stored already is
  /// a Constraint error.
  [[nodiscard]] virtual StoreResult<void> add_key_packages(const std::vector<StoredKeyPackage>& packages) = 0;
  /// All stored packages, in no particular order.
  [[nodiscard]] virtual StoreResult<std::vector<StoredKeyPackage>> key_packages() = 0;
  /// Removing a ref that is not there is not an error.
  [[nodiscard]] virtual StoreResult<void> remove_key_package(BytesView ref) = 0;

  // ---- MLS group states (room_group.h), one per room: secrets ----
  [[nodiscard]] virtual StoreResult<std::optional<Bytes>> group_state(const RoomId& room) = 0;
  /// Inserts or replaces the room's state; the replaced one is gone from the store.
  [[nodiscard]] virtual StoreResult<void> put_group_state(const RoomId& room, BytesView state) = 0;
  /// Removing a state that is not there is not an error.
  [[nodiscard]] virtual StoreResult<void> remove_group_state(const RoomId& room) = 0;

  // ---- our change on its way, at most one per room: secrets ----
  [[nodiscard]] virtual StoreResult<std::optional<PendingChange>> pending_change(const RoomId& room) = 0;
  /// Inserts or replaces it; the replaced one is gone from the store.
  [[nodiscard]] virtual StoreResult<void> put_pending_change(const RoomId& room, const PendingChange& change) = 0;
  /// Removing a change that is not there is not an error.
  [[nodiscard]] virtual StoreResult<void> remove_pending_change(const RoomId& room) = 0;

  // ---- own key refreshes, one record per room ----
  /// A room never recorded reads as KeyRefresh{}.
  [[nodiscard]] virtual StoreResult<KeyRefresh> key_refresh(const RoomId& room) = 0;
  [[nodiscard]] virtual StoreResult<void> put_key_refresh(const RoomId& room, const KeyRefresh& r) = 0;

  // ---- pinned identity keys ----
  [[nodiscard]] virtual StoreResult<std::optional<PinnedKey>> pinned_key(const AccountId& account) = 0;
  /// Inserts or replaces the account's pin.
  [[nodiscard]] virtual StoreResult<void> put_pinned_key(const PinnedKey& pin) = 0;
};

}  // namespace hearth::client
