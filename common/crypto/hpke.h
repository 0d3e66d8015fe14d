// SPDX-License-Identifier: Apache-2.0
#pragma once
// HPKE (RFC 9180), base mode only, for the one suite Hearth uses:
// DHKEM(X25519, HKDF-SHA256) = 0x0020, HKDF-SHA256 = 0x0001,
// ChaCha20-Poly1305 = 0x0003. Pure functions over values: randomness comes in
// as `Rng&`, and the deterministic forms (`setup_base_s_with_ephemeral`) exist
// for the RFC 9180 A.2.1 vector and for MLS's own vectors.
//
//   sender                                   receiver
//   setup_base_s(pkR, info, rng) -> (enc, ctx)
//   ctx.seal(aad, pt) -> ct          ---->   setup_base_r(enc, skR, info) -> ctx
//                                            ctx.open(aad, ct) -> pt
//
// Thread affinity: none; a Context is a plain value (not shared).

#include <array>
#include <cstddef>
#include <cstdint>

#include "common/crypto/crypto.h"

namespace hearth::crypto::hpke {

inline constexpr std::uint16_t kKemId = 0x0020;
inline constexpr std::uint16_t kKdfId = 0x0001;
inline constexpr std::uint16_t kAeadId = 0x0003;
inline constexpr std::size_t kEncSize = kX25519KeySize;        // Nenc
inline constexpr std::size_t kPublicKeySize = kX25519KeySize;  // Npk
inline constexpr std::size_t kSecretKeySize = kX25519KeySize;  // Nsk
inline constexpr std::size_t kSharedSecretSize = kSha256Size;  // Nsecret
inline constexpr std::size_t kKeySize = kAeadKeySize;          // Nk
inline constexpr std::size_t kNonceSize = kAeadNonceSize;      // Nn
inline constexpr std::size_t kExporterSecretSize = kSha256Size;  // Nh

/// RFC 9180 §7.1.3 DeriveKeyPair: a key pair from input keying material of
/// any length (the RFC asks for at least Nsk bytes of entropy).
[[nodiscard]] X25519KeyPair derive_key_pair(BytesView ikm);

/// An HPKE encryption context (RFC 9180 §5.2). Sealing and opening at an
/// explicit sequence number are pure; `seal`/`open` use and advance `seq`.
class Context {
 public:
  Context(Secret<kKeySize> key, std::array<std::uint8_t, kNonceSize> base_nonce,
          Secret<kExporterSecretSize> exporter_secret) noexcept;

  /// Fails with InvalidKey only on a malformed context (never in practice).
  [[nodiscard]] CryptoResult<Bytes> seal_at(std::uint64_t seq, BytesView aad, BytesView plaintext) const;
  /// DecryptFailed on a wrong key, nonce, associated data or a tampered text.
  [[nodiscard]] CryptoResult<Bytes> open_at(std::uint64_t seq, BytesView aad, BytesView ciphertext) const;
  /// Seals at `seq()` then advances it. InvalidLength once the counter is spent.
  [[nodiscard]] CryptoResult<Bytes> seal(BytesView aad, BytesView plaintext);
  /// Opens at `seq()` and advances it only on success.
  [[nodiscard]] CryptoResult<Bytes> open(BytesView aad, BytesView ciphertext);
  /// RFC 9180 §5.3 Export. InvalidLength when `length` > 255 * 32.
  [[nodiscard]] CryptoResult<SecretBytes> export_secret(BytesView exporter_context, std::size_t length) const;

  [[nodiscard]] std::uint64_t seq() const noexcept { return seq_; }
  [[nodiscard]] BytesView key() const noexcept { return key_.view(); }
  [[nodiscard]] BytesView base_nonce() const noexcept { return base_nonce_; }
  [[nodiscard]] BytesView exporter_secret() const noexcept { return exporter_secret_.view(); }

 private:
  [[nodiscard]] std::array<std::uint8_t, kNonceSize> nonce_for(std::uint64_t seq) const noexcept;

  Secret<kKeySize> key_;
  std::array<std::uint8_t, kNonceSize> base_nonce_{};
  Secret<kExporterSecretSize> exporter_secret_;
  std::uint64_t seq_ = 0;
};

struct SenderSetup {
  std::array<std::uint8_t, kEncSize> enc{};
  Context context;
};

/// Sender side with a fresh ephemeral key from `rng`. InvalidKey for a
/// malformed `recipient_public`, WeakSharedSecret for a low-order one.
[[nodiscard]] CryptoResult<SenderSetup> setup_base_s(BytesView recipient_public, BytesView info, Rng& rng);
/// Sender side with a given ephemeral key pair (deterministic; vectors).
[[nodiscard]] CryptoResult<SenderSetup> setup_base_s_with_ephemeral(BytesView recipient_public, BytesView info,
                                                                    const X25519KeyPair& ephemeral);
/// Receiver side. InvalidKey for a malformed `enc` or key, WeakSharedSecret
/// for a low-order `enc`.
[[nodiscard]] CryptoResult<Context> setup_base_r(BytesView enc, BytesView recipient_secret, BytesView info);

/// The shared secret of the KEM alone (RFC 9180 §4.1 Encap/Decap), exposed for
/// the vector check.
[[nodiscard]] CryptoResult<SecretBytes> encap_with_ephemeral(BytesView recipient_public,
                                                             const X25519KeyPair& ephemeral);
[[nodiscard]] CryptoResult<SecretBytes> decap(BytesView enc, BytesView recipient_secret);

/// Single-shot seal/open (RFC 9180 §6.1), sequence number 0.
struct Sealed {
  std::array<std::uint8_t, kEncSize> enc{};
  Bytes ciphertext;
};
[[nodiscard]] CryptoResult<Sealed> seal_base(BytesView recipient_public, BytesView info, BytesView aad,
                                             BytesView plaintext, Rng& rng);
[[nodiscard]] CryptoResult<Bytes> open_base(BytesView enc, BytesView recipient_secret, BytesView info,
                                            BytesView aad, BytesView ciphertext);

}  // namespace hearth::crypto::hpke
