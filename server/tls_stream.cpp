// SPDX-License-Identifier: Apache-2.0
#include "server/tls_stream.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdexcept>

namespace hearth::relay {

using boost::system::error_code;

TlsStream::TlsStream(asio::ip::tcp::socket socket, ssl_ctx_st* ctx) : socket_(std::move(socket)) {
  error_code ec;
  socket_.non_blocking(true, ec);
  ssl_ = SSL_new(ctx);
  if (ssl_ == nullptr) throw std::runtime_error("SSL_new failed");
  SSL_set_fd(ssl_, socket_.native_handle());
  SSL_set_accept_state(ssl_);
  SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
}

TlsStream::~TlsStream() {
  if (ssl_ != nullptr) SSL_free(ssl_);
}

void TlsStream::close() noexcept {
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

asio::awaitable<error_code> TlsStream::wait_for(int ssl_error) {
  error_code ec;
  if (ssl_error == SSL_ERROR_WANT_READ) {
    co_await socket_.async_wait(asio::ip::tcp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
  } else if (ssl_error == SSL_ERROR_WANT_WRITE) {
    co_await socket_.async_wait(asio::ip::tcp::socket::wait_write, asio::redirect_error(asio::use_awaitable, ec));
  } else {
    ERR_clear_error();
    ec = ssl_error == SSL_ERROR_ZERO_RETURN ? error_code(asio::error::eof) : error_code(asio::error::connection_reset);
  }
  if (!ec && !socket_.is_open()) ec = asio::error::operation_aborted;
  co_return ec;
}

asio::awaitable<error_code> TlsStream::handshake() {
  for (;;) {
    if (!socket_.is_open()) co_return error_code(asio::error::operation_aborted);
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl_);
    if (r == 1) co_return error_code{};
    if (auto ec = co_await wait_for(SSL_get_error(ssl_, r))) co_return ec;
  }
}

asio::awaitable<error_code> TlsStream::read_exact(std::span<std::uint8_t> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    if (!socket_.is_open()) co_return error_code(asio::error::operation_aborted);
    std::size_t got = 0;
    ERR_clear_error();
    const int r = SSL_read_ex(ssl_, out.data() + done, out.size() - done, &got);
    if (r == 1) {
      done += got;
      continue;
    }
    if (auto ec = co_await wait_for(SSL_get_error(ssl_, r))) co_return ec;
  }
  co_return error_code{};
}

asio::awaitable<error_code> TlsStream::write_all(std::span<const std::uint8_t> data) {
  std::size_t done = 0;
  while (done < data.size()) {
    if (!socket_.is_open()) co_return error_code(asio::error::operation_aborted);
    std::size_t wrote = 0;
    ERR_clear_error();
    const int r = SSL_write_ex(ssl_, data.data() + done, data.size() - done, &wrote);
    if (r == 1) {
      done += wrote;
      continue;
    }
    if (auto ec = co_await wait_for(SSL_get_error(ssl_, r))) co_return ec;
  }
  co_return error_code{};
}

}  // namespace hearth::relay
