// SPDX-License-Identifier: Apache-2.0
#pragma once
// Engine internals, shared by engine.cpp (public API and thread),
// engine_session.cpp (connection, login, sync, deliveries, acks) and
// engine_ops.cpp (requests, sends, the outbox). Everything below runs on the
// network thread unless marked otherwise.

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "client/core/ack_batcher.h"
#include "client/core/asio.h"
#include "client/core/backoff.h"
#include "client/core/connection.h"
#include "client/core/engine.h"
#include "client/core/room_crypto.h"
#include "client/core/room_group.h"
#include "common/crypto/crypto.h"

namespace hearth::client {

/// Tick of the housekeeping timer (request timeouts, acks, keep-alive, retries).
inline constexpr std::chrono::milliseconds kTickInterval{100};
/// How often the engine checks its KeyPackage stock while online (also after
/// each sync): others' adds drain it between connections.
inline constexpr std::chrono::milliseconds kKeyPackageCheckInterval{3'600'000};
/// How long stop() waits for the network thread to wind down before forcing it.
inline constexpr std::chrono::milliseconds kStopTimeout{5'000};

/// When the member that carries out a leave (the first in leaf order) is
/// away, the next one does it this much later, the one after twice as late...
inline constexpr std::chrono::milliseconds kLeaveFallbackDelay{10'000};
/// A KeyPackage fetch refused as RateLimited (a reset of a large room) is
/// asked again this much later, at most kMaxFetchRetries times per member.
inline constexpr std::chrono::milliseconds kFetchRetryDelay{1'100};
inline constexpr int kMaxFetchRetries = 10;
/// How often held conversations are checked for disappearing messages.
inline constexpr std::int64_t kExpiryCheckMs = 1'000;
/// How often a change refused with EpochConflict looks whether the winning
/// commit has arrived (it comes as a push; the wait is bounded by
/// request_timeout).
inline constexpr std::chrono::milliseconds kCatchUpPoll{20};

/// The answer `r` as a T, or the error it carried, or Protocol when the relay
/// answered with something else.
template <class T>
ClientResult<T> expect(ClientResult<wire::Message> r, const char* name) {
  if (!r) return fail(std::move(r.error()));
  if (auto* v = std::get_if<T>(&*r)) return std::move(*v);
  return fail(ClientError{ClientCode::Protocol, std::string("expected ") + name + ", the relay sent " + wire::kind_name(*r)});
}

/// Overwrites a buffer that held secrets (a serialized group state).
inline void wipe_bytes(Bytes& b) noexcept { crypto::wipe(b.data(), b.size()); }

inline bool relay_code_is(const ClientError& e, wire::ErrorCode c) { return e.relay && e.relay->code == c; }

/// A store failure as the client error a caller sees.
inline ClientError store_error(const StoreError& e, const char* what) {
  return ClientError{ClientCode::Store, std::string(what) + ": " + store::to_string(e.code) + ": " + e.detail};
}

class Engine::Impl {
 public:
  Impl(std::unique_ptr<LocalStore> store, EngineOptions options);

  // ---- called from any thread (engine.cpp) ----
  /// Runs `f` on the network thread; a ready Stopped error once stopped.
  template <class T>
  std::future<ClientResult<T>> call(std::function<ClientResult<T>()> f);
  /// Runs `f` on the network thread with the promise it completes, now or
  /// later; a ready Stopped error once stopped.
  template <class T>
  using PromisePtr = std::shared_ptr<std::promise<ClientResult<T>>>;
  template <class T>
  std::future<ClientResult<T>> defer(std::function<void(PromisePtr<T>)> f);
  /// Runs a coroutine on the network thread and completes the future with its result.
  template <class T>
  std::future<ClientResult<T>> spawn(std::function<asio::awaitable<ClientResult<T>>()> make);
  void stop();

  // ---- network thread ----
  [[nodiscard]] std::int64_t now_ms() const { return clock_->now_ms(); }
  [[nodiscard]] ClientResult<void> ensure_identity(bool create);
  [[nodiscard]] ClientResult<ProfileInfo> load_profile();
  void emit(Event e) { events_.push(std::move(e)); }
  void store_failed(const StoreError& e, const char* what);

  // session (engine_session.cpp)
  void start_session();
  asio::awaitable<void> run_session();
  asio::awaitable<ClientError> connect_once();
  asio::awaitable<ClientResult<wire::Message>> exchange(Transport& conn, wire::Message body);
  asio::awaitable<void> tick_loop();
  void handle_frame(wire::Frame frame);
  void on_sync_ok(const wire::SyncOk& ok);
  void on_room_closed(const RoomId& room);
  void flush_acks();
  void fail_requests(const ClientError& e);
  /// Completes start() and register_account() waiters with `why`.
  void fail_waiters(const ClientError& why);
  void end_session(const ClientError& why);
  void shutdown();

  // requests and sends (engine_ops.cpp)
  using Done = std::function<void(ClientResult<wire::Message>)>;
  /// Sends a request on the live connection; `done` runs exactly once on the
  /// network thread (with Disconnected when offline or on a drop, Timeout
  /// after request_timeout, Stopped on shutdown).
  void send_request(wire::Message body, Done done);
  asio::awaitable<ClientResult<wire::Message>> request(wire::Message body);
  /// Whether lookup() holds the relay's answer against our pins.
  enum class Pins { Check, Skip };
  asio::awaitable<ClientResult<wire::AccountInfo>> lookup(std::string handle, Pins pins = Pins::Check);
  ClientResult<EnvelopeId> queue_send(const RoomId& room, ContentBody body);
  void resend_outbox();
  /// Encrypts for the current epoch when needed (saving the ratchet step
  /// and ciphertext before it leaves), then sends.
  void transmit(PendingSend p);
  void on_send_answer(const PendingSend& p, ClientResult<wire::Message> r);
  void finish_send(const PendingSend& p, ClientResult<SendReceipt> r);

  // rooms as MLS groups (engine_rooms.cpp)
  /// The room's group state, loaded from the store on first use and held.
  ClientResult<RoomGroup*> group_of(const RoomId& room);
  /// Drops the held state (the stored one is read again on next use).
  void forget_group(const RoomId& room);
  [[nodiscard]] wire::Role own_role(const RoomGroup& g) const;
  asio::awaitable<ClientResult<RoomId>> create_room(std::uint64_t lifetime_ms);
  using BuildCommit = std::function<ClientResult<RoomCommit>(const RoomGroup&)>;
  /// Builds a commit on the held state and submits it as one bundle; on
  /// EpochConflict waits for the winning commit and builds again (at most
  /// kMaxEpochRetries times).
  asio::awaitable<ClientResult<Seq>> submit_commit(RoomId room, BuildCommit build);
  /// NotAllowed unless we are a facilitator of the room (the role policy
  /// the relay and every member apply).
  ClientResult<void> require_facilitator(const RoomId& room, const char* change);
  asio::awaitable<ClientResult<Seq>> add_member(RoomId room, std::string handle);
  asio::awaitable<ClientResult<Seq>> remove_member(RoomId room, std::string handle);
  asio::awaitable<ClientResult<Seq>> refresh_keys(RoomId room);
  asio::awaitable<ClientResult<Seq>> set_role(RoomId room, std::string handle, wire::Role role);
  asio::awaitable<ClientResult<Seq>> leave_room(RoomId room);
  /// A fresh group for the room with its members (the relay's roster, each
  /// with a KeyPackage fetched now) and roles, sent as one ResetRoom.
  asio::awaitable<ClientResult<Seq>> reset_room(RoomId room);
  /// Goes on from `next`, a change of ours the relay accepted: stored,
  /// recorded in the room, held. False (and a store event) when it could not be stored.
  bool adopt(const RoomId& room, RoomGroup&& next);
  /// Adopts our reset the relay accepted, unless its echo did already.
  void adopt_own_reset(const RoomId& room, Seq seq);
  /// Tells the room we could not apply the change at `commit_seq`.
  void report_change(const RoomId& room, Seq commit_seq, wire::ChangeProblem problem);
  /// Tells the relay a facilitator's new relay-side lifetime (the settings
  /// message that carries it to the members went out already).
  void send_room_lifetime(const RoomId& room, std::uint64_t lifetime_ms);
  /// True once `done()` holds; false when it did not within request_timeout
  /// or we went offline.
  asio::awaitable<bool> wait_until(std::function<bool()> done);
  /// True once the held state is past `epoch` of `group`, in another group
  /// (the room was reset) or removed; false when it did not get there
  /// within request_timeout or we went offline.
  asio::awaitable<bool> wait_for_epoch_above(RoomId room, RoomId group, std::uint64_t epoch);
  /// Adopts our commit the relay accepted, unless its echo did already.
  void adopt_own_commit(const RoomId& room, Seq seq);
  /// Our commit is in the room: the key-refresh clock starts again.
  void own_commit_adopted(const RoomId& room);
  /// Counts a sent message toward the next key refresh.
  void note_sent(const RoomId& room);
  /// Runs a change of ours nobody waits for; its failure (but going
  /// offline or stopping) is an ErrorEvent "<failed>: why", an exception one
  /// with `crashed`. `done` runs first, whatever the outcome.
  void in_background(asio::awaitable<ClientResult<Seq>> change, std::string failed, std::string crashed,
                     std::function<void()> done = {});
  /// Refreshes our keys in `room` if its record says it is due.
  void refresh_if_due(const RoomId& room, KeyRefresh record);
  /// refresh_if_due for every active room (after sync, then hourly).
  void check_key_refreshes();

  void on_deliver(const wire::Deliver& d);
  /// Someone else's envelope through process_group (room_crypto.h).
  GroupEffects open_theirs(const wire::Deliver& d);
  /// Our own envelope coming back: the outbox's plaintext, or our commit.
  GroupEffects open_own(const wire::Deliver& d);
  void finish_delivery(const wire::Deliver& d, GroupEffects& fx);
  /// Stores `next` as our change on its way (before it leaves).
  ClientResult<void> keep_pending(const RoomId& room, const EnvelopeId& id, const RoomGroup& next);
  void drop_pending(const RoomId& room);
  /// The effects of our own change's echo: go on from `next`, tell `event`.
  GroupEffects own_echo(RoomGroup&& next, Event event);
  /// The echo of our change that this run of the engine did not send or
  /// lost track of: adopted from the stored pending change, if it is that one.
  GroupEffects adopt_stored_change(const wire::Deliver& d);
  /// Commits `leaver`'s proposal: at once when this device is the first in
  /// leaf order, otherwise after kLeaveFallbackDelay times its place.
  void commit_leave_if_ours(const RoomId& room, const AccountId& leaver);
  /// After `delay`, commits the leave cached at `epoch` of `group` unless
  /// it is no longer pending there.
  asio::awaitable<ClientResult<Seq>> carry_out_leave(RoomId room, RoomId group, std::uint64_t epoch, AccountId leaver,
                                                     std::chrono::milliseconds delay);

  // conversations (engine_conversation.cpp)
  struct HeldConversation {
    Conversation conversation;
    std::map<ContentId, std::vector<Seq>> text_seqs;  // an entry's envelopes holding text (it and its edits)
  };
  /// The room's held conversation, rebuilt from the stored history on
  /// first use. `arriving`: the message the caller stored just now and
  /// takes next, left out of the rebuild so it is not taken twice.
  ClientResult<HeldConversation*> conversation_of(const RoomId& room, std::optional<Seq> arriving = std::nullopt);
  /// Applies `in`, erasing from the store what it redacts or what came too
  /// late; the refusal, if any. `live`: emit MessagesErased.
  std::optional<Refusal> take(const RoomId& room, HeldConversation& held, const Incoming& in, bool live);
  /// take() for a message just opened or sent; a refusal (but Expired) is a
  /// MessageRefused event.
  std::optional<Refusal> converse(const RoomId& room, const Incoming& in);
  /// Erases what is due from every held conversation.
  void expire_messages();
  /// Holds every room's conversation (after sync): what disappeared while
  /// this device was off goes now.
  void load_conversations();

  // identity pins (engine_identity.cpp)
  /// Pins `key` for `account` on first sight; IdentityChanged (and the
  /// event) when another key is pinned.
  [[nodiscard]] ClientResult<void> check_identity(const AccountId& account, BytesView key, const std::string& handle);
  asio::awaitable<ClientResult<SafetyNumber>> safety_number(std::string handle);
  asio::awaitable<ClientResult<wire::KeyPackageOk>> fetch_key_package(AccountId account);

  // KeyPackages (engine_keys.cpp)
  using TopUpDone = std::function<void(const ClientResult<KeyPackageStock>&)>;
  /// Starts a top-up unless one runs; `done` (optional) runs when it ends.
  void top_up_key_packages(TopUpDone done = {});
  asio::awaitable<ClientResult<KeyPackageStock>> run_key_top_up();

  // ---- state ----
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  std::promise<void> thread_done_;
  std::mutex stop_mutex_;  // guards stopped_ against concurrent posts (any thread)
  bool stopped_ = false;

  EventQueue events_;
  std::unique_ptr<LocalStore> store_;
  EngineOptions options_;
  SystemClock system_clock_;
  const Clock* clock_;
  crypto::SystemRng rng_;
  Backoff backoff_;
  AckBatcher acks_;
  std::optional<crypto::SigningKey> identity_;
  std::optional<ProfileInfo> profile_;

  std::shared_ptr<Transport> conn_;  // the connection being set up or live
  bool logged_in_ = false;            // LoginOk/RegisterOk on conn_: Acks may go out
  bool online_ = false;               // logged in and the first SyncOk arrived
  bool session_running_ = false;
  bool stopping_ = false;
  std::uint64_t next_request_id_ = 1;
  std::int64_t last_received_ms_ = 0;
  std::int64_t last_ping_ms_ = 0;
  std::uint64_t duplicates_dropped_ = 0;

  struct PendingRequest {
    std::int64_t deadline_ms = 0;
    Done done;
  };
  std::map<std::uint64_t, PendingRequest> requests_;
  std::vector<std::promise<ClientResult<void>>> start_waiters_;
  struct Registration {
    std::string token;
    std::string handle;
    std::shared_ptr<std::promise<ClientResult<AccountId>>> promise;
  };
  std::optional<Registration> registration_;
  std::map<EnvelopeId, std::vector<std::promise<ClientResult<SendReceipt>>>> send_waiters_;
  std::set<EnvelopeId> in_flight_;
  std::map<EnvelopeId, int> epoch_retries_;
  std::map<EnvelopeId, std::int64_t> retry_at_;
  std::map<RoomId, RoomGroup> groups_;
  struct OwnCommit {
    RoomId group;                         // the group and epoch it builds on
    std::uint64_t epoch = 0;
    std::shared_ptr<RoomCommit> commit;
    EnvelopeId envelope_id;               // a reset's, recognised in its echo
  };
  std::map<RoomId, OwnCommit> own_commits_;  // submitted, not yet adopted
  std::map<RoomId, OwnCommit> own_resets_;   // a new group submitted, not yet adopted
  std::map<EnvelopeId, std::int64_t> stale_since_;
  std::map<RoomId, HeldConversation> conversations_;
  std::int64_t next_expiry_check_ms_ = 0;
  std::set<RoomId> refreshing_;  // a key refresh of ours is under way
  std::int64_t next_refresh_check_ms_ = 0;  // refused with StaleEpoch: re-encrypt once caught up
  bool topping_up_ = false;
  std::vector<TopUpDone> top_up_done_;
  std::int64_t next_key_check_ms_ = 0;
  asio::steady_timer tick_;
  asio::steady_timer backoff_timer_;
};

template <class T>
std::future<ClientResult<T>> Engine::Impl::defer(std::function<void(PromisePtr<T>)> f) {
  auto promise = std::make_shared<std::promise<ClientResult<T>>>();
  auto future = promise->get_future();
  std::lock_guard lock(stop_mutex_);
  if (stopped_) {
    promise->set_value(fail(ClientError{ClientCode::Stopped, "the engine is stopped"}));
    return future;
  }
  asio::post(io_, [promise, f = std::move(f)] { f(promise); });
  return future;
}

template <class T>
std::future<ClientResult<T>> Engine::Impl::call(std::function<ClientResult<T>()> f) {
  return defer<T>([f = std::move(f)](PromisePtr<T> promise) { promise->set_value(f()); });
}

template <class T>
std::future<ClientResult<T>> Engine::Impl::spawn(std::function<asio::awaitable<ClientResult<T>>()> make) {
  auto promise = std::make_shared<std::promise<ClientResult<T>>>();
  auto future = promise->get_future();
  std::lock_guard lock(stop_mutex_);
  if (stopped_) {
    promise->set_value(fail(ClientError{ClientCode::Stopped, "the engine is stopped"}));
    return future;
  }
  asio::co_spawn(
      io_, [make = std::move(make)]() -> asio::awaitable<ClientResult<T>> { co_return co_await make(); },
      [promise](std::exception_ptr e, ClientResult<T> r) {
        if (e) {
          std::string what = "unexpected failure";
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            what += std::string(": ") + ex.what();
          } catch (...) {
          }
          promise->set_value(fail(ClientError{ClientCode::Protocol, what}));
          return;
        }
        promise->set_value(std::move(r));
      });
  return future;
}

}  // namespace hearth::client
