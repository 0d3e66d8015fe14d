// SPDX-License-Identifier: Apache-2.0
#pragma once
// The relay's request handling: every frame a session decodes ends up here.
// One object per process, on the io thread; the database work goes to the
// DbWorker and the answers go out after the commit.
//
//   SendEnvelope ──validate against Room.state (RAM)──> seq = head + 1
//        │                                   record the envelope id
//        └─> DbWorker: INSERT ... (group commit) ──done──> SendOk to sender,
//                                                           Deliver to the live list
//
// Files: relay.cpp (lifecycle, dispatch, accounts, keys), relay_rooms.cpp
// (rooms, bundles, envelopes, fan-out), relay_sync.cpp (Sync, Ack, retention).

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "common/types/clock.h"
#include "common/types/rng.h"
#include "server/asio.h"
#include "server/config.h"
#include "server/core/handed_out.h"
#include "server/core/idempotency.h"
#include "server/core/room_view.h"
#include "server/core/rate_limiter.h"
#include "server/db_worker.h"
#include "server/registry.h"
#include "server/session.h"
#include "server/store.h"

namespace hearth::relay {

/// Envelopes (and bytes) one backlog page reads at most.
inline constexpr std::size_t kSyncPageEnvelopes = 512;
inline constexpr std::size_t kSyncPageBytes = 1u << 20;
/// Failed Register/LoginProof attempts on one connection before it is closed.
inline constexpr std::uint32_t kMaxAuthFailures = 5;
/// Cursor rows one database job writes at most. Thousands of Acks flushed in
/// one transaction held message commits (and so SendOk) for 20-40 ms.
inline constexpr std::size_t kCursorFlushChunk = 128;
/// How long a graceful stop waits for acknowledged answers to reach the peers.
inline constexpr std::chrono::milliseconds kShutdownFlushTimeout{3000};

/// Aggregate counters only: no handles, rooms or addresses.
struct Counters {
  std::uint64_t connections_opened = 0;
  std::uint64_t connections_closed = 0;
  std::uint64_t frames_in = 0;
  std::uint64_t bad_frames = 0;
  std::uint64_t deliveries = 0;
  std::uint64_t envelopes_stored = 0;
  std::uint64_t slow_reader_closes = 0;
  std::uint64_t idle_closes = 0;
  std::uint64_t protocol_closes = 0;
  std::uint64_t handshakes_refused = 0;  // bundles whose MLS checks failed
  std::uint64_t views_unloadable = 0;    // rooms whose stored view did not load at start
  std::array<std::uint64_t, 25> errors{};  // by wire::ErrorCode
  [[nodiscard]] std::uint64_t errors_total() const noexcept;
};

class Relay final : public Hub {
 public:
  /// Takes the store after `load()`; starts the DB worker. `db_file` enables
  /// background checkpoints (empty for in-memory stores).
  Relay(asio::io_context& io, const Config& config, RelayStore store, LoadedState state, Clock& clock, Rng& rng,
        std::filesystem::path db_file);
  ~Relay() override;
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  /// Starts the background timers (ack batching, retention).
  void start();
  /// Takes a new TCP connection.
  void accept(asio::ip::tcp::socket socket, asio::ssl::context& tls);
  /// Stops taking requests, lets every submitted write commit and its answer
  /// go out (bounded by kShutdownFlushTimeout), closes the connections, stops
  /// the DB worker, then calls `finished` on the io thread.
  void shutdown(std::function<void()> finished);
  /// Set when the database failed; the process must exit non-zero.
  [[nodiscard]] bool failed() const noexcept { return failed_; }
  void set_fatal_handler(std::function<void()> handler) { on_fatal_ = std::move(handler); }
  [[nodiscard]] const Counters& counters() const noexcept { return counters_; }
  void log_counters() const;

  // Hub
  void on_open(Session& s) override;
  void on_frame(Session& s, wire::Frame&& frame) override;
  void on_bad_frame(Session& s) override;
  void on_drained(Session& s) override;
  void on_close(Session& s, CloseReason why) override;
  void count_error(wire::ErrorCode code) override;
  [[nodiscard]] std::int64_t now_ms() const override { return clock_.now_ms(); }
  /// Unix seconds, for MLS lifetimes.
  [[nodiscard]] std::uint64_t now_s() const { return static_cast<std::uint64_t>(std::max<std::int64_t>(now_ms(), 0) / 1000); }

 private:
  using SessionPtr = std::shared_ptr<Session>;

  // relay.cpp
  void reply(Session& s, std::uint64_t request_id, wire::Message body);
  void reply_error(Session& s, std::uint64_t request_id, wire::ErrorCode code, std::string message,
                   std::optional<RoomId> room = std::nullopt);
  /// reply_error with a refusal's code and reason, for one room.
  void reply_rejection(Session& s, std::uint64_t request_id, const Rejection& why, const RoomId& room) {
    reply_error(s, request_id, why.code, why.reason, room);
  }
  void protocol_violation(Session& s, std::uint64_t request_id, std::string message);
  void auth_failed(Session& s, std::uint64_t request_id);
  [[nodiscard]] const AccountId* require_login(Session& s, std::uint64_t request_id);
  void on_hello(Session& s, std::uint64_t rid, const wire::Hello& m);
  void on_register(Session& s, std::uint64_t rid, wire::Register&& m);
  void on_login_start(Session& s, std::uint64_t rid, const wire::LoginStart& m);
  void on_login_proof(Session& s, std::uint64_t rid, const wire::LoginProof& m);
  void logged_in(Session& s, const AccountId& account);
  void on_publish_keys(Session& s, std::uint64_t rid, wire::PublishKeys&& m);
  void on_fetch_key_package(Session& s, std::uint64_t rid, const wire::FetchKeyPackage& m);
  void on_lookup_account(Session& s, std::uint64_t rid, const wire::LookupAccount& m);
  void on_fatal(const std::string& what);
  asio::awaitable<void> finish_shutdown(std::function<void()> finished);
  /// Runs `done` after everything submitted so far has committed.
  void after_commits(Session& s, std::function<void(Session&)> done);

  // relay_rooms.cpp
  void on_create_room(Session& s, std::uint64_t rid, wire::CreateRoom&& m);
  void on_submit_bundle(Session& s, std::uint64_t rid, wire::SubmitBundle&& m);
  void on_send_envelope(Session& s, std::uint64_t rid, wire::SendEnvelope&& m);
  void on_close_room(Session& s, std::uint64_t rid, const wire::CloseRoom& m);
  void on_get_roster(Session& s, std::uint64_t rid, const wire::GetRoster& m);
  void on_reset_room(Session& s, std::uint64_t rid, wire::ResetRoom&& m);
  void on_report_change(Session& s, std::uint64_t rid, wire::ReportChange&& m);
  void on_set_room_lifetime(Session& s, std::uint64_t rid, const wire::SetRoomLifetime& m);
  /// The start of a request that stores an envelope under a client's id:
  /// the logged-in sender and the room, or nullopt once it is answered (not
  /// logged in, no such room, a retry answered from the record of the first
  /// once what that wrote is on disk, an id used for something else).
  struct EnvelopeRequest {
    const AccountId* sender;
    Room* room;
  };
  [[nodiscard]] std::optional<EnvelopeRequest> begin_envelope_request(
      Session& s, std::uint64_t rid, const RoomId& room, const EnvelopeId& id, wire::EnvelopeKind kind,
      const std::function<wire::Message(const IdRecord&)>& answer);
  /// The room, or an UnknownRoom answer.
  [[nodiscard]] Room* require_room(Session& s, std::uint64_t rid, const RoomId& id);
  /// Stores the envelopes, the room's members and view (when given) in one
  /// transaction, then answers with `answer` and fans them out (Welcomes
  /// to their addressees only).
  void store_and_deliver(Session& s, std::uint64_t rid, Room& room,
                         std::shared_ptr<std::vector<StoredEnvelope>> envelopes, bool with_view, wire::Message answer);
  /// A standalone proposal bundle (a member leaving): stored and fanned out
  /// as a Handshake envelope; the epoch stays.
  void submit_proposal(Session& s, std::uint64_t rid, Room& room, const AccountId& submitter, wire::SubmitBundle&& m);
  /// The room's view, or an InvalidArgument answer when it has none.
  [[nodiscard]] mls::PublicGroup* require_view(Session& s, std::uint64_t rid, Room& room);
  [[nodiscard]] IdentityLookup identity_lookup() const;
  /// Sends one encoded Deliver to the room's live sessions (all, or those of `only`).
  void fan_out(Room& room, const std::shared_ptr<const Bytes>& frame, const AccountId* only = nullptr);
  [[nodiscard]] static std::shared_ptr<const Bytes> encode_deliver(const RoomId& room, StoredEnvelope&& e);

  // relay_sync.cpp
  void on_sync(Session& s, std::uint64_t rid, const wire::Sync& m);
  void on_ack(Session& s, const wire::Ack& m);
  void next_sync_page(Session& s);
  void finish_sync(Session& s);
  /// Writes every dirty cursor now (shutdown, retention), in chunks.
  void flush_acks();
  /// The periodic flush: one chunk per transaction, the next after the
  /// previous committed, so message commits never queue behind thousands of
  /// cursor rows.
  void trickle_acks();
  void submit_cursor_chunk(std::function<void()> done);
  void run_retention();
  asio::awaitable<void> ack_loop();
  asio::awaitable<void> retention_loop();

  asio::io_context& io_;
  Config config_;
  SessionLimits limits_;
  Clock& clock_;
  Rng& rng_;
  std::unique_ptr<DbWorker> db_;
  Directory directory_;
  RoomRegistry rooms_;
  Departures departures_;
  IdempotencyIndex ids_;
  HandedOutKeyPackages handed_out_;
  std::unordered_map<AccountId, std::vector<Session*>, BytesIdHash> online_;
  std::unordered_map<Session*, SessionPtr> sessions_;
  std::unordered_map<AccountId, TokenBucket, BytesIdHash> fetch_buckets_;
  std::unordered_map<AccountId, TokenBucket, BytesIdHash> publish_buckets_;
  struct CursorKeyLess {
    bool operator()(const std::pair<std::int64_t, AccountId>& a,
                    const std::pair<std::int64_t, AccountId>& b) const noexcept {
      if (a.first != b.first) return a.first < b.first;
      return a.second < b.second;
    }
  };
  std::set<std::pair<std::int64_t, AccountId>, CursorKeyLess> dirty_cursors_;
  std::vector<Session*> fanout_scratch_;
  asio::steady_timer ack_timer_;
  asio::steady_timer retention_timer_;
  Counters counters_;
  std::uint64_t next_session_id_ = 0;
  bool stopping_ = false;
  bool failed_ = false;
  bool retention_running_ = false;
  bool cursor_flush_in_flight_ = false;
  std::function<void()> on_fatal_;
};

}  // namespace hearth::relay
