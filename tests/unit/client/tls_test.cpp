// SPDX-License-Identifier: Apache-2.0
// The relay key checks: SPKI hashing, pin comparison, and a real TLS 1.3
// handshake against an in-process server with a self-signed certificate.
#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <thread>

#include "client/core/connection.h"
#include "client/core/tls.h"
#include "common/crypto/crypto.h"
#include "common/wire/invite.h"

using namespace hearth;
using namespace hearth::client;
using namespace std::chrono_literals;

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* c) const { X509_free(c); }
};

struct SelfSigned {
  std::unique_ptr<EVP_PKEY, PkeyFree> key;
  std::unique_ptr<X509, X509Free> cert;
};

SelfSigned make_self_signed() {
  SelfSigned s;
  EVP_PKEY_CTX* kctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
  REQUIRE(kctx);
  EVP_PKEY* raw = nullptr;
  REQUIRE(EVP_PKEY_keygen_init(kctx) == 1);
  REQUIRE(EVP_PKEY_keygen(kctx, &raw) == 1);
  EVP_PKEY_CTX_free(kctx);
  s.key.reset(raw);
  s.cert.reset(X509_new());
  X509_set_version(s.cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(s.cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(s.cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(s.cert.get()), 3600);
  X509_set_pubkey(s.cert.get(), s.key.get());
  X509_NAME* name = X509_get_subject_name(s.cert.get());
  const std::string cn = "hearth-test-relay";
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(s.cert.get(), name);
  REQUIRE(X509_sign(s.cert.get(), s.key.get(), nullptr) > 0);
  return s;
}

Bytes der_spki_sha256(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  REQUIRE(len > 0);
  const auto d = crypto::sha256(BytesView(der, static_cast<std::size_t>(len)));
  OPENSSL_free(der);
  return Bytes(d.begin(), d.end());
}

// A TLS 1.3 server on 127.0.0.1:0 that completes handshakes and then holds
// the connection until stopped. Runs its own thread; always joined.
class TestTlsServer {
 public:
  explicit TestTlsServer(const SelfSigned& id)
      : ctx_(asio::ssl::context::tls_server), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    SSL_CTX_set_min_proto_version(ctx_.native_handle(), TLS1_3_VERSION);
    REQUIRE(SSL_CTX_use_certificate(ctx_.native_handle(), id.cert.get()) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey(ctx_.native_handle(), id.key.get()) == 1);
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TestTlsServer() {
    io_.stop();
    thread_.join();
  }
  TestTlsServer(const TestTlsServer&) = delete;
  TestTlsServer& operator=(const TestTlsServer&) = delete;
  [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  using Stream = asio::ssl::stream<asio::ip::tcp::socket>;
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, asio::ip::tcp::socket sock) {
      if (ec) return;
      auto s = std::make_shared<Stream>(std::move(sock), ctx_);
      sessions_.push_back(s);
      s->async_handshake(asio::ssl::stream_base::server, [s](boost::system::error_code) {});
      accept();
    });
  }
  asio::io_context io_;
  asio::ssl::context ctx_;
  asio::ip::tcp::acceptor acceptor_;
  std::vector<std::shared_ptr<Stream>> sessions_;
  std::thread thread_;
};

// Runs Connection::connect on a private io_context, bounded.
ClientResult<Bytes> try_connect(std::uint16_t port, TrustConfig trust) {
  asio::io_context io;
  auto conn = std::make_shared<Connection>(io.get_executor(), std::move(trust));
  std::optional<ClientResult<void>> result;
  asio::co_spawn(io, conn->connect("127.0.0.1", port, 5'000ms),
                 [&](std::exception_ptr, ClientResult<void> r) { result = std::move(r); });
  io.run_for(10s);
  REQUIRE(result);
  if (!*result) return fail(result->error());
  Bytes exporter = conn->exporter();
  conn->close();
  return exporter;
}

}  // namespace

TEST_CASE("tls: the SPKI hash is SHA-256 of the DER SubjectPublicKeyInfo", "[client][tls]") {
  auto id = make_self_signed();
  auto h = spki_sha256(id.cert.get());
  REQUIRE(h);
  CHECK(h->size() == wire::kSpkiPinSize);
  CHECK(*h == der_spki_sha256(id.key.get()));
  auto other = make_self_signed();
  CHECK(spki_sha256(other.cert.get()).value() != *h);
  CHECK_FALSE(spki_sha256(nullptr));
}

TEST_CASE("tls: a pin mismatch names both hashes", "[client][tls]") {
  const Bytes expected(32, 0xab);
  const Bytes presented(32, 0xcd);
  CHECK(check_pin(expected, expected));
  auto r = check_pin(expected, presented);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ClientCode::PinMismatch);
  CHECK(r.error().detail.find(to_hex(expected)) != std::string::npos);
  CHECK(r.error().detail.find(to_hex(presented)) != std::string::npos);
  CHECK_FALSE(check_pin(Bytes(31, 0xab), expected));
}

TEST_CASE("tls: the invite's pin is what the client compares against", "[client][tls]") {
  auto invite = wire::parse_invite("hearth://127.0.0.1:7443/?pin=" + std::string(64, 'a') + "&token=abc");
  REQUIRE(invite);
  const TrustConfig trust{invite->spki_pin};
  CHECK(trust.pinned());
  CHECK(to_hex(trust.spki_pin) == std::string(64, 'a'));
  CHECK_FALSE(TrustConfig{}.pinned());
}

TEST_CASE("tls: handshake with the right pin succeeds and exports 32 bytes, a wrong pin is refused",
          "[client][tls]") {
  auto id = make_self_signed();
  TestTlsServer server(id);
  const auto pin = spki_sha256(id.cert.get()).value();

  auto ok = try_connect(server.port(), TrustConfig{pin});
  REQUIRE(ok);
  CHECK(ok->size() == 32);

  Bytes wrong = pin;
  wrong[0] ^= 0x01;
  auto refused = try_connect(server.port(), TrustConfig{wrong});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ClientCode::PinMismatch);
  CHECK(refused.error().detail.find(to_hex(wrong)) != std::string::npos);
  CHECK(refused.error().detail.find(to_hex(pin)) != std::string::npos);
}

TEST_CASE("tls: without a pin a self-signed relay fails CA verification", "[client][tls]") {
  auto id = make_self_signed();
  TestTlsServer server(id);
  auto r = try_connect(server.port(), TrustConfig{});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ClientCode::Tls);
}

TEST_CASE("tls: nothing listening is a Connect error", "[client][tls]") {
  // Bind and close a port so that nothing listens there.
  std::uint16_t port = 0;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  auto r = try_connect(port, TrustConfig{Bytes(32, 1)});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ClientCode::Connect);
}
