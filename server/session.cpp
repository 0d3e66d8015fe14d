// SPDX-License-Identifier: Apache-2.0
#include "server/session.h"

#include <array>
#include <exception>

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include "common/wire/auth.h"
#include "common/wire/codec.h"
#include "common/wire/framing.h"
#include "server/core/frame_peek.h"

namespace hearth::relay {

using boost::system::error_code;

const char* to_string(CloseReason r) noexcept {
  switch (r) {
    case CloseReason::PeerClosed: return "peer closed";
    case CloseReason::Protocol: return "protocol error";
    case CloseReason::SlowReader: return "slow reader";
    case CloseReason::Idle: return "idle";
    case CloseReason::Shutdown: return "shutdown";
    case CloseReason::Handshake: return "handshake";
  }
  return "unknown";
}

Session::Session(asio::ip::tcp::socket socket, asio::ssl::context& tls, Hub& hub, const SessionLimits& limits,
                 std::uint64_t id)
    : stream_(std::move(socket), tls.native_handle()),
      hub_(hub),
      limits_(limits),
      id_(id),
      frame_bucket_(limits.frame_rate, limits.frame_burst, hub.now_ms()),
      writer_signal_(stream_.get_executor()),
      reader_signal_(stream_.get_executor()),
      watchdog_timer_(stream_.get_executor()),
      last_activity_(std::chrono::steady_clock::now()) {}

void Session::start() {
  auto self = shared_from_this();
  asio::co_spawn(stream_.get_executor(), run(), [self](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        spdlog::warn("connection {} ended by an exception: {}", self->id_, x.what());
      }
      self->close(CloseReason::PeerClosed);
      return;
    }
    // After a final Error the writer closes once it is flushed.
    if (!self->close_after_flush_) self->close(CloseReason::PeerClosed);
  });
}

bool Session::below_low_water() const noexcept {
  return outbox_bytes_ <= limits_.outbox_bytes / 4 && outbox_.size() <= limits_.outbox_frames / 4;
}

void Session::end_request() noexcept {
  if (inflight_ > 0) --inflight_;
  if (inflight_ + 1 == kMaxInflightRequests) reader_signal_.cancel();
}

void Session::wake_writer() noexcept {
  // Only a waiting writer needs the timer poked; a busy one re-checks the
  // outbox after its write, so fan-out to many sessions stays cheap.
  if (writer_waiting_) {
    writer_waiting_ = false;
    writer_signal_.cancel();
  }
}

void Session::send(const wire::Frame& frame) {
  if (closed_) return;
  enqueue(std::make_shared<const Bytes>(wire::encode_with_length(frame)));
}

void Session::enqueue(std::shared_ptr<const Bytes> frame) {
  if (closed_) return;
  if (outbox_bytes_ + frame->size() > limits_.outbox_bytes || outbox_.size() >= limits_.outbox_frames) {
    close(CloseReason::SlowReader);
    return;
  }
  outbox_bytes_ += frame->size();
  outbox_.push_back(std::move(frame));
  wake_writer();
}

void Session::send_error_and_close(std::uint64_t request_id, wire::ErrorCode code, std::string message) {
  if (closed_ || close_after_flush_) return;
  hub_.count_error(code);
  send(wire::Frame{request_id, wire::Error{code, std::move(message), std::nullopt}});
  close_after_flush_ = true;
  close_after_flush_reason_ = CloseReason::Protocol;
  wake_writer();
  touch();
  watchdog_timer_.cancel();  // re-arm with the short flush grace
}

void Session::close(CloseReason why) {
  if (closed_) return;
  closed_ = true;
  error_code ec;
  writer_signal_.cancel();
  reader_signal_.cancel();
  watchdog_timer_.cancel();
  stream_.close();
  outbox_.clear();
  outbox_bytes_ = 0;
  hub_.on_close(*this, why);
}

asio::awaitable<void> Session::run() {
  auto self = shared_from_this();
  error_code ec;
  stream_.socket().set_option(asio::ip::tcp::no_delay(true), ec);
  touch();
  asio::co_spawn(stream_.get_executor(), watchdog(), [self](std::exception_ptr e) {
    if (e) self->close(CloseReason::PeerClosed);
  });
  ec = co_await stream_.handshake();
  if (ec || closed_) {
    close(CloseReason::Handshake);
    co_return;
  }
  exporter_.resize(wire::kTlsExporterSize);
  if (SSL_export_keying_material(stream_.native_handle(), exporter_.data(), exporter_.size(),
                                 wire::kTlsExporterLabel.data(), wire::kTlsExporterLabel.size(), nullptr, 0,
                                 0) != 1) {
    close(CloseReason::Handshake);
    co_return;
  }
  handshake_done_ = true;
  touch();
  watchdog_timer_.cancel();  // re-arm with the idle timeout
  hub_.on_open(*this);
  asio::co_spawn(stream_.get_executor(), writer(), [self](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        spdlog::warn("connection {} writer ended by an exception: {}", self->id_, x.what());
      }
    }
    self->close(CloseReason::PeerClosed);
  });
  co_await reader();
}

asio::awaitable<void> Session::reader() {
  error_code ec;
  std::array<std::uint8_t, wire::kLengthPrefixSize> prefix{};
  while (!closed_ && !close_after_flush_) {
    while (inflight_ >= kMaxInflightRequests && !closed_) {
      reader_signal_.expires_at(std::chrono::steady_clock::time_point::max());
      co_await reader_signal_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    ec = co_await stream_.read_exact(prefix);
    if (ec || closed_) break;
    touch();
    auto length = wire::check_length(prefix, limits_.max_frame_size);
    if (!length) {
      const bool zero = length.error() == wire::FramingError::ZeroLength;
      send_error_and_close(0, zero ? wire::ErrorCode::MalformedFrame : wire::ErrorCode::FrameTooLarge,
                           wire::to_string(length.error()));
      co_return;
    }
    body_.resize(*length);
    ec = co_await stream_.read_exact(body_);
    if (ec || closed_) break;
    touch();
    if (!handle_body(body_)) co_return;
    if (body_.capacity() > kIdleWriteBufferKeep) Bytes().swap(body_);
  }
  if (!closed_ && !close_after_flush_) close(CloseReason::PeerClosed);
}

bool Session::handle_body(Bytes& body) {
  auto frame = wire::decode(body);
  if (!frame) {
    const auto request_id = peek_request_id(body).value_or(0);
    hub_.count_error(wire::ErrorCode::MalformedFrame);
    send(wire::Frame{request_id, wire::Error{wire::ErrorCode::MalformedFrame, wire::to_string(frame.error().code) +
                                                                                 ": " + frame.error().detail,
                                             std::nullopt}});
    hub_.on_bad_frame(*this);
    return !closed_ && !close_after_flush_;
  }
  if (!frame_bucket_.try_take(hub_.now_ms())) {
    hub_.count_error(wire::ErrorCode::RateLimited);
    send(wire::Frame{frame->request_id,
                     wire::Error{wire::ErrorCode::RateLimited, "too many frames; slow down", std::nullopt}});
    return !closed_;
  }
  hub_.on_frame(*this, std::move(*frame));
  return !closed_ && !close_after_flush_;
}

asio::awaitable<void> Session::writer() {
  error_code ec;
  while (!closed_) {
    if (outbox_.empty()) {
      if (close_after_flush_) {
        close(close_after_flush_reason_);
        break;
      }
      if (write_buf_.capacity() > kIdleWriteBufferKeep) Bytes().swap(write_buf_);
      writer_signal_.expires_at(std::chrono::steady_clock::time_point::max());
      writer_waiting_ = true;
      co_await writer_signal_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      writer_waiting_ = false;
      continue;
    }
    // Gather: one contiguous buffer per turn costs one SSL_write (a few
    // records, one syscall each) instead of one per frame.
    write_buf_.clear();
    while (!outbox_.empty() &&
           (write_buf_.empty() || write_buf_.size() + outbox_.front()->size() <= kMaxWriteBatchBytes)) {
      const auto& f = *outbox_.front();
      write_buf_.insert(write_buf_.end(), f.begin(), f.end());
      outbox_bytes_ -= f.size();
      outbox_.pop_front();
    }
    writing_ = true;
    ec = co_await stream_.write_all(write_buf_);
    writing_ = false;
    if (ec || closed_) break;
    if (below_low_water()) hub_.on_drained(*this);
  }
  if (!closed_) close(CloseReason::PeerClosed);
}

std::chrono::milliseconds Session::current_timeout() const noexcept {
  if (close_after_flush_) return std::min<std::chrono::milliseconds>(kCloseFlushGrace, limits_.idle_timeout);
  return handshake_done_ ? limits_.idle_timeout : limits_.handshake_timeout;
}

asio::awaitable<void> Session::watchdog() {
  error_code ec;
  while (!closed_) {
    const auto timeout = current_timeout();
    watchdog_timer_.expires_at(last_activity_ + timeout);
    co_await watchdog_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (closed_) break;
    const auto limit = current_timeout();
    if (std::chrono::steady_clock::now() >= last_activity_ + limit) {
      close(handshake_done_ ? CloseReason::Idle : CloseReason::Handshake);
      break;
    }
  }
}

}  // namespace hearth::relay
