// SPDX-License-Identifier: Apache-2.0
#include "bench/relay/tls_socket.h"

#include <array>
#include <climits>
#include <openssl/err.h>

#include "bench/relay/relay_process.h"

namespace hearth::bench {
namespace {

// Ciphertext lands here and goes straight into the connection's read BIO,
// before any other connection can read: one buffer serves them all.
std::array<std::uint8_t, 64 * 1024> g_scratch;

int clamp_int(std::size_t n) { return static_cast<int>(std::min<std::size_t>(n, INT_MAX)); }

}  // namespace

std::string openssl_error() {
  std::string text;
  while (unsigned long e = ERR_get_error()) {
    std::array<char, 256> buf{};
    ERR_error_string_n(e, buf.data(), buf.size());
    text = buf.data();
  }
  return text.empty() ? "unknown TLS error" : text;
}

TlsSocket::TlsSocket(asio::io_context& io, SSL_CTX* ctx) : socket_(io), ssl_(SSL_new(ctx)) {
  if (ssl_ == nullptr) throw BenchError("SSL_new failed: " + openssl_error());
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  if (rbio_ == nullptr || wbio_ == nullptr) throw BenchError("BIO_new failed");
  // An empty memory BIO reports "retry" rather than EOF, so SSL_read says WANT_READ.
  BIO_set_mem_eof_return(rbio_, -1);
  SSL_set_bio(ssl_, rbio_, wbio_);
  SSL_set_connect_state(ssl_);
}

TlsSocket::~TlsSocket() { SSL_free(ssl_); }

void TlsSocket::close() noexcept {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

bool TlsSocket::has_output() const noexcept { return BIO_ctrl_pending(wbio_) > 0; }

void TlsSocket::take_output(Bytes& cipher) {
  const std::size_t pending = BIO_ctrl_pending(wbio_);
  if (pending == 0) return;
  const std::size_t at = cipher.size();
  cipher.resize(at + pending);
  const int n = BIO_read(wbio_, cipher.data() + at, clamp_int(pending));
  cipher.resize(at + static_cast<std::size_t>(std::max(n, 0)));
}

bool TlsSocket::encrypt(BytesView plain, Bytes& cipher) {
  std::size_t done = 0;
  while (done < plain.size()) {
    const int n = SSL_write(ssl_, plain.data() + done, clamp_int(plain.size() - done));
    if (n <= 0) return false;  // a memory BIO never blocks: this is a real failure
    done += static_cast<std::size_t>(n);
  }
  take_output(cipher);
  return true;
}

asio::awaitable<void> TlsSocket::connect(tcp::endpoint relay) {
  boost::system::error_code ec;
  co_await socket_.async_connect(relay, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    throw BenchError("connect to " + relay.address().to_string() + ":" + std::to_string(relay.port()) +
                     " failed: " + ec.message());
  }
  socket_.set_option(tcp::no_delay(true));
  socket_.non_blocking(true);
  Bytes out;
  for (;;) {
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl_);
    const int err = r == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, r);
    out.clear();
    take_output(out);
    if (!out.empty()) {
      co_await asio::async_write(socket_, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) throw BenchError("TLS handshake: write failed: " + ec.message());
    }
    if (r == 1) break;
    if (err != SSL_ERROR_WANT_READ) throw BenchError("TLS handshake failed: " + openssl_error());
    co_await socket_.async_wait(tcp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) throw BenchError("TLS handshake: " + ec.message());
    const std::size_t n = socket_.read_some(asio::buffer(g_scratch), ec);
    if (ec == asio::error::would_block) continue;
    if (ec) throw BenchError("TLS handshake: the relay closed the connection (" + ec.message() + ")");
    BIO_write(rbio_, g_scratch.data(), clamp_int(n));
  }
  if (SSL_version(ssl_) != TLS1_3_VERSION) throw BenchError("the relay negotiated a TLS version below 1.3");
}

asio::awaitable<std::string> TlsSocket::read(Bytes& in, std::size_t& len) {
  for (;;) {
    // Decrypt everything already buffered before waiting for more.
    bool got = false;
    for (;;) {
      if (len == in.size()) in.resize(std::max<std::size_t>(in.size() * 2, 4096));
      // No ERR_clear_error() per call (it costs 3 % of the bench at 300 k/s):
      // the queue is empty after the handshake and any error ends the connection.
      const int n = SSL_read(ssl_, in.data() + len, clamp_int(in.size() - len));
      if (n > 0) {
        len += static_cast<std::size_t>(n);
        got = true;
        continue;
      }
      const int err = SSL_get_error(ssl_, n);
      if (err == SSL_ERROR_WANT_READ) break;
      if (err == SSL_ERROR_ZERO_RETURN) co_return std::string("the relay closed the TLS session");
      co_return "TLS error: " + openssl_error();
    }
    if (got) co_return std::string();
    boost::system::error_code ec;
    co_await socket_.async_wait(tcp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return ec.message();
    const std::size_t n = socket_.read_some(asio::buffer(g_scratch), ec);
    if (ec == asio::error::would_block) continue;
    if (ec) co_return ec.message();
    BIO_write(rbio_, g_scratch.data(), clamp_int(n));
  }
}

}  // namespace hearth::bench
