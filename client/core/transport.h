// SPDX-License-Identifier: Apache-2.0
#pragma once
// The engine's view of one connection to the relay: frames in, frames out.
// Connection (TLS over TCP) is the real one; MemoryTransport connects the
// engine to an in-process peer for tests.
//
// Thread affinity: every method runs on the engine's network thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "client/core/asio.h"
#include "client/core/errors.h"
#include "client/core/tls.h"
#include "common/wire/messages.h"

namespace hearth::client {

class Transport {
 public:
  virtual ~Transport() = default;

  /// Establishes the connection within `timeout`. Errors: Connect, Tls,
  /// PinMismatch, Timeout. close() from elsewhere aborts it.
  [[nodiscard]] virtual asio::awaitable<ClientResult<void>> connect(std::string host, std::uint16_t port,
                                                                    std::chrono::milliseconds timeout) = 0;
  /// The next frame. Errors: Disconnected (closed), Protocol (undecodable
  /// or over-long frame: close the connection).
  [[nodiscard]] virtual asio::awaitable<ClientResult<wire::Frame>> read_frame() = 0;
  /// Queues a frame; nothing after close().
  virtual void send(const wire::Frame& frame) = 0;
  /// Ends the connection; a pending read_frame completes with Disconnected.
  virtual void close() noexcept = 0;
  [[nodiscard]] virtual bool is_open() const noexcept = 0;

  /// Closes the connection if still open after `timeout`; disarm_deadline() stops it.
  virtual void arm_deadline(std::chrono::milliseconds timeout) = 0;
  virtual void disarm_deadline() noexcept = 0;
  [[nodiscard]] virtual bool deadline_hit() const noexcept = 0;

  /// The TLS exporter value of this connection (binds login to it).
  [[nodiscard]] virtual const Bytes& exporter() const noexcept = 0;
  virtual void set_max_frame_size(std::uint32_t n) noexcept = 0;
};

/// Makes one unconnected transport; called once per connection attempt.
using TransportFactory = std::function<std::shared_ptr<Transport>(asio::any_io_executor, const TrustConfig&)>;

/// TLS 1.3 over TCP (Connection).
[[nodiscard]] TransportFactory tls_transport();

}  // namespace hearth::client
