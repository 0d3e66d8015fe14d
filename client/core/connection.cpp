// SPDX-License-Identifier: Apache-2.0
#include "client/core/connection.h"

#include <array>

#include "common/wire/codec.h"

namespace hearth::client {

namespace {

using boost::system::error_code;

bool is_ip_literal(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

Connection::Connection(asio::any_io_executor ex, TrustConfig trust)
    : trust_(std::move(trust)), ctx_(make_client_context(trust_)), stream_(ex, *ctx_), deadline_(ex) {}

asio::awaitable<ClientResult<void>> Connection::connect(std::string host, std::uint16_t port,
                                                        std::chrono::milliseconds timeout) {
  auto self = shared_from_this();
  arm_deadline(timeout);
  auto failed = [&](ClientCode code, std::string detail) -> ClientResult<void> {
    const bool timed_out = deadline_hit_;
    close();
    if (timed_out) return fail(ClientError{ClientCode::Timeout, "connecting to the relay timed out"});
    return fail(ClientError{code, std::move(detail)});
  };

  error_code ec;
  asio::ip::tcp::resolver resolver(stream_.get_executor());
  // Named arguments only: GCC 12 destroys temporaries inside co_await twice.
  const std::string service = std::to_string(port);
  auto endpoints = co_await resolver.async_resolve(host, service, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return failed(ClientCode::Connect, "cannot resolve the relay's address: " + ec.message());
  if (!open_) co_return failed(ClientCode::Connect, "connection aborted");
  co_await asio::async_connect(stream_.lowest_layer(), endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return failed(ClientCode::Connect, "cannot connect to the relay: " + ec.message());
  stream_.lowest_layer().set_option(asio::ip::tcp::no_delay(true), ec);

  SSL* ssl = stream_.native_handle();
  if (!is_ip_literal(host)) {
    // SSL_set_tlsext_host_name is a macro with a C cast; this is its expansion.
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str()));
  }
  if (!trust_.pinned()) stream_.set_verify_callback(asio::ssl::host_name_verification(host));
  co_await stream_.async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return failed(ClientCode::Tls, "TLS handshake with the relay failed: " + ec.message());

  if (trust_.pinned()) {
    auto presented = peer_spki_sha256(ssl);
    if (!presented) co_return failed(presented.error().code, presented.error().detail);
    if (auto ok = check_pin(trust_.spki_pin, *presented); !ok) co_return failed(ok.error().code, ok.error().detail);
  }
  auto exporter = tls_exporter(ssl);
  if (!exporter) co_return failed(exporter.error().code, exporter.error().detail);
  exporter_ = std::move(*exporter);
  disarm_deadline();
  co_return ClientResult<void>{};
}

asio::awaitable<ClientResult<wire::Frame>> Connection::read_frame() {
  auto self = shared_from_this();  // keeps the stream alive while suspended
  error_code ec;
  std::array<std::uint8_t, wire::kLengthPrefixSize> prefix{};
  co_await asio::async_read(stream_, asio::buffer(prefix), asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return fail(ClientError{ClientCode::Disconnected, "connection closed: " + ec.message()});
  auto length = wire::check_length(prefix, max_frame_size_);
  if (!length) co_return fail(ClientError{ClientCode::Protocol, "bad frame length: " + wire::to_string(length.error())});
  Bytes body(*length);
  co_await asio::async_read(stream_, asio::buffer(body), asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return fail(ClientError{ClientCode::Disconnected, "connection closed: " + ec.message()});
  auto frame = wire::decode(body);
  if (!frame) {
    co_return fail(ClientError{ClientCode::Protocol,
                               "undecodable frame: " + wire::to_string(frame.error().code) + " " + frame.error().detail});
  }
  co_return std::move(*frame);
}

void Connection::send(const wire::Frame& frame) {
  if (!open_) return;
  auto bytes = wire::encode_with_length(frame);
  queued_bytes_ += bytes.size();
  if (queued_bytes_ > kMaxQueuedWriteBytes) {
    close();
    return;
  }
  queue_.push_back(std::move(bytes));
  if (!writing_) write_next();
}

void Connection::write_next() {
  if (queue_.empty() || !open_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  // One gathered write for everything queued so far (DESIGN.md §6 notes).
  in_flight_.clear();
  for (auto& b : queue_) in_flight_.insert(in_flight_.end(), b.begin(), b.end());
  queue_.clear();
  asio::async_write(stream_, asio::buffer(in_flight_),
                    [self = shared_from_this()](const error_code& ec, std::size_t n) {
                      self->queued_bytes_ -= std::min(self->queued_bytes_, n);
                      if (ec) {
                        self->close();
                        self->writing_ = false;
                        return;
                      }
                      self->write_next();
                    });
}

void Connection::close() noexcept {
  if (!open_) return;
  open_ = false;
  deadline_.cancel();
  error_code ignored;
  // No TLS close_notify: the relay treats a closed socket as the end either
  // way, and an async shutdown could hang on a dead peer.
  stream_.lowest_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.lowest_layer().close(ignored);
}

void Connection::arm_deadline(std::chrono::milliseconds timeout) {
  deadline_.expires_after(timeout);
  deadline_.async_wait([weak = weak_from_this()](const error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) {
      self->deadline_hit_ = true;
      self->close();
    }
  });
}

void Connection::disarm_deadline() noexcept { deadline_.cancel(); }

TransportFactory tls_transport() {
  return [](asio::any_io_executor ex, const TrustConfig& trust) -> std::shared_ptr<Transport> {
    return std::make_shared<Connection>(std::move(ex), trust);
  };
}

}  // namespace hearth::client
