// SPDX-License-Identifier: Apache-2.0
#include "tests/support/relay_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/wire/auth.h"
#include "common/wire/codec.h"
#include "common/wire/framing.h"

namespace hearth::test {

using Clock = std::chrono::steady_clock;

Identity make_identity(std::string handle) {
  crypto::init();
  return Identity{std::move(handle), crypto::ed25519_generate(), {}};
}

namespace {

[[nodiscard]] int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 60'000));
}

/// Waits for `events` on fd until the deadline; true when ready.
[[nodiscard]] bool wait_fd(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

RelayClient RelayClient::connect(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout) {
  // A relay that closes on us must fail a write, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  const auto deadline = Clock::now() + timeout;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) throw RelayClientError("not an IPv4 address: " + host);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw RelayClientError("socket failed");
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    throw RelayClientError(std::string("connect failed: ") + std::strerror(errno));
  }
  if (!wait_fd(fd, POLLOUT, deadline)) {
    ::close(fd);
    throw RelayClientError("connect timed out");
  }
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    ::close(fd);
    throw RelayClientError(std::string("connect failed: ") + std::strerror(err));
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  RelayClient client(fd, ctx, ssl);
  for (;;) {
    ERR_clear_error();
    const int r = SSL_connect(ssl);
    if (r == 1) break;
    const int e = SSL_get_error(ssl, r);
    const bool ready = e == SSL_ERROR_WANT_READ    ? wait_fd(fd, POLLIN, deadline)
                       : e == SSL_ERROR_WANT_WRITE ? wait_fd(fd, POLLOUT, deadline)
                                                   : false;
    if (!ready) throw RelayClientError("TLS handshake failed or timed out");
  }
  client.exporter_.resize(wire::kTlsExporterSize);
  if (SSL_export_keying_material(ssl, client.exporter_.data(), client.exporter_.size(),
                                 wire::kTlsExporterLabel.data(), wire::kTlsExporterLabel.size(), nullptr, 0, 0) != 1)
    throw RelayClientError("TLS exporter failed");
  return client;
}

RelayClient::RelayClient(RelayClient&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      ctx_(std::exchange(o.ctx_, nullptr)),
      ssl_(std::exchange(o.ssl_, nullptr)),
      exporter_(std::move(o.exporter_)),
      buf_(std::move(o.buf_)),
      last_request_id_(o.last_request_id_),
      pushes_(std::move(o.pushes_)) {}

RelayClient::~RelayClient() { close(); }

void RelayClient::close() noexcept {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
  ssl_ = nullptr;
  ctx_ = nullptr;
  fd_ = -1;
}

void RelayClient::write_all(BytesView bytes) {
  if (ssl_ == nullptr) throw RelayClientError("connection closed");
  const auto deadline = Clock::now() + kDefaultClientTimeout;
  std::size_t done = 0;
  while (done < bytes.size()) {
    std::size_t written = 0;
    ERR_clear_error();  // SSL_get_error reads the thread's queue: start clean
    const int r = SSL_write_ex(ssl_, bytes.data() + done, bytes.size() - done, &written);
    if (r == 1) {
      done += written;
      continue;
    }
    const int e = SSL_get_error(ssl_, r);
    const bool ready = e == SSL_ERROR_WANT_WRITE  ? wait_fd(fd_, POLLOUT, deadline)
                       : e == SSL_ERROR_WANT_READ ? wait_fd(fd_, POLLIN, deadline)
                                                  : false;
    if (!ready) {
      ERR_clear_error();
      throw RelayClientError("write failed or timed out");
    }
  }
}

void RelayClient::send(const wire::Frame& frame) { write_all(wire::encode_with_length(frame)); }

void RelayClient::send_raw(BytesView bytes) { write_all(bytes); }

ReceiveStatus RelayClient::fill(Clock::time_point deadline) {
  if (ssl_ == nullptr) return ReceiveStatus::Closed;
  std::array<std::uint8_t, 16384> chunk{};
  for (;;) {
    std::size_t got = 0;
    ERR_clear_error();
    const int r = SSL_read_ex(ssl_, chunk.data(), chunk.size(), &got);
    if (r == 1) {
      buf_.insert(buf_.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(got));
      return ReceiveStatus::Frame;
    }
    const int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ) {
      if (!wait_fd(fd_, POLLIN, deadline)) return ReceiveStatus::Timeout;
      continue;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
      if (!wait_fd(fd_, POLLOUT, deadline)) return ReceiveStatus::Timeout;
      continue;
    }
    ERR_clear_error();
    return ReceiveStatus::Closed;  // EOF, reset or a TLS alert
  }
}

std::optional<wire::Frame> RelayClient::take_frame() {
  if (buf_.size() < wire::kLengthPrefixSize) return std::nullopt;
  const std::uint32_t len = get_u32(buf_);
  if (buf_.size() < wire::kLengthPrefixSize + len) return std::nullopt;
  auto frame = wire::decode(BytesView(buf_).subspan(wire::kLengthPrefixSize, len));
  buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(wire::kLengthPrefixSize + len));
  if (!frame) throw RelayClientError("the relay sent an undecodable frame: " + frame.error().detail);
  return std::move(*frame);
}

Received RelayClient::receive(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (auto f = take_frame()) return Received{ReceiveStatus::Frame, std::move(f)};
    const auto status = fill(deadline);
    if (status != ReceiveStatus::Frame) return Received{status, std::nullopt};
  }
}

wire::Frame RelayClient::request(wire::Message body, std::chrono::milliseconds timeout) {
  const auto id = next_request_id();
  send(wire::Frame{id, std::move(body)});
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto r = receive(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    if (r.status == ReceiveStatus::Timeout) throw RelayClientError("timed out waiting for an answer");
    if (r.status == ReceiveStatus::Closed) throw RelayClientError("the relay closed the connection");
    if (r.frame->request_id == id) return std::move(*r.frame);
    if (r.frame->request_id == 0) {
      pushes_.push_back(std::move(*r.frame));
      continue;
    }
    throw RelayClientError("an answer to another request arrived");
  }
}

bool RelayClient::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto r = receive(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    if (r.status == ReceiveStatus::Closed) return true;
    if (r.status == ReceiveStatus::Timeout) return false;
    pushes_.push_back(std::move(*r.frame));
  }
}

bool RelayClient::wait_deliveries(std::size_t n, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  auto count = [&] {
    std::size_t c = 0;
    for (const auto& f : pushes_) c += std::holds_alternative<wire::Deliver>(f.body) ? 1u : 0u;
    return c;
  };
  while (count() < n) {
    auto r = receive(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    if (r.status != ReceiveStatus::Frame) return false;
    pushes_.push_back(std::move(*r.frame));
  }
  return true;
}

std::vector<wire::Deliver> RelayClient::take_deliveries() {
  std::vector<wire::Deliver> out;
  std::deque<wire::Frame> rest;
  for (auto& f : pushes_) {
    if (auto* d = std::get_if<wire::Deliver>(&f.body)) {
      out.push_back(std::move(*d));
    } else {
      rest.push_back(std::move(f));
    }
  }
  pushes_ = std::move(rest);
  return out;
}

wire::HelloOk RelayClient::hello() { return call<wire::HelloOk>(wire::Hello{wire::kProtocolVersion, "hearth-test"}); }

wire::RegisterOk RelayClient::register_account(const std::string& token, Identity& id) {
  const Bytes key(id.key.public_key.begin(), id.key.public_key.end());
  const auto sig = crypto::ed25519_sign(id.key, wire::register_transcript(token, id.handle, key, exporter_));
  auto ok = call<wire::RegisterOk>(wire::Register{token, id.handle, key, Bytes(sig.begin(), sig.end())});
  id.account = ok.account;
  return ok;
}

wire::LoginOk RelayClient::login(const Identity& id) {
  auto challenge = call<wire::LoginChallenge>(wire::LoginStart{id.account});
  const auto sig = crypto::ed25519_sign(id.key, wire::login_transcript(challenge.challenge, exporter_, id.account));
  return call<wire::LoginOk>(wire::LoginProof{Bytes(sig.begin(), sig.end())});
}

wire::SyncOk RelayClient::sync(std::vector<wire::Cursor> cursors) {
  return call<wire::SyncOk>(wire::Sync{std::move(cursors)});
}

}  // namespace hearth::test
