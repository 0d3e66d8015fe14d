// SPDX-License-Identifier: Apache-2.0
#pragma once
// The primitives Hearth uses, all on libsodium. This header is libsodium-free:
// sizes are our own constants, static_asserted against libsodium in the .cpp.
//
// Thread affinity: every function is thread-safe once `init()` has run.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "common/crypto/secret.h"
#include "common/types/bytes.h"
#include "common/types/result.h"
#include "common/types/rng.h"

namespace hearth::crypto {

inline constexpr std::size_t kSha256Size = 32;
inline constexpr std::size_t kHmacSha256Size = 32;
inline constexpr std::size_t kEd25519SeedSize = 32;
inline constexpr std::size_t kEd25519PublicKeySize = 32;
inline constexpr std::size_t kEd25519SecretKeySize = 64;  // seed || public key
inline constexpr std::size_t kEd25519SignatureSize = 64;
inline constexpr std::size_t kX25519KeySize = 32;
inline constexpr std::size_t kAeadKeySize = 32;        // ChaCha20-Poly1305 (IETF) and XChaCha
inline constexpr std::size_t kAeadNonceSize = 12;      // ChaCha20-Poly1305 (IETF)
inline constexpr std::size_t kXAeadNonceSize = 24;     // XChaCha20-Poly1305
inline constexpr std::size_t kAeadTagSize = 16;
inline constexpr std::size_t kArgon2SaltSize = 16;
/// HKDF-SHA256 can expand to at most 255 blocks.
inline constexpr std::size_t kHkdfMaxOutput = 255 * kSha256Size;

enum class CryptoError {
  InvalidKey,         // wrong size, or a key libsodium refuses
  InvalidSignature,   // signature does not verify
  DecryptFailed,      // AEAD tag mismatch (tamper, wrong key, wrong nonce or AD)
  WeakSharedSecret,   // X25519 produced the all-zero output
  InvalidLength,      // an output length the construction cannot produce
  OutOfMemory,        // Argon2id could not allocate
};
[[nodiscard]] std::string to_string(CryptoError e);

template <class T>
using CryptoResult = Result<T, CryptoError>;

/// Initialises libsodium. Throws std::runtime_error if that fails (a start-up
/// failure, not an expected error). Safe to call more than once.
void init();

// ---- randomness ----
void random_fill(std::span<std::uint8_t> out) noexcept;
[[nodiscard]] Bytes random_bytes(std::size_t n);

/// The operating system's randomness behind the `Rng` interface.
class SystemRng final : public Rng {
 public:
  void fill(std::span<std::uint8_t> out) override { random_fill(out); }
};

// ---- hashing ----
using Digest = std::array<std::uint8_t, kSha256Size>;
[[nodiscard]] Digest sha256(BytesView data) noexcept;

/// Incremental SHA-256.
class Sha256 {
 public:
  Sha256() noexcept;
  void update(BytesView data) noexcept;
  [[nodiscard]] Digest finish() noexcept;

 private:
  alignas(16) std::array<std::uint8_t, 128> state_{};  // crypto_hash_sha256_state
};

/// HMAC-SHA256 with a key of any length (the streaming libsodium API; the
/// one-shot call takes only 32-byte keys).
[[nodiscard]] Digest hmac_sha256(BytesView key, BytesView data) noexcept;

/// HKDF-SHA256 (RFC 5869).
[[nodiscard]] Digest hkdf_extract(BytesView salt, BytesView ikm) noexcept;
/// Fails with InvalidLength when `length` > kHkdfMaxOutput.
[[nodiscard]] CryptoResult<SecretBytes> hkdf_expand(BytesView prk, BytesView info, std::size_t length);

/// HKDF-Expand from one PRK, with the HMAC key schedule computed once. Several
/// expansions from the same secret (a ratchet step's key, nonce and next
/// secret) then cost two SHA-256 compressions less each. Same results as
/// hkdf_expand. Move-only; wipes its state.
class HkdfExpander {
 public:
  explicit HkdfExpander(BytesView prk) noexcept;
  HkdfExpander(const HkdfExpander&) = delete;
  HkdfExpander& operator=(const HkdfExpander&) = delete;
  ~HkdfExpander();
  /// Fails with InvalidLength when `length` > kHkdfMaxOutput.
  [[nodiscard]] CryptoResult<SecretBytes> expand(BytesView info, std::size_t length) const;

 private:
  alignas(16) std::array<std::uint8_t, 256> state_{};  // crypto_auth_hmacsha256_state
};

// ---- Ed25519 ----
struct SigningKey {
  Secret<kEd25519SecretKeySize> secret;  // libsodium's seed || public form
  std::array<std::uint8_t, kEd25519PublicKeySize> public_key{};
};
/// Deterministic key from a 32-byte seed (the form the MLS vectors use).
[[nodiscard]] CryptoResult<SigningKey> ed25519_from_seed(BytesView seed);
[[nodiscard]] SigningKey ed25519_generate();
[[nodiscard]] std::array<std::uint8_t, kEd25519SignatureSize> ed25519_sign(const SigningKey& key,
                                                                           BytesView message) noexcept;
[[nodiscard]] CryptoResult<void> ed25519_verify(BytesView public_key, BytesView message,
                                                BytesView signature) noexcept;
/// The 32-byte seed of a signing key (for storing it encrypted).
[[nodiscard]] Secret<kEd25519SeedSize> ed25519_seed(const SigningKey& key) noexcept;

// ---- X25519 ----
struct X25519KeyPair {
  Secret<kX25519KeySize> secret;
  std::array<std::uint8_t, kX25519KeySize> public_key{};
};
[[nodiscard]] X25519KeyPair x25519_generate();
[[nodiscard]] CryptoResult<X25519KeyPair> x25519_from_secret(BytesView secret);
/// Refuses an all-zero result (a low-order peer point) with WeakSharedSecret.
[[nodiscard]] CryptoResult<Secret<kX25519KeySize>> x25519(BytesView secret, BytesView peer_public);

// ---- AEAD ----
/// ChaCha20-Poly1305 (IETF, 12-byte nonce). Output is ciphertext || tag.
[[nodiscard]] CryptoResult<Bytes> aead_seal(BytesView key, BytesView nonce, BytesView aad, BytesView plaintext);
[[nodiscard]] CryptoResult<Bytes> aead_open(BytesView key, BytesView nonce, BytesView aad,
                                            BytesView ciphertext);
/// XChaCha20-Poly1305 (24-byte nonce) for local storage.
[[nodiscard]] CryptoResult<Bytes> xaead_seal(BytesView key, BytesView nonce, BytesView aad,
                                             BytesView plaintext);
[[nodiscard]] CryptoResult<Bytes> xaead_open(BytesView key, BytesView nonce, BytesView aad,
                                             BytesView ciphertext);

// ---- Argon2id ----
struct Argon2Params {
  std::uint64_t ops_limit = 3;              // libsodium's "moderate" is 3
  std::size_t mem_limit = 64u * 1024 * 1024;  // bytes
};
/// InvalidLength for a salt of the wrong size or parameters outside
/// libsodium's Argon2id limits; OutOfMemory when the memory cannot be had.
[[nodiscard]] CryptoResult<Secret<kAeadKeySize>> argon2id(std::string_view passphrase, BytesView salt,
                                                         const Argon2Params& params);

}  // namespace hearth::crypto
