// SPDX-License-Identifier: Apache-2.0
#pragma once
// A lean server-side TLS stream: OpenSSL works directly on the non-blocking
// socket and Asio only waits for readiness. Unlike asio::ssl::stream (two
// 17 KiB engine buffers plus a BIO pair per connection, always allocated),
// an idle connection here holds only OpenSSL's state: with
// SSL_MODE_RELEASE_BUFFERS its record buffers are freed between uses. That
// is what lets thousands of mostly idle connections fit the memory goal.
//
// One reader and one writer coroutine may use the stream at the same time
// (full duplex on one SSL object, one thread). Every call clears the
// thread's OpenSSL error queue first: the queue is shared by every
// connection on the io thread.
//
// Thread affinity: the io thread.

#include <cstdint>
#include <span>

#include "server/asio.h"

struct ssl_st;
struct ssl_ctx_st;

namespace hearth::relay {

class TlsStream {
 public:
  /// Takes the accepted socket; the context must outlive the stream.
  TlsStream(asio::ip::tcp::socket socket, ssl_ctx_st* ctx);
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;
  ~TlsStream();

  /// The server side of the TLS handshake.
  [[nodiscard]] asio::awaitable<boost::system::error_code> handshake();
  /// Fills `out` completely (or fails: EOF, reset, TLS error, closed).
  [[nodiscard]] asio::awaitable<boost::system::error_code> read_exact(std::span<std::uint8_t> out);
  /// Writes all of `data`.
  [[nodiscard]] asio::awaitable<boost::system::error_code> write_all(std::span<const std::uint8_t> data);
  /// Closes the socket; pending operations end with an error.
  void close() noexcept;

  [[nodiscard]] ssl_st* native_handle() const noexcept { return ssl_; }
  [[nodiscard]] asio::ip::tcp::socket& socket() noexcept { return socket_; }
  [[nodiscard]] asio::any_io_executor get_executor() { return socket_.get_executor(); }

 private:
  /// Waits until the socket is ready for what OpenSSL asked (`ssl_error`
  /// is SSL_ERROR_WANT_READ or SSL_ERROR_WANT_WRITE); other errors fail.
  [[nodiscard]] asio::awaitable<boost::system::error_code> wait_for(int ssl_error);

  asio::ip::tcp::socket socket_;
  ssl_st* ssl_ = nullptr;
};

}  // namespace hearth::relay
