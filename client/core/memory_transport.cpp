// SPDX-License-Identifier: Apache-2.0
#include "client/core/memory_transport.h"

#include "common/wire/codec.h"
#include "common/wire/framing.h"

namespace hearth::client {

MemoryTransport::MemoryTransport(asio::any_io_executor ex, Peer peer, Bytes exporter)
    : ex_(ex),
      peer_(std::move(peer)),
      exporter_(std::move(exporter)),
      signal_(ex),
      deadline_(ex),
      max_frame_size_(wire::kDefaultMaxFrameSize) {}

asio::awaitable<ClientResult<void>> MemoryTransport::connect(std::string, std::uint16_t, std::chrono::milliseconds) {
  if (peer_.on_connect) {
    if (auto refused = peer_.on_connect(*this)) co_return fail(std::move(*refused));
  }
  open_ = true;
  co_return ClientResult<void>{};
}

asio::awaitable<ClientResult<wire::Frame>> MemoryTransport::read_frame() {
  auto self = shared_from_this();
  while (inbox_.empty() && open_) {
    signal_.expires_at(asio::steady_timer::time_point::max());
    boost::system::error_code ec;
    co_await signal_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (inbox_.empty()) co_return fail(ClientError{ClientCode::Disconnected, "connection closed"});
  Bytes body = std::move(inbox_.front());
  inbox_.pop_front();
  if (body.empty() || body.size() > max_frame_size_) {
    co_return fail(ClientError{ClientCode::Protocol, "bad frame length"});
  }
  auto frame = wire::decode(body);
  if (!frame) co_return fail(ClientError{ClientCode::Protocol, "undecodable frame: " + wire::to_string(frame.error().code)});
  co_return std::move(*frame);
}

void MemoryTransport::send(const wire::Frame& frame) {
  if (!open_) return;
  // Through the codec, as on the wire; then to the peer from the event loop.
  auto decoded = wire::decode(wire::encode(frame));
  if (!decoded) {
    close();
    return;
  }
  asio::post(ex_, [self = shared_from_this(), f = std::move(*decoded)] {
    if (self->open_ && self->peer_.on_frame) self->peer_.on_frame(*self, f);
  });
}

void MemoryTransport::deliver(const wire::Frame& frame) {
  if (!open_) return;
  inbox_.push_back(wire::encode(frame));
  signal_.cancel();
}

void MemoryTransport::close() noexcept {
  if (!open_) return;
  open_ = false;
  signal_.cancel();
  deadline_.cancel();
  if (peer_.on_close) peer_.on_close(*this);
}

void MemoryTransport::arm_deadline(std::chrono::milliseconds timeout) {
  deadline_.expires_after(timeout);
  deadline_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) {
      self->deadline_hit_ = true;
      self->close();
    }
  });
}

void MemoryTransport::disarm_deadline() noexcept { deadline_.cancel(); }

}  // namespace hearth::client
