// SPDX-License-Identifier: Apache-2.0
#pragma once
// A TLS 1.3 client connection driven through OpenSSL memory BIOs over a
// plain Asio socket.
//
// Why not asio::ssl::stream: it hands back at most one TLS record per read
// and runs one Asio operation per record, and keeps two 17 KiB buffers per
// connection. At 300,000 deliveries/s on one core the bench must not pay
// that: here one readiness wake-up reads up to 64 KiB of ciphertext (into one
// scratch buffer shared by every connection, since it is consumed before the
// next read) and decrypts every complete record in it; a write encrypts
// everything queued in one SSL_write and sends the records in one syscall.
//
// Thread affinity: one io_context thread for every TlsSocket of a process
// (the scratch buffer is shared).

#include <openssl/ssl.h>
#include <string>

#include "bench/relay/asio.h"
#include "common/types/bytes.h"

namespace hearth::bench {

class TlsSocket {
 public:
  /// `ctx` must outlive the socket and be configured for TLS 1.3 clients.
  TlsSocket(asio::io_context& io, SSL_CTX* ctx);
  TlsSocket(const TlsSocket&) = delete;
  TlsSocket& operator=(const TlsSocket&) = delete;
  ~TlsSocket();

  /// TCP connect (TCP_NODELAY) and TLS handshake. Throws BenchError.
  [[nodiscard]] asio::awaitable<void> connect(tcp::endpoint relay);

  /// Waits for ciphertext and appends all plaintext it yields to
  /// in[len...] (growing `in` when full). Returns an empty string when at
  /// least one byte arrived, else why the stream ended (EOF, reset, TLS alert).
  [[nodiscard]] asio::awaitable<std::string> read(Bytes& in, std::size_t& len);

  /// Encrypts `plain` and appends the TLS records to `cipher`. Returns false
  /// when OpenSSL refuses (the connection is then unusable).
  [[nodiscard]] bool encrypt(BytesView plain, Bytes& cipher);
  /// Appends TLS records OpenSSL produced on its own (e.g. a KeyUpdate reply).
  void take_output(Bytes& cipher);
  [[nodiscard]] bool has_output() const noexcept;

  [[nodiscard]] SSL* native() noexcept { return ssl_; }
  [[nodiscard]] tcp::socket& socket() noexcept { return socket_; }
  void close() noexcept;

 private:
  tcp::socket socket_;
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;  // ciphertext from the relay, owned by ssl_
  BIO* wbio_ = nullptr;  // ciphertext to the relay, owned by ssl_
};

/// The last OpenSSL error queued on this thread, as text (clears the queue).
[[nodiscard]] std::string openssl_error();

}  // namespace hearth::bench
