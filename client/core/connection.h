// SPDX-License-Identifier: Apache-2.0
#pragma once
// One TLS connection to the relay, speaking frames.
//
//   connect(): resolve -> TCP connect -> TLS 1.3 handshake -> pin check
//   read_frame(): 4-byte length (checked before allocating) -> body -> decode
//   send(): queued; everything queued is written in one gathered write
//
// Thread affinity: everything runs on the io_context the connection was made
// on (the engine's network thread). Not thread-safe by itself.

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "client/core/asio.h"
#include "client/core/errors.h"
#include "client/core/tls.h"
#include "client/core/transport.h"
#include "common/wire/framing.h"
#include "common/wire/messages.h"

namespace hearth::client {

/// Bytes queued for writing before the connection is considered stuck and closed.
inline constexpr std::size_t kMaxQueuedWriteBytes = 8u << 20;

class Connection final : public Transport, public std::enable_shared_from_this<Connection> {
 public:
  using Stream = asio::ssl::stream<asio::ip::tcp::socket>;

  /// A connection verified by `trust` (not yet connected). Throws only on
  /// an OpenSSL start-up failure.
  Connection(asio::any_io_executor ex, TrustConfig trust);

  /// Connects and completes the TLS handshake within `timeout`. Errors:
  /// Connect, Tls, PinMismatch (naming both hashes), Timeout. close() from
  /// elsewhere aborts it (Connect or Tls).
  [[nodiscard]] asio::awaitable<ClientResult<void>> connect(std::string host, std::uint16_t port,
                                                            std::chrono::milliseconds timeout) override;

  /// Reads one frame. Errors: Disconnected (closed or reset), Protocol (bad
  /// length or undecodable frame: the stream is out of sync, close it).
  [[nodiscard]] asio::awaitable<ClientResult<wire::Frame>> read_frame() override;
  /// Queues a frame. Silently nothing after close(); past kMaxQueuedWriteBytes
  /// the connection closes itself (the reader then sees Disconnected).
  void send(const wire::Frame& frame) override;
  /// Closes the socket; pending reads complete with Disconnected.
  void close() noexcept override;
  [[nodiscard]] bool is_open() const noexcept override { return open_; }

  /// Closes the connection if it is still open after `timeout` (a watchdog
  /// for steps that have no answer timeout of their own). disarm() stops it.
  void arm_deadline(std::chrono::milliseconds timeout) override;
  void disarm_deadline() noexcept override;
  [[nodiscard]] bool deadline_hit() const noexcept override { return deadline_hit_; }

  [[nodiscard]] const Bytes& exporter() const noexcept override { return exporter_; }
  void set_max_frame_size(std::uint32_t n) noexcept override { max_frame_size_ = n; }
  [[nodiscard]] std::uint32_t max_frame_size() const noexcept { return max_frame_size_; }

 private:
  void write_next();

  TrustConfig trust_;
  std::shared_ptr<asio::ssl::context> ctx_;  // must outlive stream_
  Stream stream_;
  asio::steady_timer deadline_;
  bool open_ = true;
  bool deadline_hit_ = false;
  bool writing_ = false;
  std::deque<Bytes> queue_;
  std::size_t queued_bytes_ = 0;
  Bytes in_flight_;
  Bytes exporter_;
  std::uint32_t max_frame_size_ = wire::kDefaultMaxFrameSize;
};

}  // namespace hearth::client
