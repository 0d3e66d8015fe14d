// SPDX-License-Identifier: Apache-2.0
#include "client/core/tls.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <stdexcept>

#include "common/crypto/crypto.h"
#include "common/wire/auth.h"

namespace hearth::client {

std::shared_ptr<asio::ssl::context> make_client_context(const TrustConfig& trust) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_3_VERSION) != 1) {
    throw std::runtime_error("OpenSSL refuses TLS 1.3 as minimum version");
  }
  if (trust.pinned()) {
    // The pin replaces chain verification; see tls.h.
    ctx->set_verify_mode(asio::ssl::verify_none);
  } else {
    ctx->set_default_verify_paths();
    ctx->set_verify_mode(asio::ssl::verify_peer);
  }
  return ctx;
}

ClientResult<Bytes> spki_sha256(X509* cert) {
  if (cert == nullptr) return fail(ClientError{ClientCode::Tls, "the relay presented no certificate"});
  unsigned char* der = nullptr;
  const int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
  if (len <= 0 || der == nullptr) return fail(ClientError{ClientCode::Tls, "cannot encode the relay's public key"});
  const auto digest = crypto::sha256(BytesView(der, static_cast<std::size_t>(len)));
  OPENSSL_free(der);
  return Bytes(digest.begin(), digest.end());
}

ClientResult<Bytes> peer_spki_sha256(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  auto result = spki_sha256(cert);
  if (cert != nullptr) X509_free(cert);
  return result;
}

ClientResult<void> check_pin(BytesView expected, BytesView presented) {
  if (expected.size() == presented.size() &&
      std::equal(expected.begin(), expected.end(), presented.begin())) {
    return {};
  }
  return fail(ClientError{ClientCode::PinMismatch, "relay key does not match the pin: expected sha256 " +
                                                       to_hex(expected) + ", relay presented sha256 " +
                                                       to_hex(presented)});
}

ClientResult<Bytes> tls_exporter(SSL* ssl) {
  Bytes out(wire::kTlsExporterSize);
  const auto& label = wire::kTlsExporterLabel;
  if (SSL_export_keying_material(ssl, out.data(), out.size(), label.data(), label.size(), nullptr, 0, 0) != 1) {
    return fail(ClientError{ClientCode::Tls, "TLS exporter unavailable"});
  }
  return out;
}

}  // namespace hearth::client
