// SPDX-License-Identifier: Apache-2.0
#pragma once
// What a room's decrypted messages add up to (DESIGN.md §5): the
// conversation a member sees, folded from the hearth.v1.Content values in
// the relay's order. Every rule a reader enforces lives here, once:
//
//   text               a new entry; its reply reference is kept as sent
//   edit               only by the author of the entry, not after redaction
//   reaction           by anyone in the room, one per (member, emoji)
//   redaction          by the author, or by a facilitator for anyone's entry;
//                      the text is gone, a tombstone stays
//   room settings      only from a facilitator; a changed agreement text
//                      must come with a higher agreement version (its
//                      setter has accepted it)
//   member profile     the sender's display name in this room
//   agreement accepted the sender accepted that version (not a future one)
//   unsupported        an entry shown as "unsupported message", never dropped
//
// Disappearing messages: an entry takes the timer in force when the relay
// stored it (the relay's timestamp, not the sender's claim), so what arrived
// while this device was offline expires on time too, and a later change of
// the timer does not reach back. expire() removes what is due.
//
// A value with no I/O and no clock of its own; the engine rebuilds it from
// the stored history and feeds it each delivery. Nothing it refuses is
// silent: apply() says why, so the caller can surface it.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "client/core/content.h"
#include "common/types/ids.h"

namespace hearth::client {

/// The most entries one conversation holds in memory; when it is full the
/// oldest tenth is dropped from the view (the store keeps the history).
inline constexpr std::size_t kMaxConversationEntries = 100'000;
/// Distinct emoji reactions one entry keeps; more are refused.
inline constexpr std::size_t kMaxReactionsPerEntry = 64;

/// One decrypted message as the reader received it.
struct Incoming {
  Seq seq;                         // the relay's order in the room
  AccountId sender;                // authenticated by MLS
  bool sender_is_facilitator = false;  // in the epoch it was sent in
  std::int64_t relay_ms = 0;       // when the relay stored it
  Content content;
};

/// Why apply() did not take a message. The message stays in the history;
/// the caller shows the refusal (an event) instead of its effect.
enum class Refusal {
  DuplicateId,          // an entry with this id is in the conversation already
  UnknownTarget,        // an edit, reaction or redaction names no entry here (or one expired)
  NotAuthor,            // an edit by someone else, or a redaction by a non-author non-facilitator
  TargetRedacted,       // an edit or reaction of a redacted entry
  NotFacilitator,       // room settings from a member
  AgreementNotRaised,   // a changed agreement text with a version not above the current one
  AgreementUnknown,     // acceptance of a version that is not (yet) the room's
  TooManyReactions,     // kMaxReactionsPerEntry
  Expired,              // it had already disappeared when it arrived
};
[[nodiscard]] std::string to_string(Refusal r);

struct ConversationEntry {
  ContentId id;
  AccountId author;
  Seq seq;
  std::int64_t sent_ms = 0;   // the author's claim, shown, never used for order
  std::int64_t relay_ms = 0;
  std::string text;           // empty once redacted
  std::optional<ContentId> reply_to;
  bool edited = false;
  bool redacted = false;
  std::optional<AccountId> redacted_by;
  /// A kind this client does not know (the protobuf field number sent).
  std::optional<std::uint32_t> unsupported_field;
  /// emoji -> who reacted with it
  std::map<std::string, std::set<AccountId>> reactions;
  /// When it disappears (relay clock, ms); nullopt: it does not.
  std::optional<std::int64_t> expires_ms;
  friend bool operator==(const ConversationEntry&, const ConversationEntry&) = default;
};

/// The room's settings and who set them.
struct RoomSettingsState {
  ContentRoomSettings settings;
  std::optional<AccountId> set_by;  // nullopt: nobody set any yet
  Seq seq;
  friend bool operator==(const RoomSettingsState&, const RoomSettingsState&) = default;
};

/// What a message did, when apply() took it.
enum class Effect { Added, Edited, Reacted, Redacted, SettingsChanged, ProfileChanged, AgreementAccepted };
[[nodiscard]] std::string to_string(Effect e);

struct Applied {
  Effect effect;
  ContentId entry;  // the entry it added or changed (the Content's own id otherwise)
};

class Conversation {
 public:
  /// Applies `in` at `now_ms` (this device's clock; deliveries come in seq order).
  /// A text whose disappearing time has passed already is refused as
  /// Expired: its plaintext need not be kept at all.
  [[nodiscard]] Result<Applied, Refusal> apply(const Incoming& in, std::int64_t now_ms);

  /// Removes every entry due at `now_ms` (this device's clock); returns their ids.
  std::vector<ContentId> expire(std::int64_t now_ms);
  /// The earliest time something is due, for a timer.
  [[nodiscard]] std::optional<std::int64_t> next_expiry() const;

  [[nodiscard]] const std::vector<ConversationEntry>& entries() const noexcept { return entries_; }
  [[nodiscard]] const ConversationEntry* find(const ContentId& id) const;
  [[nodiscard]] const RoomSettingsState& settings() const noexcept { return settings_; }
  /// The display name `account` chose here (empty: show the handle).
  [[nodiscard]] std::string display_name(const AccountId& account) const;
  /// The highest agreement version `account` accepted (0: none).
  [[nodiscard]] std::uint32_t accepted_version(const AccountId& account) const;
  /// Whether `account` must accept the current agreement before it sees the
  /// conversation: the room has an agreement text and `account` has not
  /// accepted its version.
  [[nodiscard]] bool needs_agreement(const AccountId& account) const;

 private:
  ConversationEntry* find_mut(const ContentId& id);
  void reindex();
  Result<Applied, Refusal> add_entry(const Incoming& in, std::string text, std::optional<ContentId> reply_to,
                                     std::optional<std::uint32_t> unsupported);
  Result<Applied, Refusal> edit(const Incoming& in, const ContentEdit& e);
  Result<Applied, Refusal> react(const Incoming& in, const ContentReaction& r);
  Result<Applied, Refusal> redact(const Incoming& in, const ContentRedaction& r);
  Result<Applied, Refusal> set_settings(const Incoming& in, const ContentRoomSettings& s);
  Result<Applied, Refusal> accept_agreement(const Incoming& in, const ContentAgreementAccepted& a);

  std::vector<ConversationEntry> entries_;  // in seq order
  std::map<ContentId, std::size_t> index_;  // id -> position in entries_
  RoomSettingsState settings_;
  std::map<AccountId, std::string> display_names_;
  std::map<AccountId, std::uint32_t> accepted_;
};

}  // namespace hearth::client
