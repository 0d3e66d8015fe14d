// SPDX-License-Identifier: Apache-2.0
#pragma once
// The relay's TLS identity: IT's certificate (PEM paths in the config), or a
// self-signed one made on first start in <data_dir>/tls/ and reused after.
// Clients pin the SHA-256 of the certificate's SubjectPublicKeyInfo.

#include <filesystem>
#include <string>

#include "common/types/bytes.h"
#include "common/types/result.h"
#include "server/asio.h"

namespace hearth::relay {

enum class TlsCode {
  CannotRead,      // a configured file is missing or unreadable
  BadCertificate,  // not a PEM certificate, or the key does not match it
  CannotCreate,    // generating or writing the self-signed identity failed
};
[[nodiscard]] std::string to_string(TlsCode c);
using TlsError = Failure<TlsCode>;

struct TlsIdentity {
  std::filesystem::path cert_file;
  std::filesystem::path key_file;
  Bytes spki_sha256;  // 32 bytes
};

/// The self-signed identity's files inside the data directory.
[[nodiscard]] std::filesystem::path self_signed_dir(const std::filesystem::path& data_dir);

/// Uses `cert_file`/`key_file` when given; otherwise loads the self-signed
/// identity from <data_dir>/tls/, creating it (key file mode 0600) if it is
/// missing. Start-up only (blocking file I/O).
[[nodiscard]] Result<TlsIdentity, TlsError> load_or_create_identity(const std::filesystem::path& data_dir,
                                                                    const std::filesystem::path& cert_file,
                                                                    const std::filesystem::path& key_file);

/// SHA-256 of the DER SubjectPublicKeyInfo of the PEM certificate's key.
[[nodiscard]] Result<Bytes, TlsError> spki_sha256_of_cert(const std::filesystem::path& cert_file);

/// A server context that speaks TLS 1.3 only, with the identity loaded.
[[nodiscard]] Result<asio::ssl::context, TlsError> make_server_context(const TlsIdentity& identity);

}  // namespace hearth::relay
