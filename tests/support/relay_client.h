// SPDX-License-Identifier: Apache-2.0
#pragma once
// A small blocking TLS client for the relay, for tests and tools. Plain
// OpenSSL over a blocking socket; every wait is bounded by a timeout. No pin
// check (tests talk to a relay they started). Not thread-safe.
//
//   auto c = RelayClient::connect("127.0.0.1", port);
//   c.hello();
//   auto me = make_identity("alice");
//   c.register_account(token, me);          // or c.login(me)
//   auto answer = c.request(wire::Ping{7}); // pushes that arrive meanwhile
//                                           // are kept in c.pushes()

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>

#include "common/crypto/crypto.h"
#include "common/types/bytes.h"
#include "common/types/ids.h"
#include "common/wire/messages.h"

struct ssl_st;
struct ssl_ctx_st;

namespace hearth::test {

/// A device identity: its signing key, and the account once registered.
struct Identity {
  std::string handle;
  crypto::SigningKey key;
  AccountId account;
};
[[nodiscard]] Identity make_identity(std::string handle);

/// Thrown when the relay answers a request with an Error, or closes, or is too slow.
class RelayClientError : public std::runtime_error {
 public:
  explicit RelayClientError(const std::string& what, std::optional<wire::Error> error = std::nullopt)
      : std::runtime_error(what), error_(std::move(error)) {}
  [[nodiscard]] const std::optional<wire::Error>& error() const noexcept { return error_; }

 private:
  std::optional<wire::Error> error_;
};

enum class ReceiveStatus { Frame, Timeout, Closed };

struct Received {
  ReceiveStatus status = ReceiveStatus::Timeout;
  std::optional<wire::Frame> frame;
};

inline constexpr std::chrono::milliseconds kDefaultClientTimeout{10'000};

class RelayClient {
 public:
  /// TCP connect and TLS 1.3 handshake. Throws RelayClientError.
  [[nodiscard]] static RelayClient connect(const std::string& host, std::uint16_t port,
                                           std::chrono::milliseconds timeout = kDefaultClientTimeout);
  RelayClient(RelayClient&& other) noexcept;
  RelayClient& operator=(RelayClient&&) = delete;
  RelayClient(const RelayClient&) = delete;
  RelayClient& operator=(const RelayClient&) = delete;
  ~RelayClient();

  /// This connection's TLS exporter value (what auth transcripts bind to).
  [[nodiscard]] const Bytes& exporter() const noexcept { return exporter_; }

  /// Sends a frame (with its length prefix).
  void send(const wire::Frame& frame);
  /// Sends raw bytes inside the TLS stream (for framing tests).
  void send_raw(BytesView bytes);
  /// The next frame from the relay, waiting at most `timeout`.
  [[nodiscard]] Received receive(std::chrono::milliseconds timeout = kDefaultClientTimeout);
  /// Sends `body` with a fresh request id and returns the answer with that
  /// id (an Error answer is returned, not thrown). Pushes that arrive first
  /// are kept in pushes(). Throws on timeout, close or a stray answer.
  [[nodiscard]] wire::Frame request(wire::Message body, std::chrono::milliseconds timeout = kDefaultClientTimeout);
  /// Like request(), but throws RelayClientError on an Error answer and
  /// returns the body as T.
  template <class T>
  [[nodiscard]] T call(wire::Message body, std::chrono::milliseconds timeout = kDefaultClientTimeout);
  /// Waits until the relay closes the connection; false on timeout. Frames
  /// that arrive meanwhile go to pushes().
  [[nodiscard]] bool wait_closed(std::chrono::milliseconds timeout = kDefaultClientTimeout);

  /// Pushes (request id 0) received while waiting for answers.
  [[nodiscard]] std::deque<wire::Frame>& pushes() noexcept { return pushes_; }
  /// Waits until `n` Deliver pushes are queued (reading more frames); false on timeout.
  [[nodiscard]] bool wait_deliveries(std::size_t n, std::chrono::milliseconds timeout = kDefaultClientTimeout);
  /// Removes and returns the queued Deliver pushes, in arrival order.
  [[nodiscard]] std::vector<wire::Deliver> take_deliveries();

  // ---- protocol helpers (each throws RelayClientError on an Error answer)
  wire::HelloOk hello();
  /// Registers with `token`; sets id.account.
  wire::RegisterOk register_account(const std::string& token, Identity& id);
  wire::LoginOk login(const Identity& id);
  /// Sync with the given cursors; returns SyncOk. The backlog lands in pushes().
  wire::SyncOk sync(std::vector<wire::Cursor> cursors = {});

  [[nodiscard]] std::uint64_t next_request_id() noexcept { return ++last_request_id_; }
  /// Shuts the TLS connection down (no more reads or writes).
  void close() noexcept;

 private:
  RelayClient(int fd, ssl_ctx_st* ctx, ssl_st* ssl) noexcept : fd_(fd), ctx_(ctx), ssl_(ssl) {}
  /// Reads more bytes into buf_; Timeout / Closed / Frame (= got bytes).
  [[nodiscard]] ReceiveStatus fill(std::chrono::steady_clock::time_point deadline);
  [[nodiscard]] std::optional<wire::Frame> take_frame();
  void write_all(BytesView bytes);

  int fd_ = -1;
  ssl_ctx_st* ctx_ = nullptr;
  ssl_st* ssl_ = nullptr;
  Bytes exporter_;
  Bytes buf_;
  std::uint64_t last_request_id_ = 0;
  std::deque<wire::Frame> pushes_;
};

template <class T>
T RelayClient::call(wire::Message body, std::chrono::milliseconds timeout) {
  const char* kind = wire::kind_name(body);
  wire::Frame answer = request(std::move(body), timeout);
  if (auto* e = std::get_if<wire::Error>(&answer.body))
    throw RelayClientError(std::string(kind) + " failed: " + wire::to_string(e->code) + " (" + e->message + ")", *e);
  if (auto* t = std::get_if<T>(&answer.body)) return std::move(*t);
  throw RelayClientError(std::string(kind) + ": unexpected answer " + wire::kind_name(answer.body));
}

}  // namespace hearth::test
