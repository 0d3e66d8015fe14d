// SPDX-License-Identifier: Apache-2.0
#include "common/mls/labeled_crypto.h"

#include <limits>

namespace hearth::mls {
namespace {

constexpr std::string_view kLabelPrefix = "MLS 1.0 ";

Bytes prefixed(BytesView label) {
  Bytes out = to_bytes(kLabelPrefix);
  append(out, label);
  return out;
}

// SignContent / EncryptContext share a shape: opaque label<V>; opaque x<V>.
Bytes label_and_value(BytesView label, BytesView value) {
  Writer w;
  w.opaque(prefixed(label));
  w.opaque(value);
  return w.take();
}

}  // namespace

void write(Writer& w, const HpkeCiphertext& v) {
  w.opaque(v.kem_output);
  w.opaque(v.ciphertext);
}

void read(Reader& r, HpkeCiphertext& v) {
  v.kem_output = r.opaque_bytes();
  v.ciphertext = r.opaque_bytes();
}

namespace {
// KDFLabel = struct { uint16 length; opaque label<V> = "MLS 1.0 " + Label; opaque context<V>; }
MlsResult<Bytes> kdf_label(BytesView label, BytesView context, std::size_t length) {
  if (length > std::numeric_limits<std::uint16_t>::max()) return fail(Error::CryptoFailed);
  Writer w;
  w.u16(static_cast<std::uint16_t>(length));
  w.opaque(prefixed(label));
  w.opaque(context);
  return Bytes(w.bytes().begin(), w.bytes().end());
}

MlsResult<crypto::SecretBytes> expand_labeled(const crypto::HkdfExpander& secret, BytesView label,
                                              BytesView context, std::size_t length) {
  auto info = kdf_label(label, context, length);
  if (!info) return fail(info.error());
  auto out = secret.expand(*info, length);
  if (!out) return fail(Error::CryptoFailed);
  return std::move(*out);
}
}  // namespace

MlsResult<crypto::SecretBytes> expand_with_label(BytesView secret, BytesView label, BytesView context,
                                                 std::size_t length) {
  return expand_labeled(crypto::HkdfExpander(secret), label, context, length);
}

MlsResult<crypto::SecretBytes> expand_with_label(const crypto::HkdfExpander& secret, std::string_view label,
                                                 BytesView context, std::size_t length) {
  return expand_labeled(secret, as_bytes(label), context, length);
}

MlsResult<crypto::SecretBytes> expand_with_label(BytesView secret, std::string_view label, BytesView context,
                                                 std::size_t length) {
  return expand_with_label(secret, as_bytes(label), context, length);
}

crypto::SecretBytes derive_secret(BytesView secret, BytesView label) {
  // Nh is far below both limits of expand_with_label.
  return std::move(*expand_with_label(secret, label, {}, kHashSize));
}

crypto::SecretBytes derive_secret(BytesView secret, std::string_view label) {
  return derive_secret(secret, as_bytes(label));
}

MlsResult<crypto::SecretBytes> derive_tree_secret(BytesView secret, std::string_view label,
                                                  std::uint32_t generation, std::size_t length) {
  return derive_tree_secret(crypto::HkdfExpander(secret), label, generation, length);
}

MlsResult<crypto::SecretBytes> derive_tree_secret(const crypto::HkdfExpander& secret, std::string_view label,
                                                  std::uint32_t generation, std::size_t length) {
  Bytes context;
  put_u32(context, generation);
  return expand_with_label(secret, label, context, length);
}

Bytes sign_with_label(const crypto::SigningKey& key, std::string_view label, BytesView content) {
  const auto sig = crypto::ed25519_sign(key, label_and_value(as_bytes(label), content));
  return Bytes(sig.begin(), sig.end());
}

MlsResult<void> verify_with_label(BytesView public_key, std::string_view label, BytesView content,
                                  BytesView signature) {
  if (public_key.size() != crypto::kEd25519PublicKeySize) return fail(Error::CryptoFailed);
  if (!crypto::ed25519_verify(public_key, label_and_value(as_bytes(label), content), signature)) {
    return fail(Error::InvalidSignature);
  }
  return {};
}

MlsResult<HpkeCiphertext> encrypt_with_label(BytesView public_key, std::string_view label, BytesView context,
                                             BytesView plaintext, const crypto::X25519KeyPair& ephemeral) {
  const Bytes info = label_and_value(as_bytes(label), context);
  auto setup = crypto::hpke::setup_base_s_with_ephemeral(public_key, info, ephemeral);
  if (!setup) return fail(Error::CryptoFailed);
  auto ct = setup->context.seal_at(0, {}, plaintext);
  if (!ct) return fail(Error::CryptoFailed);
  return HpkeCiphertext{Bytes(setup->enc.begin(), setup->enc.end()), std::move(*ct)};
}

MlsResult<HpkeCiphertext> encrypt_with_label(BytesView public_key, std::string_view label, BytesView context,
                                             BytesView plaintext, Rng& rng) {
  crypto::Secret<crypto::hpke::kSecretKeySize> ikm;
  rng.fill(ikm.mut());
  const auto ephemeral = crypto::hpke::derive_key_pair(ikm.view());
  return encrypt_with_label(public_key, label, context, plaintext, ephemeral);
}

MlsResult<crypto::SecretBytes> decrypt_with_label(BytesView private_key, std::string_view label, BytesView context,
                                                  const HpkeCiphertext& ct) {
  const Bytes info = label_and_value(as_bytes(label), context);
  auto ctx = crypto::hpke::setup_base_r(ct.kem_output, private_key, info);
  if (!ctx) {
    return fail(ctx.error() == crypto::CryptoError::InvalidKey ? Error::CryptoFailed : Error::DecryptFailed);
  }
  auto pt = ctx->open_at(0, {}, ct.ciphertext);
  if (!pt) return fail(Error::DecryptFailed);
  crypto::SecretBytes out(*pt);
  crypto::wipe(pt->data(), pt->size());
  return out;
}

Digest ref_hash(BytesView label, BytesView value) {
  Writer w;
  w.opaque(label);
  w.opaque(value);
  return crypto::sha256(w.bytes());
}

Digest make_key_package_ref(BytesView key_package) {
  return ref_hash(as_bytes("MLS 1.0 KeyPackage Reference"), key_package);
}

Digest make_proposal_ref(BytesView authenticated_content) {
  return ref_hash(as_bytes("MLS 1.0 Proposal Reference"), authenticated_content);
}

}  // namespace hearth::mls
