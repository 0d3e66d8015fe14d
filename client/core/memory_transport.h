// SPDX-License-Identifier: Apache-2.0
#pragma once
// A Transport to an in-process peer, for engine tests without sockets. The
// peer (a fake relay) sees every frame the engine sends through `Peer` and
// answers with deliver(). Frames pass through the real codec both ways, so a
// frame the codec would refuse is refused here too.
//
// Thread affinity: all of it on the engine's network thread (the peer's
// callbacks run there too); from another thread, post to executor().

#include <deque>
#include <functional>
#include <memory>

#include "client/core/transport.h"

namespace hearth::client {

class MemoryTransport final : public Transport, public std::enable_shared_from_this<MemoryTransport> {
 public:
  struct Peer {
    /// Called once connect() succeeded; nullopt accepts, an error refuses.
    std::function<std::optional<ClientError>(MemoryTransport&)> on_connect;
    /// Every frame the engine sends, in order (posted, never re-entrant).
    std::function<void(MemoryTransport&, const wire::Frame&)> on_frame;
    /// The connection ended (either side).
    std::function<void(MemoryTransport&)> on_close;
  };

  MemoryTransport(asio::any_io_executor ex, Peer peer, Bytes exporter);

  [[nodiscard]] asio::awaitable<ClientResult<void>> connect(std::string host, std::uint16_t port,
                                                            std::chrono::milliseconds timeout) override;
  [[nodiscard]] asio::awaitable<ClientResult<wire::Frame>> read_frame() override;
  void send(const wire::Frame& frame) override;
  void close() noexcept override;
  [[nodiscard]] bool is_open() const noexcept override { return open_; }
  void arm_deadline(std::chrono::milliseconds timeout) override;
  void disarm_deadline() noexcept override;
  [[nodiscard]] bool deadline_hit() const noexcept override { return deadline_hit_; }
  [[nodiscard]] const Bytes& exporter() const noexcept override { return exporter_; }
  void set_max_frame_size(std::uint32_t n) noexcept override { max_frame_size_ = n; }

  /// The peer sends a frame to the engine.
  void deliver(const wire::Frame& frame);
  [[nodiscard]] asio::any_io_executor executor() const { return ex_; }

 private:
  asio::any_io_executor ex_;
  Peer peer_;
  Bytes exporter_;
  asio::steady_timer signal_;    // wakes read_frame (cancelled on deliver/close)
  asio::steady_timer deadline_;
  std::deque<Bytes> inbox_;      // encoded frames from the peer
  bool open_ = false;
  bool deadline_hit_ = false;
  std::uint32_t max_frame_size_ = 0;
};

}  // namespace hearth::client
