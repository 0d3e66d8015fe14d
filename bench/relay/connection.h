// SPDX-License-Identifier: Apache-2.0
#pragma once
// One simulated client: a TLS connection, a registered account, at most one
// room. Set-up steps are coroutines the orchestrator awaits; during the run
// the connection reacts to its own frames (SendOk refills the window,
// Deliver feeds the loss and latency bookkeeping).
//
//   open():     TCP connect, TLS 1.3, SPKI pin check, Hello -> HelloOk,
//               Register{token, handle, key, sig(exporter)} -> RegisterOk
//   create_room() (first member only): CreateRoom -> CreateRoomOk,
//               SubmitBundle{Add x (M-1)} -> BundleOk   (<= 1024 adds per bundle)
//   sync():     Sync{} -> backlog Deliver..., SyncOk (base seq and epoch)
//   run:        SendEnvelope -> SendOk; Deliver pushes; Ack every interval
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

namespace hearth::bench {

class Connection {
 public:
  Connection(asio::io_context& io, SSL_CTX* tls, Shared& shared, std::size_t index);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Connects, checks the pin, registers with `token`. Throws BenchError.
  [[nodiscard]] asio::awaitable<void> open(tcp::endpoint relay, BytesView spki_pin, const std::string& token);
  /// Creates `room` and adds every other member. Throws BenchError.
  [[nodiscard]] asio::awaitable<void> create_room(RoomState& room);
  /// Sync{} and wait for SyncOk. Throws BenchError.
  [[nodiscard]] asio::awaitable<void> sync();

  void join(RoomState& room) noexcept { room_ = &room; }
  [[nodiscard]] const AccountId& account() const noexcept { return account_; }

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
  /// Ends the connection on purpose (no error is counted).
  void close() noexcept;

 private:
  // GCC 12 miscompiles temporaries with destructors inside a co_await
  // expression (double free); callers build the message in a named local
  // and pass it as an rvalue reference, so no temporary spans a suspension.
  [[nodiscard]] asio::awaitable<wire::Frame> call(wire::Message&& body, const char* what);
  [[nodiscard]] asio::awaitable<void> read_loop();
  void on_frame(BytesView body);
  void on_deliver(const DeliverView& d, std::int64_t now_ns);
  void on_full_frame(wire::Frame frame, std::int64_t now_ns);
  void on_send_answer(std::uint64_t request_id, const wire::Message& body, std::int64_t now_ns);
  void mark(std::uint64_t seq, std::uint8_t bit) noexcept;
  void refill_later();
  void send_envelope(std::int64_t stamp_ns);
  [[nodiscard]] asio::awaitable<void> open_loop(std::chrono::nanoseconds interval, std::chrono::nanoseconds phase);
  void queue(const Bytes& frame);
  void flush();
  void fail(const std::string& why);

  asio::io_context& io_;
  Shared& shared_;
  std::size_t index_;
  TlsSocket tls_;
  crypto::SigningKey key_;
  AccountId account_;
  RoomState* room_ = nullptr;
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
  Bytes payload_;
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
