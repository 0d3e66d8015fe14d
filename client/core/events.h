// SPDX-License-Identifier: Apache-2.0
#pragma once
// What the engine tells a user interface. Events are values; the engine
// pushes them from its network thread into an EventQueue, from which any
// thread may take them (the desktop bridge moves them onto the Qt thread, the
// CLI reads them on its main thread).

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "client/core/content.h"
#include "client/core/errors.h"
#include "common/types/bytes.h"
#include "common/types/ids.h"
#include "common/wire/messages.h"

namespace hearth::client {

enum class ConnectionState { Offline, Connecting, Online };
[[nodiscard]] std::string to_string(ConnectionState s);

/// An application message decrypted, checked and stored, shown for the
/// first time. `sender` is the account the message's MLS signature names
/// (the relay's claim is checked against it).
struct MessageReceived {
  RoomId room;
  Seq seq;
  AccountId sender;
  EnvelopeId envelope_id;
  std::int64_t timestamp_ms = 0;  // the relay's
  Content content;
};
/// An envelope this device could not open or apply: never silence. The
/// envelope stays in the history (an application message without its
/// plaintext); `reason` names the check that failed, never any content.
struct DecryptionFailed {
  RoomId room;
  Seq seq;
  AccountId sender;  // as the relay named it
  wire::EnvelopeKind kind = wire::EnvelopeKind::Application;
  std::string reason;
};
/// The relay stored one of our envelopes (it left the outbox).
struct MessageSent {
  RoomId room;
  EnvelopeId envelope_id;
  Seq seq;
};
/// The relay refused one of our envelopes for good; it left the outbox.
struct SendFailed {
  RoomId room;
  EnvelopeId envelope_id;
  ClientError error;
};
/// A commit changed the room's members or roles, as this device's own MLS
/// state derives it (never the relay's say-so).
struct RosterChanged {
  RoomId room;
  Seq seq;
  AccountId by;
  std::vector<wire::RosterChange> changes;
  std::uint64_t epoch = 0;  // the room's epoch after it
};
/// A member asked to leave (a self-removal proposal); the next commit by
/// any other member carries it out.
struct LeaveRequested {
  RoomId room;
  Seq seq;
  AccountId account;
};
/// The room moved to a fresh MLS group (a facilitator's reset after a
/// change some members could not apply): same room, same history, new keys.
struct RoomReset {
  RoomId room;
  Seq seq;         // the Welcome (or, for the facilitator who reset it, the Reset envelope)
  AccountId by;    // the facilitator who reset it
  std::uint64_t epoch = 0;
};
/// A member's client could not apply a change the relay had accepted (its
/// report, delivered to the whole room): the room needs a facilitator's
/// reset, or that member needs to be added again.
struct ChangeRejected {
  RoomId room;
  Seq seq;            // the report
  AccountId member;   // who could not apply it
  Seq commit_seq;     // the change it could not apply
  wire::ChangeProblem problem = wire::ChangeProblem::Invalid;
};
struct RoomJoined {
  RoomId room;
  wire::Role role = wire::Role::Member;
};
/// We were removed from the room, or left it.
struct RoomLeft {
  RoomId room;
};
struct RoomClosedEvent {
  RoomId room;
};
struct ConnectionChanged {
  ConnectionState state = ConnectionState::Offline;
  std::string reason;  // why we went offline (empty otherwise)
};
/// The backlog after (re)connecting has been stored.
struct Synced {
  std::size_t rooms = 0;
};
/// The relay named another identity key for an account than the one this
/// device pinned: either the person re-installed, or someone is in between.
/// Shown wherever that person appears until the user accepts the new key.
struct IdentityKeyChanged {
  AccountId account;
  std::string handle;
  Bytes pinned_key;
  Bytes new_key;
};
/// New KeyPackages are at the relay (a top-up of the stock others add us with).
struct KeyPackagesPublished {
  std::uint32_t stock = 0;     // one-time packages the relay now holds
  std::uint32_t added = 0;     // of them new
  bool last_resort = false;    // the last-resort package was replaced too
};
/// A message that opened but that the conversation's rules refused (an edit
/// by someone else, settings from a member, ...): it stays in the history
/// without effect. `reason` is Refusal's text (conversation.h).
struct MessageRefused {
  RoomId room;
  Seq seq;
  AccountId sender;
  std::string kind;
  std::string reason;
};
/// These messages' texts were erased from this device: redacted, or their
/// disappearing time came (also for what arrived while it was offline).
struct MessagesErased {
  RoomId room;
  std::vector<Seq> seqs;
};
/// An error with no caller to return it to (history gap, refused login while
/// reconnecting, store failure on a delivery, ...).
struct ErrorEvent {
  ClientError error;
};
/// The queue was full and this many older events were dropped. The data they
/// announced is in the local store; a UI reloads from there.
struct EventsDropped {
  std::size_t count = 0;
};

using Event = std::variant<MessageReceived, DecryptionFailed, MessageSent, SendFailed, RosterChanged, LeaveRequested,
                           RoomReset, ChangeRejected, RoomJoined, RoomLeft,
                           RoomClosedEvent, ConnectionChanged, Synced, IdentityKeyChanged, KeyPackagesPublished,
                           MessageRefused, MessagesErased, ErrorEvent, EventsDropped>;

[[nodiscard]] const char* event_name(const Event& e) noexcept;

inline constexpr std::size_t kMaxQueuedEvents = 10'000;

/// A bounded multi-producer multi-consumer queue of events. When full, the
/// oldest event is dropped and the next pop reports the count first as
/// EventsDropped, so a slow UI learns it must reload. Thread-safe.
class EventQueue {
 public:
  explicit EventQueue(std::size_t capacity = kMaxQueuedEvents) : capacity_(capacity) {}

  void push(Event e);
  [[nodiscard]] std::optional<Event> try_pop();
  /// Waits up to `timeout` for an event.
  [[nodiscard]] std::optional<Event> wait_pop(std::chrono::milliseconds timeout);
  [[nodiscard]] std::size_t size() const;

 private:
  [[nodiscard]] std::optional<Event> pop_locked();

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Event> events_;
  std::size_t dropped_ = 0;
};

}  // namespace hearth::client
