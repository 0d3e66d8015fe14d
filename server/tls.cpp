// SPDX-License-Identifier: Apache-2.0
#include "server/tls.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <system_error>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/crypto/crypto.h"

namespace hearth::relay {

namespace fs = std::filesystem;

std::string to_string(TlsCode c) {
  switch (c) {
    case TlsCode::CannotRead: return "CannotRead";
    case TlsCode::BadCertificate: return "BadCertificate";
    case TlsCode::CannotCreate: return "CannotCreate";
  }
  return "Unknown";
}

namespace {

struct FileCloser {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
struct X509Free {
  void operator()(X509* x) const noexcept { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

constexpr long kSelfSignedValiditySeconds = 10L * 365 * 24 * 3600;
constexpr const char* kCertName = "cert.pem";
constexpr const char* kKeyName = "key.pem";

[[nodiscard]] TlsError create_error(const std::string& what) { return TlsError{TlsCode::CannotCreate, what}; }

/// Opens `path` for writing with `mode`, replacing it.
[[nodiscard]] FilePtr open_for_write(const fs::path& path, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return nullptr;
  ::fchmod(fd, mode);  // an existing file keeps its mode on O_CREAT; force ours
  FilePtr f(::fdopen(fd, "wb"));
  if (!f) ::close(fd);
  return f;
}

[[nodiscard]] bool flush_and_sync(std::FILE* f) { return std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0; }

[[nodiscard]] Result<void, TlsError> create_self_signed(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail(create_error("cannot create " + dir.string() + ": " + ec.message()));
  ::chmod(dir.c_str(), 0700);

  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return fail(create_error("key generation failed"));
  X509Ptr cert(X509_new());
  if (!cert) return fail(create_error("out of memory"));
  const Bytes serial = crypto::random_bytes(16);
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(
      BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr), &BN_free);
  bool ok = bn != nullptr && X509_set_version(cert.get(), 2) == 1 &&
            BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) != nullptr &&
            X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(cert.get()), kSelfSignedValiditySeconds) != nullptr &&
            X509_set_pubkey(cert.get(), key.get()) == 1;
  X509_NAME* name = X509_get_subject_name(cert.get());
  ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                        reinterpret_cast<const unsigned char*>("hearth-relay"), -1, -1, 0) == 1 &&
       X509_set_issuer_name(cert.get(), name) == 1 && X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
  if (!ok) return fail(create_error("building the self-signed certificate failed"));

  // Write both to temporary names, then rename: a crash never leaves a
  // certificate next to a key that does not belong to it.
  const fs::path key_tmp = dir / "key.pem.tmp";
  const fs::path cert_tmp = dir / "cert.pem.tmp";
  {
    FilePtr f = open_for_write(key_tmp, 0600);
    if (!f || PEM_write_PrivateKey(f.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
        !flush_and_sync(f.get()))
      return fail(create_error("cannot write " + key_tmp.string()));
  }
  {
    FilePtr f = open_for_write(cert_tmp, 0644);
    if (!f || PEM_write_X509(f.get(), cert.get()) != 1 || !flush_and_sync(f.get()))
      return fail(create_error("cannot write " + cert_tmp.string()));
  }
  fs::rename(key_tmp, dir / kKeyName, ec);
  if (!ec) fs::rename(cert_tmp, dir / kCertName, ec);
  if (ec) return fail(create_error("cannot install the self-signed identity: " + ec.message()));
  return {};
}

[[nodiscard]] Result<X509Ptr, TlsError> read_cert(const fs::path& path) {
  FilePtr f(std::fopen(path.c_str(), "rb"));
  if (!f) return fail(TlsError{TlsCode::CannotRead, "cannot read certificate " + path.string()});
  X509Ptr cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
  if (!cert) return fail(TlsError{TlsCode::BadCertificate, "not a PEM certificate: " + path.string()});
  return cert;
}

}  // namespace

fs::path self_signed_dir(const fs::path& data_dir) { return data_dir / "tls"; }

Result<Bytes, TlsError> spki_sha256_of_cert(const fs::path& cert_file) {
  auto cert = read_cert(cert_file);
  if (!cert) return fail(cert.error());
  EVP_PKEY* pub = X509_get0_pubkey(cert->get());
  if (pub == nullptr) return fail(TlsError{TlsCode::BadCertificate, "certificate without a public key"});
  const int len = i2d_PUBKEY(pub, nullptr);
  if (len <= 0) return fail(TlsError{TlsCode::BadCertificate, "cannot encode the public key"});
  Bytes der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  if (i2d_PUBKEY(pub, &p) != len) return fail(TlsError{TlsCode::BadCertificate, "cannot encode the public key"});
  const auto digest = crypto::sha256(der);
  return Bytes(digest.begin(), digest.end());
}

Result<TlsIdentity, TlsError> load_or_create_identity(const fs::path& data_dir, const fs::path& cert_file,
                                                      const fs::path& key_file) {
  TlsIdentity id;
  if (!cert_file.empty()) {
    id.cert_file = cert_file;
    id.key_file = key_file;
  } else {
    const fs::path dir = self_signed_dir(data_dir);
    id.cert_file = dir / kCertName;
    id.key_file = dir / kKeyName;
    std::error_code ec;
    if (!fs::exists(id.cert_file, ec) || !fs::exists(id.key_file, ec)) {
      if (auto r = create_self_signed(dir); !r) return fail(r.error());
    }
  }
  auto pin = spki_sha256_of_cert(id.cert_file);
  if (!pin) return fail(pin.error());
  id.spki_sha256 = std::move(*pin);
  return id;
}

Result<asio::ssl::context, TlsError> make_server_context(const TlsIdentity& identity) {
  asio::ssl::context ctx(asio::ssl::context::tls_server);
  SSL_CTX* native = ctx.native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(native, TLS1_3_VERSION) != 1)
    return fail(TlsError{TlsCode::BadCertificate, "this OpenSSL cannot restrict to TLS 1.3"});
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET | SSL_OP_NO_COMPRESSION);
  // No session resumption: no tickets to send or keep.
  SSL_CTX_set_num_tickets(native, 0);
  // Idle connections give their record buffers back.
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  boost::system::error_code ec;
  ctx.use_certificate_chain_file(identity.cert_file.string(), ec);
  if (ec) return fail(TlsError{TlsCode::BadCertificate, "cannot load certificate " + identity.cert_file.string()});
  if (FilePtr probe(std::fopen(identity.key_file.c_str(), "rb")); !probe)
    return fail(TlsError{TlsCode::CannotRead, "cannot read private key " + identity.key_file.string()});
  ctx.use_private_key_file(identity.key_file.string(), asio::ssl::context::pem, ec);
  if (ec)
    return fail(TlsError{TlsCode::BadCertificate,
                         "the private key " + identity.key_file.string() + " is unusable or not the certificate's"});
  if (SSL_CTX_check_private_key(native) != 1)
    return fail(TlsError{TlsCode::BadCertificate, "the private key does not match the certificate"});
  return ctx;
}

}  // namespace hearth::relay
