// SPDX-License-Identifier: Apache-2.0
#pragma once
// One client connection: TLS, framing, a bounded outbox, and the three
// coroutines STYLE.md asks for.
//
//   reader:   length prefix -> check -> body -> decode -> Hub::on_frame
//   writer:   waits for the outbox; gathers everything queued into one
//             buffer; one async_write in flight; closes after a final Error
//   watchdog: closes the connection when nothing arrived for the idle
//             timeout (the TLS handshake has its own, shorter one)
//
// Thread affinity: everything runs on the one io thread. The Hub (the relay)
// is called from the reader and from close(); it must outlive the session.
// A session is owned by its coroutines (shared_ptr); close() is idempotent
// and never destroys the object synchronously, so raw pointers held by the
// relay stay valid until Hub::on_close returned.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "common/types/bytes.h"
#include "common/wire/messages.h"
#include "server/asio.h"
#include "server/core/rate_limiter.h"
#include "server/peer_state.h"
#include "server/tls_stream.h"

namespace hearth::relay {

class Session;

struct SessionLimits {
  std::uint32_t max_frame_size = 1u << 20;
  std::uint64_t outbox_bytes = 8u << 20;
  std::uint32_t outbox_frames = 65'536;
  std::chrono::milliseconds idle_timeout{300'000};
  std::chrono::milliseconds handshake_timeout{15'000};
  Rate frame_rate{20'000, 1000};
  std::uint32_t frame_burst = 40'000;
};

/// Frames sent in one gathered write at most (bytes; one frame may exceed it).
inline constexpr std::size_t kMaxWriteBatchBytes = 256u << 10;
/// A write buffer larger than this is released when the connection goes idle.
inline constexpr std::size_t kIdleWriteBufferKeep = 16u << 10;
/// How long a connection may take to flush its final Error before it is cut.
inline constexpr std::chrono::milliseconds kCloseFlushGrace{5000};
/// Requests of one connection waiting for the database before its reader pauses.
inline constexpr std::uint32_t kMaxInflightRequests = 4096;

enum class CloseReason : std::uint8_t {
  PeerClosed,    // EOF or a transport error
  Protocol,      // framing error, too many bad frames, wrong version
  SlowReader,    // the outbox limit was reached
  Idle,          // the watchdog fired
  Shutdown,      // the relay is stopping
  Handshake,     // TLS handshake failed or timed out
};
[[nodiscard]] const char* to_string(CloseReason r) noexcept;

/// What a session reports to the relay.
class Hub {
 public:
  virtual ~Hub() = default;
  /// TLS is up; the session may now be addressed.
  virtual void on_open(Session& s) = 0;
  /// A well-framed, decoded frame.
  virtual void on_frame(Session& s, wire::Frame&& frame) = 0;
  /// A well-framed body that did not decode; the session already answered.
  virtual void on_bad_frame(Session& s) = 0;
  /// The outbox fell below its low-water mark after a write.
  virtual void on_drained(Session& s) = 0;
  /// The session closed (called once, from close()).
  virtual void on_close(Session& s, CloseReason why) = 0;
  /// Counts an error the session answered on its own (framing, rate limit).
  virtual void count_error(wire::ErrorCode code) = 0;
  [[nodiscard]] virtual std::int64_t now_ms() const = 0;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(asio::ip::tcp::socket socket, asio::ssl::context& tls, Hub& hub, const SessionLimits& limits,
          std::uint64_t id);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Spawns the session's coroutines.
  void start();

  /// Encodes and queues an answer. No-op once closed.
  void send(const wire::Frame& frame);
  /// Queues an already encoded frame (shared between recipients). Closes the
  /// session as a slow reader when the outbox is over its limit.
  void enqueue(std::shared_ptr<const Bytes> frame);
  /// Sends an Error and closes once the outbox is flushed.
  void send_error_and_close(std::uint64_t request_id, wire::ErrorCode code, std::string message);
  /// Closes now (pending writes are dropped).
  void close(CloseReason why);

  [[nodiscard]] bool closed() const noexcept { return closed_; }
  [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
  [[nodiscard]] const Bytes& exporter() const noexcept { return exporter_; }
  [[nodiscard]] std::size_t outbox_bytes() const noexcept { return outbox_bytes_; }
  /// True when the outbox is at most a quarter full (room for a backlog page).
  [[nodiscard]] bool below_low_water() const noexcept;
  [[nodiscard]] bool outbox_empty() const noexcept { return outbox_.empty() && !writing_; }
  /// Requests waiting for the database (the reader pauses at kMaxInflightRequests).
  void begin_request() noexcept { ++inflight_; }
  void end_request() noexcept;

  PeerState& peer() noexcept { return peer_; }

 private:
  asio::awaitable<void> run();
  asio::awaitable<void> reader();
  asio::awaitable<void> writer();
  asio::awaitable<void> watchdog();
  [[nodiscard]] bool handle_body(Bytes& body);
  [[nodiscard]] std::chrono::milliseconds current_timeout() const noexcept;
  void touch() noexcept { last_activity_ = std::chrono::steady_clock::now(); }
  void wake_writer() noexcept;

  TlsStream stream_;
  Hub& hub_;
  SessionLimits limits_;
  std::uint64_t id_;
  PeerState peer_;
  Bytes exporter_;
  TokenBucket frame_bucket_;

  std::deque<std::shared_ptr<const Bytes>> outbox_;
  std::size_t outbox_bytes_ = 0;
  Bytes write_buf_;
  bool writing_ = false;
  bool writer_waiting_ = false;
  bool close_after_flush_ = false;
  CloseReason close_after_flush_reason_ = CloseReason::Protocol;
  Bytes body_;
  bool closed_ = false;
  bool handshake_done_ = false;
  std::uint32_t inflight_ = 0;
  asio::steady_timer writer_signal_;
  asio::steady_timer reader_signal_;
  asio::steady_timer watchdog_timer_;
  std::chrono::steady_clock::time_point last_activity_;
};

}  // namespace hearth::relay
