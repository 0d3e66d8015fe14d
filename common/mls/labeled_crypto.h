// SPDX-License-Identifier: Apache-2.0
#pragma once
// RFC 9420 §5.1-5.2 and §8: the labeled forms of KDF, signature, public-key
// encryption and hashing. Every label gets the "MLS 1.0 " prefix here, so
// callers pass the bare label ("joiner", "tree", ...). Labels are bytes
// because the exporter takes an application-chosen one.

#include <array>
#include <cstdint>
#include <string_view>

#include "common/crypto/crypto.h"
#include "common/crypto/hpke.h"
#include "common/mls/cipher_suite.h"
#include "common/mls/codec.h"
#include "common/types/rng.h"

namespace hearth::mls {

using Digest = crypto::Digest;

/// HPKECiphertext (RFC 9420 §5.1.3), a wire struct.
struct HpkeCiphertext {
  Bytes kem_output;
  Bytes ciphertext;
  bool operator==(const HpkeCiphertext&) const = default;
};
void write(Writer& w, const HpkeCiphertext& v);
void read(Reader& r, HpkeCiphertext& v);

/// ExpandWithLabel. CryptoFailed when `length` exceeds what HKDF can give or 65535.
[[nodiscard]] MlsResult<crypto::SecretBytes> expand_with_label(BytesView secret, BytesView label, BytesView context,
                                                               std::size_t length);
[[nodiscard]] MlsResult<crypto::SecretBytes> expand_with_label(BytesView secret, std::string_view label,
                                                               BytesView context, std::size_t length);
/// The same from a secret whose HMAC key schedule is already computed, for
/// several expansions from one secret.
[[nodiscard]] MlsResult<crypto::SecretBytes> expand_with_label(const crypto::HkdfExpander& secret,
                                                               std::string_view label, BytesView context,
                                                               std::size_t length);
/// DeriveSecret: ExpandWithLabel(secret, label, "", Nh). Cannot fail.
[[nodiscard]] crypto::SecretBytes derive_secret(BytesView secret, BytesView label);
[[nodiscard]] crypto::SecretBytes derive_secret(BytesView secret, std::string_view label);
/// DeriveTreeSecret: ExpandWithLabel(secret, label, uint32(generation), length).
[[nodiscard]] MlsResult<crypto::SecretBytes> derive_tree_secret(BytesView secret, std::string_view label,
                                                                std::uint32_t generation, std::size_t length);
[[nodiscard]] MlsResult<crypto::SecretBytes> derive_tree_secret(const crypto::HkdfExpander& secret,
                                                                std::string_view label, std::uint32_t generation,
                                                                std::size_t length);

/// SignWithLabel / VerifyWithLabel (Ed25519 over SignContent).
[[nodiscard]] Bytes sign_with_label(const crypto::SigningKey& key, std::string_view label, BytesView content);
/// InvalidSignature on any mismatch, CryptoFailed for a malformed key.
[[nodiscard]] MlsResult<void> verify_with_label(BytesView public_key, std::string_view label, BytesView content,
                                                BytesView signature);

/// EncryptWithLabel with fresh randomness. CryptoFailed for a bad public key.
[[nodiscard]] MlsResult<HpkeCiphertext> encrypt_with_label(BytesView public_key, std::string_view label,
                                                           BytesView context, BytesView plaintext, Rng& rng);
/// The same with a given ephemeral key pair (deterministic; tests).
[[nodiscard]] MlsResult<HpkeCiphertext> encrypt_with_label(BytesView public_key, std::string_view label,
                                                           BytesView context, BytesView plaintext,
                                                           const crypto::X25519KeyPair& ephemeral);
/// DecryptWithLabel. DecryptFailed on tamper or a wrong key; the plaintext is
/// returned as a secret because every MLS use of it is one.
[[nodiscard]] MlsResult<crypto::SecretBytes> decrypt_with_label(BytesView private_key, std::string_view label,
                                                                BytesView context, const HpkeCiphertext& ct);

/// RefHash(label, value); the label is used as given (no prefix is added by
/// the RFC here, the callers' labels already carry "MLS 1.0 ").
[[nodiscard]] Digest ref_hash(BytesView label, BytesView value);
[[nodiscard]] Digest make_key_package_ref(BytesView key_package);
[[nodiscard]] Digest make_proposal_ref(BytesView authenticated_content);

}  // namespace hearth::mls
