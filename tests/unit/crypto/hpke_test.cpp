// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/crypto/hpke.h"
#include "tests/support/paths.h"

using namespace hearth;
using namespace hearth::crypto;

namespace {

Bytes hex(const std::string& s) { return *from_hex(s); }

nlohmann::json load_a21() {
  std::ifstream in(test::shared_dir() / "hpke" / "rfc9180-a21.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

class CountingRng final : public Rng {
 public:
  void fill(std::span<std::uint8_t> out) override {
    for (auto& b : out) b = next_++;
  }

 private:
  std::uint8_t next_ = 1;
};

}  // namespace

TEST_CASE("hpke RFC 9180 A.2.1 known answers", "[crypto][hpke]") {
  crypto::init();
  const auto all = load_a21();
  REQUIRE(all.is_array());
  REQUIRE(!all.empty());
  const auto index = GENERATE_COPY(range(std::size_t{0}, all.size()));
  const auto& v = all[index];
  INFO("vector " << index);
  REQUIRE(v["mode"] == 0);
  REQUIRE(v["kem_id"] == hpke::kKemId);
  REQUIRE(v["kdf_id"] == hpke::kKdfId);
  REQUIRE(v["aead_id"] == hpke::kAeadId);

  const auto eph = hpke::derive_key_pair(hex(v["ikmE"]));
  CHECK(to_hex(eph.secret.view()) == v["skEm"].get<std::string>());
  CHECK(to_hex(eph.public_key) == v["pkEm"].get<std::string>());
  const auto rcpt = hpke::derive_key_pair(hex(v["ikmR"]));
  CHECK(to_hex(rcpt.secret.view()) == v["skRm"].get<std::string>());
  CHECK(to_hex(rcpt.public_key) == v["pkRm"].get<std::string>());

  auto shared = hpke::encap_with_ephemeral(rcpt.public_key, eph);
  REQUIRE(shared);
  CHECK(to_hex(shared->view()) == v["shared_secret"].get<std::string>());

  const Bytes info = hex(v["info"]);
  auto s = hpke::setup_base_s_with_ephemeral(rcpt.public_key, info, eph);
  REQUIRE(s);
  CHECK(to_hex(s->enc) == v["enc"].get<std::string>());
  CHECK(to_hex(s->context.key()) == v["key"].get<std::string>());
  CHECK(to_hex(s->context.base_nonce()) == v["base_nonce"].get<std::string>());
  CHECK(to_hex(s->context.exporter_secret()) == v["exporter_secret"].get<std::string>());

  auto r = hpke::setup_base_r(s->enc, rcpt.secret.view(), info);
  REQUIRE(r);
  const Bytes pt = hex(v["pt"]);
  for (const auto& e : v["encryptions"]) {
    const auto seq = e["seq"].get<std::uint64_t>();
    const Bytes aad = hex(e["aad"]);
    auto ct = s->context.seal_at(seq, aad, pt);
    REQUIRE(ct);
    CHECK(to_hex(*ct) == e["ct"].get<std::string>());
    auto back = r->open_at(seq, aad, *ct);
    REQUIRE(back);
    CHECK(*back == pt);
  }
  for (const auto& e : v["exports"]) {
    auto out = r->export_secret(hex(e["exporter_context"]), e["L"].get<std::size_t>());
    REQUIRE(out);
    CHECK(to_hex(out->view()) == e["exported_value"].get<std::string>());
  }
}

TEST_CASE("hpke stateful context advances the sequence number", "[crypto][hpke]") {
  crypto::init();
  CountingRng rng;
  const auto rcpt = hpke::derive_key_pair(as_bytes("recipient ikm of thirty-two bytes"));
  auto s = hpke::setup_base_s(rcpt.public_key, as_bytes("info"), rng);
  REQUIRE(s);
  auto r = hpke::setup_base_r(s->enc, rcpt.secret.view(), as_bytes("info"));
  REQUIRE(r);
  auto c0 = s->context.seal(as_bytes("a"), as_bytes("zero"));
  auto c1 = s->context.seal(as_bytes("a"), as_bytes("one"));
  REQUIRE(c0);
  REQUIRE(c1);
  CHECK(s->context.seq() == 2);
  // Out of order fails and does not advance.
  CHECK(r->open(as_bytes("a"), *c1).error() == CryptoError::DecryptFailed);
  CHECK(r->seq() == 0);
  CHECK(to_string_bytes(*r->open(as_bytes("a"), *c0)) == "zero");
  CHECK(to_string_bytes(*r->open(as_bytes("a"), *c1)) == "one");
}

TEST_CASE("hpke single-shot tamper: byte flip, truncation, wrong key, wrong aad, wrong info, wrong enc",
          "[crypto][hpke]") {
  crypto::init();
  CountingRng rng;
  const auto rcpt = hpke::derive_key_pair(as_bytes("recipient"));
  const auto other = hpke::derive_key_pair(as_bytes("someone else"));
  const Bytes secret(64, 0x42);
  auto sealed = hpke::seal_base(rcpt.public_key, as_bytes("info"), as_bytes("aad"), secret, rng);
  REQUIRE(sealed);
  auto ok = hpke::open_base(sealed->enc, rcpt.secret.view(), as_bytes("info"), as_bytes("aad"),
                            sealed->ciphertext);
  REQUIRE(ok);
  CHECK(*ok == secret);

  Bytes flipped = sealed->ciphertext;
  flipped[5] ^= 1;
  CHECK(hpke::open_base(sealed->enc, rcpt.secret.view(), as_bytes("info"), as_bytes("aad"), flipped).error() ==
        CryptoError::DecryptFailed);
  Bytes truncated(sealed->ciphertext.begin(), sealed->ciphertext.end() - 1);
  CHECK(hpke::open_base(sealed->enc, rcpt.secret.view(), as_bytes("info"), as_bytes("aad"), truncated).error() ==
        CryptoError::DecryptFailed);
  CHECK(hpke::open_base(sealed->enc, other.secret.view(), as_bytes("info"), as_bytes("aad"), sealed->ciphertext)
            .error() == CryptoError::DecryptFailed);
  CHECK(hpke::open_base(sealed->enc, rcpt.secret.view(), as_bytes("info"), as_bytes("aaD"), sealed->ciphertext)
            .error() == CryptoError::DecryptFailed);
  CHECK(hpke::open_base(sealed->enc, rcpt.secret.view(), as_bytes("inf0"), as_bytes("aad"), sealed->ciphertext)
            .error() == CryptoError::DecryptFailed);
  auto enc = sealed->enc;
  enc[0] ^= 1;
  CHECK(!hpke::open_base(enc, rcpt.secret.view(), as_bytes("info"), as_bytes("aad"), sealed->ciphertext));
  CHECK(hpke::open_base(Bytes(31, 1), rcpt.secret.view(), as_bytes("info"), as_bytes("aad"), sealed->ciphertext)
            .error() == CryptoError::InvalidKey);
  // A low-order point as enc gives the all-zero DH output.
  CHECK(hpke::open_base(Bytes(32, 0), rcpt.secret.view(), as_bytes("info"), as_bytes("aad"), sealed->ciphertext)
            .error() == CryptoError::WeakSharedSecret);
  CHECK(hpke::seal_base(Bytes(32, 0), as_bytes("info"), as_bytes("aad"), secret, rng).error() ==
        CryptoError::WeakSharedSecret);
}

TEST_CASE("hpke export length bound", "[crypto][hpke]") {
  crypto::init();
  const auto rcpt = hpke::derive_key_pair(as_bytes("recipient"));
  const auto eph = hpke::derive_key_pair(as_bytes("ephemeral"));
  auto s = hpke::setup_base_s_with_ephemeral(rcpt.public_key, {}, eph);
  REQUIRE(s);
  CHECK(s->context.export_secret({}, kHkdfMaxOutput));
  CHECK(s->context.export_secret({}, kHkdfMaxOutput + 1).error() == CryptoError::InvalidLength);
}
