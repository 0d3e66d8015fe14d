// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>

#include "common/crypto/crypto.h"
#include "server/tls.h"
#include "tests/support/temp_dir.h"

using namespace hearth;
using namespace hearth::relay;

TEST_CASE("tls: a self-signed identity is made once and reused", "[server][tls]") {
  crypto::init();
  test::TempDir dir;
  auto first = load_or_create_identity(dir.path(), {}, {});
  REQUIRE(first);
  REQUIRE(first->spki_sha256.size() == 32);
  REQUIRE(first->cert_file == self_signed_dir(dir.path()) / "cert.pem");
  struct stat st {};
  REQUIRE(::stat(first->key_file.c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0600);
  auto again = load_or_create_identity(dir.path(), {}, {});
  REQUIRE(again);
  REQUIRE(again->spki_sha256 == first->spki_sha256);
  REQUIRE(make_server_context(*again));
  // Another data directory gets another key.
  test::TempDir other;
  REQUIRE(load_or_create_identity(other.path(), {}, {})->spki_sha256 != first->spki_sha256);
}

TEST_CASE("tls: IT's own certificate is used as configured", "[server][tls]") {
  crypto::init();
  test::TempDir made;
  auto own = load_or_create_identity(made.path(), {}, {});
  REQUIRE(own);
  test::TempDir data;
  auto id = load_or_create_identity(data.path(), own->cert_file, own->key_file);
  REQUIRE(id);
  REQUIRE(id->spki_sha256 == own->spki_sha256);
  REQUIRE_FALSE(std::filesystem::exists(self_signed_dir(data.path())));
}

TEST_CASE("tls: bad files are clear errors", "[server][tls]") {
  crypto::init();
  test::TempDir dir;
  auto missing = load_or_create_identity(dir.path(), dir.path() / "none.pem", dir.path() / "none.key");
  REQUIRE_FALSE(missing);
  REQUIRE(missing.error().code == TlsCode::CannotRead);
  {
    std::ofstream f(dir.path() / "junk.pem");
    f << "not a certificate";
  }
  auto junk = load_or_create_identity(dir.path(), dir.path() / "junk.pem", dir.path() / "junk.pem");
  REQUIRE_FALSE(junk);
  REQUIRE(junk.error().code == TlsCode::BadCertificate);
  // A key that does not belong to the certificate.
  test::TempDir a;
  test::TempDir b;
  auto ia = load_or_create_identity(a.path(), {}, {});
  auto ib = load_or_create_identity(b.path(), {}, {});
  REQUIRE(ia);
  REQUIRE(ib);
  TlsIdentity mixed{ia->cert_file, ib->key_file, ia->spki_sha256};
  auto ctx = make_server_context(mixed);
  REQUIRE_FALSE(ctx);
  REQUIRE(ctx.error().code == TlsCode::BadCertificate);
}
