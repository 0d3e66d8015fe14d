// SPDX-License-Identifier: Apache-2.0
#pragma once
// The client engine: one relay connection with login, sync, reconnect, an
// outbox that survives restarts, and an event stream. No Qt; the desktop app
// and hearth-cli are thin shells over it.
//
// Thread affinity: the engine runs its own network thread (one io_context).
// Every public method is thread-safe: it posts work to that thread and
// returns a std::future that the network thread completes. The LocalStore is
// used on the network thread only. Events are pushed from the network thread
// into events(), which any thread may drain.
//
// Session, repeated with bounded jittered backoff while `reconnect` is on:
//
//   connect + TLS (pin or CA) -> Hello/HelloOk
//     -> Register/RegisterOk (first time, from an invite)
//      | LoginStart/LoginChallenge/LoginProof/LoginOk
//   -> Sync{local cursors} -> Deliver... (backlog) -> SyncOk -> [online]
//   -> re-send the outbox (same envelope ids) -> live Deliver pushes
//   -> Ack{cursors} in batches (AckBatcher)
//
// A send is written to the outbox before it leaves, and removed on SendOk;
// the relay returns the original seq for a retried envelope id, so nothing is
// sent twice and nothing acknowledged is lost. Deliveries are stored with the
// room cursor in one transaction and dropped when (room, seq) is known.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "client/core/conversation.h"
#include "client/core/errors.h"
#include "client/core/events.h"
#include "client/core/key_packages.h"
#include "client/core/local_store.h"
#include "client/core/profile_key.h"
#include "client/core/room_group.h"
#include "client/core/transport.h"
#include "common/types/clock.h"

namespace hearth::client {

/// Envelopes waiting in the outbox before send() refuses more.
inline constexpr std::size_t kMaxOutboxSize = 1000;
/// How often a bundle or send is rebuilt on a newer epoch before giving up.
inline constexpr int kMaxEpochRetries = 3;
/// Room ids this client generates (within wire's 16..64).
inline constexpr std::size_t kRoomIdSize = 32;
/// A Ping goes out after this long without hearing from the relay...
inline constexpr std::int64_t kPingIntervalMs = 20'000;
/// ...and the connection is dropped (and resumed from the cursors) after this long.
inline constexpr std::int64_t kIdleTimeoutMs = 60'000;
/// Delay before re-sending an envelope the relay refused for a passing reason
/// (RateLimited, Internal, ShuttingDown, no answer in time).
inline constexpr std::int64_t kSendRetryDelayMs = 1'000;

/// A member refreshes its own keys in a room (a commit with a path) at
/// least this often and after this many messages sent (DESIGN.md §5: post-
/// compromise security needs fresh leaf keys).
inline constexpr std::chrono::milliseconds kKeyRefreshInterval{7LL * 24 * 3600 * 1000};
inline constexpr std::uint32_t kKeyRefreshMessages = 100;

struct KeyRefreshPolicy {
  std::chrono::milliseconds interval = kKeyRefreshInterval;
  std::uint32_t messages = kKeyRefreshMessages;
};

struct EngineOptions {
  std::string client_name = "hearth-core";
  /// Keep reconnecting (with backoff) after a lost connection or a failed
  /// attempt. Off: the first failure ends the session (scripts, one-shot CLI).
  bool reconnect = true;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{30'000};
  /// Defaults to the system clock; tests may pass their own (not owned).
  const Clock* clock = nullptr;
  /// How connections are made; empty = TLS (tls_transport()). Tests pass
  /// an in-memory transport.
  TransportFactory transport;
  /// Argon2id cost for wrapping the key of a profile created by
  /// open_profile(); an existing profile keeps its own. Tests lower it.
  crypto::Argon2Params profile_kdf = kDefaultProfileKdf;
  /// How many KeyPackages to keep at the relay (key_packages.h).
  KeyPackagePolicy key_packages;
  /// When to refresh our own keys in each room.
  KeyRefreshPolicy key_refresh;
  /// Tests of what the other members and the relay must survive (a broken
  /// or hostile client): every commit this engine submits passes through
  /// it on the way out; the engine goes on from the state it built. Empty
  /// in every real client.
  std::function<void(Bytes& commit)> commit_fault;
};

/// The safety number we share with another account (safety_number.h).
struct SafetyNumber {
  AccountId account;
  std::string handle;
  std::string digits;     // 12 groups of 5 digits
  bool verified = false;  // confirmed with verify_safety_number()
};

/// The outcome of a KeyPackage top-up.
struct KeyPackageStock {
  std::uint32_t relay_stock = 0;  // one-time packages the relay holds now
  std::uint32_t added = 0;        // published by this top-up
  bool last_resort = false;       // a new last-resort package was published
};

/// A room's conversation as this device shows it (conversation.h).
struct RoomView {
  RoomSettingsState settings;
  /// The room has an agreement we have not accepted (its current version):
  /// show settings.agreement_text and ask; `entries` is empty until then.
  bool needs_agreement = false;
  std::vector<ConversationEntry> entries;
  std::map<AccountId, std::string> display_names;  // of the entries' authors, where set
};

struct SendReceipt {
  EnvelopeId envelope_id;
  Seq seq;
};

class Engine {
 public:
  /// Opens (creating when needed) the profile directory `dir` and its
  /// database, sealed under `passphrase` (a new profile takes it as its
  /// passphrase). Errors: Passphrase (wrong, empty or too long), Store
  /// (corrupt, unwritable, newer schema).
  [[nodiscard]] static ClientResult<std::unique_ptr<Engine>> open_profile(const std::filesystem::path& dir,
                                                                          std::string_view passphrase,
                                                                          EngineOptions options = {});

  Engine(std::unique_ptr<LocalStore> store, EngineOptions options);
  /// Stops (see stop()).
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// The event stream (thread-safe).
  [[nodiscard]] EventQueue& events() noexcept;

  /// Registers with the relay named by `invite` under `handle` and stays
  /// connected (logged in, synced). Creates the device key on first use.
  /// `system_ca` verifies the relay with the CA store instead of the pin.
  /// Errors: InvalidInvite, InvalidArgument, AlreadyRegistered, connection
  /// errors, AuthFailed (InviteInvalid, HandleTaken, AuthFailed from the relay).
  [[nodiscard]] std::future<ClientResult<AccountId>> register_account(std::string invite, std::string handle,
                                                                      bool system_ca = false);
  /// Connects and logs in with the stored account; completes once the backlog
  /// is synced (online), or with the error that ended the session (always for
  /// AuthFailed / PinMismatch / NotRegistered; for any failure when
  /// `reconnect` is off). Calling it while running joins the same session.
  [[nodiscard]] std::future<ClientResult<void>> start();

  // ---- requests (need the engine online; fail with Disconnected otherwise) ----
  /// Creates a room with a fresh random id; we are its facilitator.
  [[nodiscard]] std::future<ClientResult<RoomId>> create_room(std::uint64_t lifetime_ms = 0);
  /// Adds the account with `handle` (a bundle with a Welcome for it).
  [[nodiscard]] std::future<ClientResult<Seq>> add_member(RoomId room, std::string handle);
  [[nodiscard]] std::future<ClientResult<Seq>> remove_member(RoomId room, std::string handle);
  /// Asks to leave the room: a self-removal proposal that the next commit
  /// of another member carries out (RoomLeft then). The only facilitator of
  /// a room with others in it cannot leave (InvalidArgument).
  [[nodiscard]] std::future<ClientResult<Seq>> leave_room(RoomId room);
  /// Facilitator: moves the room to a fresh MLS group with the same members
  /// and roles (a new group id; the room, its history and cursors stay),
  /// for a room that a change some members could not apply has stuck
  /// (ChangeRejected). Every member's client switches on its Welcome
  /// (RoomReset); unsent messages are encrypted again for the new group.
  /// Returns the Reset envelope's seq. NotAllowed for a member.
  [[nodiscard]] std::future<ClientResult<Seq>> reset_room(RoomId room);
  /// Makes a member a facilitator, or a facilitator a member again
  /// (facilitators; the room always keeps one).
  [[nodiscard]] std::future<ClientResult<Seq>> set_role(RoomId room, std::string handle, wire::Role role);
  /// Refreshes our keys in the room (a commit with a path), committing any
  /// leave proposals of this epoch too.
  [[nodiscard]] std::future<ClientResult<Seq>> refresh_keys(RoomId room);
  /// This epoch's safety code: everyone in the room on it sees the same digits.
  [[nodiscard]] std::future<ClientResult<std::string>> safety_code(RoomId room);
  /// The room's members as this device's group state holds them.
  [[nodiscard]] std::future<ClientResult<std::vector<RoomMember>>> members(RoomId room);
  [[nodiscard]] std::future<ClientResult<void>> close_room(RoomId room);
  [[nodiscard]] std::future<ClientResult<wire::Roster>> roster(RoomId room);
  /// The account with `handle`. Its identity key is pinned on first sight;
  /// a different key later fails with IdentityChanged (and an
  /// IdentityKeyChanged event) until accept_identity_key().
  [[nodiscard]] std::future<ClientResult<wire::AccountInfo>> lookup(std::string handle);
  /// Our safety number with `handle` (lookup's errors).
  [[nodiscard]] std::future<ClientResult<SafetyNumber>> safety_number(std::string handle);
  /// Marks `handle`'s pinned key verified when `digits` (spaces ignored) is
  /// our safety number with it; InvalidArgument when it is not.
  [[nodiscard]] std::future<ClientResult<SafetyNumber>> verify_safety_number(std::string handle, std::string digits);
  /// Pins the key the relay now names for `handle` (after IdentityChanged),
  /// not verified.
  [[nodiscard]] std::future<ClientResult<SafetyNumber>> accept_identity_key(std::string handle);
  /// Tops up our KeyPackages at the relay now (the engine also does it
  /// after each sync and every kKeyPackageCheckInterval while online). Joins
  /// a top-up already running.
  [[nodiscard]] std::future<ClientResult<KeyPackageStock>> top_up_key_packages();
  /// A KeyPackage of `account`, checked: the relay's identity key for it
  /// matches our pin (IdentityChanged otherwise) and the package is that
  /// account's with that key, valid now (Protocol otherwise).
  [[nodiscard]] std::future<ClientResult<wire::KeyPackageOk>> fetch_key_package(AccountId account);

  /// Queues a Content with `body` (a fresh id, our clock) for `room` in the
  /// outbox (durably, as plaintext), encrypts it for the room's epoch and
  /// sends it when online. Completes on SendOk; stays queued across
  /// disconnects and restarts, and is encrypted again after a StaleEpoch.
  /// Errors: InvalidArgument (unknown or left room, a body check_content
  /// refuses, outbox full), Store, or the relay's final refusal.
  [[nodiscard]] std::future<ClientResult<SendReceipt>> send(RoomId room, ContentBody body);
  /// send() of a text (InvalidArgument when empty or over kMaxTextSize).
  [[nodiscard]] std::future<ClientResult<SendReceipt>> send_text(RoomId room, std::string text);

  // ---- local reads ----
  /// The room's conversation: texts with edits, reactions and redactions
  /// applied, settings from facilitators only, what disappeared gone.
  [[nodiscard]] std::future<ClientResult<RoomView>> conversation(RoomId room);
  [[nodiscard]] std::future<ClientResult<std::optional<ProfileInfo>>> profile();
  [[nodiscard]] std::future<ClientResult<std::vector<RoomRecord>>> rooms();
  [[nodiscard]] std::future<ClientResult<std::vector<StoredEnvelope>>> history(RoomId room, Seq after,
                                                                               std::size_t limit);
  [[nodiscard]] std::future<ClientResult<std::vector<PendingSend>>> outbox();

  /// Drops the current connection as a network failure would (the session
  /// reconnects when `reconnect` is on). For tests and a "reconnect" button.
  void drop_connection();
  /// Ends the session, fails what is outstanding with Stopped (queued sends
  /// stay in the outbox) and joins the network thread. Idempotent.
  void stop();

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace hearth::client
