// SPDX-License-Identifier: Apache-2.0
#pragma once
// TLS 1.3 client settings and the checks on the relay's key.
//
// Trust is either the system CA store (with host name verification) or a
// pin: the SHA-256 of the relay's DER SubjectPublicKeyInfo, taken from the
// invite. With a pin, the chain is not verified (the relay's certificate is
// usually self-signed); the key must match the pin, checked right after the
// handshake and before a single byte is sent.

#include <memory>
#include <string>

#include "client/core/asio.h"
#include "client/core/errors.h"
#include "common/types/bytes.h"

namespace hearth::client {

struct TrustConfig {
  Bytes spki_pin;  // 32 bytes, or empty for the system CA store
  [[nodiscard]] bool pinned() const noexcept { return !spki_pin.empty(); }
};

/// A TLS 1.3-only client context for `trust`. Throws on OpenSSL start-up
/// failure (no CA store is not such a failure; verification fails later).
[[nodiscard]] std::shared_ptr<asio::ssl::context> make_client_context(const TrustConfig& trust);

/// SHA-256 of the certificate's DER SubjectPublicKeyInfo.
[[nodiscard]] ClientResult<Bytes> spki_sha256(X509* cert);
/// SHA-256 of the peer certificate's SPKI on an established connection.
[[nodiscard]] ClientResult<Bytes> peer_spki_sha256(SSL* ssl);

/// PinMismatch naming both hashes (expected and presented) when they differ.
[[nodiscard]] ClientResult<void> check_pin(BytesView expected, BytesView presented);

/// The 32-byte keying-material exporter (wire::kTlsExporterLabel, no context)
/// that binds registration and login to this connection.
[[nodiscard]] ClientResult<Bytes> tls_exporter(SSL* ssl);

}  // namespace hearth::client
