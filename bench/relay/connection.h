// SPDX-License-Identifier: Apache-2.0
#pragma once
// One simulated client: a TLS connection, a registered account whose
// identity key is its MLS signature key, at most one room (an MLS group).
// Set-up steps are coroutines the orchestrator awaits; during the run the
// connection reacts to its own frames (SendOk refills the window, Deliver
// feeds the loss and latency bookkeeping).
//
//   open():     TCP connect, TLS 1.3, SPKI pin check, Hello -> HelloOk,
//               Register{token, handle, key, sig(exporter)} -> RegisterOk,
//               members other than the creator: PublishKeys{1 KeyPackage}
//   create_room() (first member only): CreateRoom{GroupInfo} -> CreateRoomOk,
//               then per batch of members: FetchKeyPackage... (RateLimited:
//               wait and ask again), SubmitBundle{Add commit, Welcomes}
//               -> BundleOk; every member's group state follows in-process
//   sync():     Sync{} -> backlog Deliver..., SyncOk (base seq and epoch)
//   run:        SendEnvelope{PrivateMessage} -> SendOk; Deliver pushes
//               (readers decrypt them); Ack every interval
//
// Thread affinity: the io_context thread only. Owned by Bench, which keeps
// it alive until the io_context has stopped.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench/relay/asio.h"
#include "bench/relay/deliver_scan.h"
#include "bench/relay/shared_state.h"
#include "bench/relay/tls_socket.h"
#include "common/crypto/crypto.h"
#include "common/wire/messages.h"
#include "tests/support/relay_client.h"

namespace hearth::bench {

class Connection {
 public:
  Connection(asio::io_context& io, SSL_CTX* tls, Shared& shared, std::size_t index);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Connects, checks the pin, registers with `token`. Throws BenchError.
  [[nodiscard]] asio::awaitable<void> open(tcp::endpoint relay, BytesView spki_pin, const std::string& token);
  /// Creates `room` from a real GroupInfo and adds every other member with
  /// real Add commits and Welcomes. Throws BenchError.
  [[nodiscard]] asio::awaitable<void> create_room(RoomState& room);
  /// Sync{} and wait for SyncOk. Throws BenchError.
  [[nodiscard]] asio::awaitable<void> sync();

  /// Makes this connection a member of `room` (before open()); a reader
  /// decrypts every application message it is delivered.
  void join(RoomState& room, bool reader) noexcept {
    room_ = &room;
    reader_ = reader;
  }
  [[nodiscard]] const AccountId& account() const noexcept { return identity_.account; }

  /// Starts sending: a window of `window` in flight (maximum mode) or one
  /// envelope every `interval` starting after `phase` (open loop).
  void start_closed_loop(std::size_t window);
  void start_open_loop(std::chrono::nanoseconds interval, std::chrono::nanoseconds phase);
  /// Sends Ack{cursor} if the cursor moved since the last one.
  void ack_if_moved();

  [[nodiscard]] std::size_t in_flight() const noexcept { return in_flight_.size(); }
  [[nodiscard]] bool alive() const noexcept { return !closed_; }
  /// Every seq in (base, room head] seen (delivered, or sent by this member).
  [[nodiscard]] bool caught_up() const noexcept;
  /// Seqs in (base, room head] this member never saw.
  [[nodiscard]] std::uint64_t missing() const noexcept;
  /// Every seq up to this one seen.
  [[nodiscard]] std::uint64_t seen_through() const noexcept { return contiguous_; }
  /// Ends the connection on purpose (no error is counted).
  void close() noexcept;

 private:
  // GCC 12 miscompiles temporaries with destructors inside a co_await
  // expression (double free); callers build the message in a named local
  // and pass it as an rvalue reference, so no temporary spans a suspension.
  /// The answer to `body`, an Error included; throws on no answer.
  [[nodiscard]] asio::awaitable<wire::Frame> request(wire::Message&& body, const char* what);
  /// Like request(), but an Error answer throws.
  [[nodiscard]] asio::awaitable<wire::Frame> call(wire::Message&& body, const char* what);
  /// FetchKeyPackage, asked again while the relay answers RateLimited.
  [[nodiscard]] asio::awaitable<wire::KeyPackageOk> fetch_key_package(const AccountId& account);
  /// Commits adding the members of `fetched` (taken apart) to `room`;
  /// halves the batch while its bundle would not fit in one frame. By
  /// reference: no temporary spans the co_await (see call()).
  [[nodiscard]] asio::awaitable<void> add_members(RoomState& room, std::vector<wire::KeyPackageOk>& fetched);
  void open_message(const DeliverView& d, std::int64_t now_ns);
  [[nodiscard]] asio::awaitable<void> read_loop();
  void on_frame(BytesView body);
  void on_deliver(const DeliverView& d, std::int64_t now_ns);
  void on_full_frame(wire::Frame frame, std::int64_t now_ns);
  void on_send_answer(std::uint64_t request_id, const wire::Message& body, std::int64_t now_ns);
  void mark(std::uint64_t seq, std::uint8_t bit) noexcept;
  void refill_later();
  void arm_backoff();
  /// A live member of the room is more than --max-lag messages behind its head.
  [[nodiscard]] bool room_lagging() const noexcept;
  void send_envelope(std::int64_t stamp_ns);
  [[nodiscard]] asio::awaitable<void> open_loop(std::chrono::nanoseconds interval, std::chrono::nanoseconds phase);
  void queue(const Bytes& frame);
  void flush();
  void fail(const std::string& why);

  asio::io_context& io_;
  Shared& shared_;
  std::size_t index_;
  TlsSocket tls_;
  test::Identity identity_;  // its key signs the login and the MLS messages
  RoomState* room_ = nullptr;
  bool reader_ = false;
  std::uint64_t next_request_id_ = 1;
  std::uint32_t max_frame_ = 1u << 20;

  // One set-up request at a time: call() waits on answer_timer_, the reader
  // stores the answer and cancels the timer.
  std::uint64_t awaiting_id_ = 0;
  std::optional<wire::Frame> answer_;
  asio::steady_timer answer_timer_;

  // Reading: plaintext buffer per connection, frames decoded in place.
  Bytes in_;
  std::size_t in_len_ = 0;

  // Writing: frames queued during one event-loop turn go out in one write.
  Bytes out_;          // plaintext frames not yet encrypted
  Bytes writing_buf_;  // TLS records being written
  bool writing_ = false;
  bool flush_posted_ = false;

  // Sending.
  bool closed_loop_ = false;
  std::size_t window_ = 0;
  std::size_t deferred_ = 0;  // refused sends waiting for the back-off timer
  bool backoff_armed_ = false;
  std::unordered_map<std::uint64_t, std::int64_t> in_flight_;  // request id -> queued at (ns)
  Bytes plaintext_;  // the message before MLS: send timestamp, then filler
  asio::steady_timer send_timer_;

  // Loss bookkeeping: marks_[seq - base_ - 1] has kDelivered and/or kOwn.
  bool synced_ = false;
  std::uint64_t base_ = 0;
  std::uint64_t contiguous_ = 0;  // every seq <= this is marked
  std::uint64_t max_seen_ = 0;
  std::uint64_t acked_ = 0;
  std::vector<std::uint8_t> marks_;

  bool closed_ = false;
  bool closing_ = false;
  std::string close_reason_;
};

}  // namespace hearth::bench
