// SPDX-License-Identifier: Apache-2.0
#include "common/crypto/hpke.h"

#include <algorithm>
#include <limits>
#include <string_view>
#include <utility>

namespace hearth::crypto::hpke {
namespace {

constexpr std::string_view kVersionLabel = "HPKE-v1";

Bytes kem_suite_id() {
  Bytes id = to_bytes("KEM");
  put_u16(id, kKemId);
  return id;
}

Bytes hpke_suite_id() {
  Bytes id = to_bytes("HPKE");
  put_u16(id, kKemId);
  put_u16(id, kKdfId);
  put_u16(id, kAeadId);
  return id;
}

// RFC 9180 §4: LabeledExtract and LabeledExpand.
Digest labeled_extract(BytesView salt, BytesView suite_id, std::string_view label, BytesView ikm) {
  Bytes labeled = to_bytes(kVersionLabel);
  append(labeled, suite_id);
  append(labeled, as_bytes(label));
  append(labeled, ikm);
  Digest prk = hkdf_extract(salt, labeled);
  wipe(labeled.data(), labeled.size());
  return prk;
}

CryptoResult<SecretBytes> labeled_expand(BytesView prk, BytesView suite_id, std::string_view label, BytesView info,
                                         std::size_t length) {
  if (length > std::numeric_limits<std::uint16_t>::max()) return fail(CryptoError::InvalidLength);
  Bytes labeled;
  put_u16(labeled, static_cast<std::uint16_t>(length));
  append(labeled, as_bytes(kVersionLabel));
  append(labeled, suite_id);
  append(labeled, as_bytes(label));
  append(labeled, info);
  return hkdf_expand(prk, labeled, length);
}

CryptoResult<SecretBytes> extract_and_expand(BytesView dh, BytesView kem_context) {
  const Bytes suite = kem_suite_id();
  Digest eae_prk = labeled_extract({}, suite, "eae_prk", dh);
  auto out = labeled_expand(eae_prk, suite, "shared_secret", kem_context, kSharedSecretSize);
  wipe(eae_prk.data(), eae_prk.size());
  return out;
}

// RFC 9180 §5.1 KeySchedule, mode_base (no PSK).
CryptoResult<Context> key_schedule(BytesView shared_secret, BytesView info) {
  const Bytes suite = hpke_suite_id();
  const Digest psk_id_hash = labeled_extract({}, suite, "psk_id_hash", {});
  const Digest info_hash = labeled_extract({}, suite, "info_hash", info);
  Bytes context{0x00};  // mode_base
  append(context, psk_id_hash);
  append(context, info_hash);
  Digest secret = labeled_extract(shared_secret, suite, "secret", {});
  auto key = labeled_expand(secret, suite, "key", context, kKeySize);
  auto nonce = labeled_expand(secret, suite, "base_nonce", context, kNonceSize);
  auto exporter = labeled_expand(secret, suite, "exp", context, kExporterSecretSize);
  wipe(secret.data(), secret.size());
  if (!key || !nonce || !exporter) return fail(CryptoError::InvalidLength);
  std::array<std::uint8_t, kNonceSize> base_nonce{};
  std::copy(nonce->view().begin(), nonce->view().end(), base_nonce.begin());
  return Context(Secret<kKeySize>(key->view()), base_nonce, Secret<kExporterSecretSize>(exporter->view()));
}

}  // namespace

X25519KeyPair derive_key_pair(BytesView ikm) {
  const Bytes suite = kem_suite_id();
  Digest dkp_prk = labeled_extract({}, suite, "dkp_prk", ikm);
  // 32 bytes never exceed the HKDF limit, so this cannot fail.
  auto sk = labeled_expand(dkp_prk, suite, "sk", {}, kSecretKeySize);
  wipe(dkp_prk.data(), dkp_prk.size());
  // X25519 accepts every 32-byte string as a scalar, so this cannot fail either.
  return *x25519_from_secret(sk->view());
}

Context::Context(Secret<kKeySize> key, std::array<std::uint8_t, kNonceSize> base_nonce,
                 Secret<kExporterSecretSize> exporter_secret) noexcept
    : key_(std::move(key)), base_nonce_(base_nonce), exporter_secret_(std::move(exporter_secret)) {}

std::array<std::uint8_t, kNonceSize> Context::nonce_for(std::uint64_t seq) const noexcept {
  std::array<std::uint8_t, kNonceSize> nonce = base_nonce_;
  for (std::size_t i = 0; i < 8; ++i) {
    nonce[kNonceSize - 1 - i] ^= static_cast<std::uint8_t>(seq >> (8 * i));
  }
  return nonce;
}

CryptoResult<Bytes> Context::seal_at(std::uint64_t seq, BytesView aad, BytesView plaintext) const {
  const auto nonce = nonce_for(seq);
  return aead_seal(key_.view(), nonce, aad, plaintext);
}

CryptoResult<Bytes> Context::open_at(std::uint64_t seq, BytesView aad, BytesView ciphertext) const {
  const auto nonce = nonce_for(seq);
  return aead_open(key_.view(), nonce, aad, ciphertext);
}

CryptoResult<Bytes> Context::seal(BytesView aad, BytesView plaintext) {
  // RFC 9180 §5.2: the sequence number must not wrap. Ours is 64 bits, far
  // below the 96-bit nonce, so the last value is simply never used.
  if (seq_ == std::numeric_limits<std::uint64_t>::max()) return fail(CryptoError::InvalidLength);
  auto ct = seal_at(seq_, aad, plaintext);
  if (ct) ++seq_;
  return ct;
}

CryptoResult<Bytes> Context::open(BytesView aad, BytesView ciphertext) {
  if (seq_ == std::numeric_limits<std::uint64_t>::max()) return fail(CryptoError::InvalidLength);
  auto pt = open_at(seq_, aad, ciphertext);
  if (pt) ++seq_;
  return pt;
}

CryptoResult<SecretBytes> Context::export_secret(BytesView exporter_context, std::size_t length) const {
  if (length > kHkdfMaxOutput) return fail(CryptoError::InvalidLength);
  return labeled_expand(exporter_secret_.view(), hpke_suite_id(), "sec", exporter_context, length);
}

CryptoResult<SecretBytes> encap_with_ephemeral(BytesView recipient_public, const X25519KeyPair& ephemeral) {
  if (recipient_public.size() != kPublicKeySize) return fail(CryptoError::InvalidKey);
  auto dh = x25519(ephemeral.secret.view(), recipient_public);
  if (!dh) return fail(dh.error());
  Bytes kem_context(ephemeral.public_key.begin(), ephemeral.public_key.end());
  append(kem_context, recipient_public);
  return extract_and_expand(dh->view(), kem_context);
}

CryptoResult<SecretBytes> decap(BytesView enc, BytesView recipient_secret) {
  if (enc.size() != kEncSize || recipient_secret.size() != kSecretKeySize) return fail(CryptoError::InvalidKey);
  auto dh = x25519(recipient_secret, enc);
  if (!dh) return fail(dh.error());
  auto recipient = x25519_from_secret(recipient_secret);
  if (!recipient) return fail(recipient.error());
  Bytes kem_context(enc.begin(), enc.end());
  append(kem_context, recipient->public_key);
  return extract_and_expand(dh->view(), kem_context);
}

CryptoResult<SenderSetup> setup_base_s_with_ephemeral(BytesView recipient_public, BytesView info,
                                                      const X25519KeyPair& ephemeral) {
  auto shared = encap_with_ephemeral(recipient_public, ephemeral);
  if (!shared) return fail(shared.error());
  auto ctx = key_schedule(shared->view(), info);
  if (!ctx) return fail(ctx.error());
  return SenderSetup{ephemeral.public_key, std::move(*ctx)};
}

CryptoResult<SenderSetup> setup_base_s(BytesView recipient_public, BytesView info, Rng& rng) {
  Secret<kSecretKeySize> ikm;
  rng.fill(ikm.mut());
  const X25519KeyPair ephemeral = derive_key_pair(ikm.view());
  return setup_base_s_with_ephemeral(recipient_public, info, ephemeral);
}

CryptoResult<Context> setup_base_r(BytesView enc, BytesView recipient_secret, BytesView info) {
  auto shared = decap(enc, recipient_secret);
  if (!shared) return fail(shared.error());
  return key_schedule(shared->view(), info);
}

CryptoResult<Sealed> seal_base(BytesView recipient_public, BytesView info, BytesView aad, BytesView plaintext,
                               Rng& rng) {
  auto setup = setup_base_s(recipient_public, info, rng);
  if (!setup) return fail(setup.error());
  auto ct = setup->context.seal_at(0, aad, plaintext);
  if (!ct) return fail(ct.error());
  return Sealed{setup->enc, std::move(*ct)};
}

CryptoResult<Bytes> open_base(BytesView enc, BytesView recipient_secret, BytesView info, BytesView aad,
                              BytesView ciphertext) {
  auto ctx = setup_base_r(enc, recipient_secret, info);
  if (!ctx) return fail(ctx.error());
  return ctx->open_at(0, aad, ciphertext);
}

}  // namespace hearth::crypto::hpke
