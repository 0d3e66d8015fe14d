// SPDX-License-Identifier: Apache-2.0
#include "common/crypto/crypto.h"

#include <sodium.h>

#include <cstring>
#include <stdexcept>

namespace hearth::crypto {

static_assert(kSha256Size == crypto_hash_sha256_BYTES);
static_assert(kHmacSha256Size == crypto_auth_hmacsha256_BYTES);
static_assert(kEd25519SeedSize == crypto_sign_ed25519_SEEDBYTES);
static_assert(kEd25519PublicKeySize == crypto_sign_ed25519_PUBLICKEYBYTES);
static_assert(kEd25519SecretKeySize == crypto_sign_ed25519_SECRETKEYBYTES);
static_assert(kEd25519SignatureSize == crypto_sign_ed25519_BYTES);
static_assert(kX25519KeySize == crypto_scalarmult_curve25519_BYTES);
static_assert(kX25519KeySize == crypto_scalarmult_curve25519_SCALARBYTES);
static_assert(kAeadKeySize == crypto_aead_chacha20poly1305_ietf_KEYBYTES);
static_assert(kAeadKeySize == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
static_assert(kAeadNonceSize == crypto_aead_chacha20poly1305_ietf_NPUBBYTES);
static_assert(kXAeadNonceSize == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(kAeadTagSize == crypto_aead_chacha20poly1305_ietf_ABYTES);
static_assert(kAeadTagSize == crypto_aead_xchacha20poly1305_ietf_ABYTES);
static_assert(kArgon2SaltSize == crypto_pwhash_argon2id_SALTBYTES);

namespace {
// crypto_auth_hmacsha256_init declares its key pointer nonnull, but an empty
// span's data() may be null (an absent HKDF salt): pass a valid address then.
const unsigned char* key_ptr(BytesView key) noexcept {
  static constexpr unsigned char kEmpty = 0;
  return key.empty() ? &kEmpty : key.data();
}

struct Sha256StateFits {
  static_assert(sizeof(crypto_hash_sha256_state) <= 128);
  static_assert(alignof(crypto_hash_sha256_state) <= 16);
};
}  // namespace

void wipe(void* p, std::size_t n) noexcept { sodium_memzero(p, n); }

bool equal_ct(BytesView a, BytesView b) noexcept {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string to_string(CryptoError e) {
  switch (e) {
    case CryptoError::InvalidKey: return "invalid key";
    case CryptoError::InvalidSignature: return "invalid signature";
    case CryptoError::DecryptFailed: return "decryption failed";
    case CryptoError::WeakSharedSecret: return "weak (all-zero) shared secret";
    case CryptoError::InvalidLength: return "invalid length";
    case CryptoError::OutOfMemory: return "out of memory";
  }
  return "unknown crypto error";
}

void init() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium initialisation failed");
}

void random_fill(std::span<std::uint8_t> out) noexcept {
  if (!out.empty()) randombytes_buf(out.data(), out.size());
}

Bytes random_bytes(std::size_t n) {
  Bytes out(n);
  random_fill(out);
  return out;
}

Digest sha256(BytesView data) noexcept {
  Digest d{};
  crypto_hash_sha256(d.data(), data.data(), data.size());
  return d;
}

Sha256::Sha256() noexcept {
  crypto_hash_sha256_init(reinterpret_cast<crypto_hash_sha256_state*>(state_.data()));
}

void Sha256::update(BytesView data) noexcept {
  crypto_hash_sha256_update(reinterpret_cast<crypto_hash_sha256_state*>(state_.data()), data.data(),
                            data.size());
}

Digest Sha256::finish() noexcept {
  Digest d{};
  crypto_hash_sha256_final(reinterpret_cast<crypto_hash_sha256_state*>(state_.data()), d.data());
  return d;
}

Digest hmac_sha256(BytesView key, BytesView data) noexcept {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key_ptr(key), key.size());
  crypto_auth_hmacsha256_update(&st, data.data(), data.size());
  Digest d{};
  crypto_auth_hmacsha256_final(&st, d.data());
  sodium_memzero(&st, sizeof st);
  return d;
}

Digest hkdf_extract(BytesView salt, BytesView ikm) noexcept {
  // RFC 5869: an absent salt is HashLen zero bytes; HMAC pads short keys with
  // zeros, so an empty key gives the same result.
  return hmac_sha256(salt, ikm);
}

CryptoResult<SecretBytes> hkdf_expand(BytesView prk, BytesView info, std::size_t length) {
  return HkdfExpander(prk).expand(info, length);
}

namespace {
struct HmacStateFits {
  static_assert(sizeof(crypto_auth_hmacsha256_state) <= 256);
  static_assert(alignof(crypto_auth_hmacsha256_state) <= 16);
};
}  // namespace

HkdfExpander::HkdfExpander(BytesView prk) noexcept {
  crypto_auth_hmacsha256_init(reinterpret_cast<crypto_auth_hmacsha256_state*>(state_.data()), key_ptr(prk),
                              prk.size());
}

HkdfExpander::~HkdfExpander() { sodium_memzero(state_.data(), state_.size()); }

CryptoResult<SecretBytes> HkdfExpander::expand(BytesView info, std::size_t length) const {
  if (length > kHkdfMaxOutput) return fail(CryptoError::InvalidLength);
  SecretBytes out(length);
  Digest block{};
  crypto_auth_hmacsha256_state st;
  std::size_t produced = 0;
  for (std::uint8_t counter = 1; produced < length; ++counter) {
    // Each block starts from the keyed state: T(i) = HMAC(PRK, T(i-1) | info | i).
    std::memcpy(&st, state_.data(), sizeof st);
    if (counter > 1) crypto_auth_hmacsha256_update(&st, block.data(), block.size());
    crypto_auth_hmacsha256_update(&st, info.data(), info.size());
    crypto_auth_hmacsha256_update(&st, &counter, 1);
    crypto_auth_hmacsha256_final(&st, block.data());
    std::size_t take = std::min(block.size(), length - produced);
    std::copy_n(block.begin(), take, out.mut().begin() + static_cast<std::ptrdiff_t>(produced));
    produced += take;
  }
  sodium_memzero(&st, sizeof st);
  sodium_memzero(block.data(), block.size());
  return out;
}

CryptoResult<SigningKey> ed25519_from_seed(BytesView seed) {
  if (seed.size() != kEd25519SeedSize) return fail(CryptoError::InvalidKey);
  SigningKey k;
  crypto_sign_ed25519_seed_keypair(k.public_key.data(), k.secret.mut().data(), seed.data());
  return k;
}

SigningKey ed25519_generate() {
  SigningKey k;
  crypto_sign_ed25519_keypair(k.public_key.data(), k.secret.mut().data());
  return k;
}

std::array<std::uint8_t, kEd25519SignatureSize> ed25519_sign(const SigningKey& key, BytesView message) noexcept {
  std::array<std::uint8_t, kEd25519SignatureSize> sig{};
  crypto_sign_ed25519_detached(sig.data(), nullptr, message.data(), message.size(), key.secret.data());
  return sig;
}

CryptoResult<void> ed25519_verify(BytesView public_key, BytesView message, BytesView signature) noexcept {
  if (public_key.size() != kEd25519PublicKeySize) return fail(CryptoError::InvalidKey);
  if (signature.size() != kEd25519SignatureSize) return fail(CryptoError::InvalidSignature);
  if (crypto_sign_ed25519_verify_detached(signature.data(), message.data(), message.size(), public_key.data()) !=
      0) {
    return fail(CryptoError::InvalidSignature);
  }
  return {};
}

Secret<kEd25519SeedSize> ed25519_seed(const SigningKey& key) noexcept {
  Secret<kEd25519SeedSize> seed;
  crypto_sign_ed25519_sk_to_seed(seed.mut().data(), key.secret.data());
  return seed;
}

X25519KeyPair x25519_generate() {
  X25519KeyPair kp;
  random_fill(kp.secret.mut());
  crypto_scalarmult_curve25519_base(kp.public_key.data(), kp.secret.data());
  return kp;
}

CryptoResult<X25519KeyPair> x25519_from_secret(BytesView secret) {
  if (secret.size() != kX25519KeySize) return fail(CryptoError::InvalidKey);
  X25519KeyPair kp;
  kp.secret = Secret<kX25519KeySize>(secret);
  if (crypto_scalarmult_curve25519_base(kp.public_key.data(), kp.secret.data()) != 0) {
    return fail(CryptoError::InvalidKey);
  }
  return kp;
}

CryptoResult<Secret<kX25519KeySize>> x25519(BytesView secret, BytesView peer_public) {
  if (secret.size() != kX25519KeySize || peer_public.size() != kX25519KeySize) {
    return fail(CryptoError::InvalidKey);
  }
  Secret<kX25519KeySize> out;
  // libsodium returns -1 for the all-zero output; check it ourselves as well.
  if (crypto_scalarmult_curve25519(out.mut().data(), secret.data(), peer_public.data()) != 0 ||
      sodium_is_zero(out.data(), out.size())) {
    return fail(CryptoError::WeakSharedSecret);
  }
  return out;
}

CryptoResult<Bytes> aead_seal(BytesView key, BytesView nonce, BytesView aad, BytesView plaintext) {
  if (key.size() != kAeadKeySize || nonce.size() != kAeadNonceSize) return fail(CryptoError::InvalidKey);
  Bytes out(plaintext.size() + kAeadTagSize);
  unsigned long long n = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &n, plaintext.data(), plaintext.size(), aad.data(),
                                            aad.size(), nullptr, nonce.data(), key.data());
  out.resize(static_cast<std::size_t>(n));
  return out;
}

CryptoResult<Bytes> aead_open(BytesView key, BytesView nonce, BytesView aad, BytesView ciphertext) {
  if (key.size() != kAeadKeySize || nonce.size() != kAeadNonceSize) return fail(CryptoError::InvalidKey);
  if (ciphertext.size() < kAeadTagSize) return fail(CryptoError::DecryptFailed);
  Bytes out(ciphertext.size() - kAeadTagSize);
  unsigned long long n = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(out.data(), &n, nullptr, ciphertext.data(), ciphertext.size(),
                                                aad.data(), aad.size(), nonce.data(), key.data()) != 0) {
    return fail(CryptoError::DecryptFailed);
  }
  out.resize(static_cast<std::size_t>(n));
  return out;
}

CryptoResult<Bytes> xaead_seal(BytesView key, BytesView nonce, BytesView aad, BytesView plaintext) {
  if (key.size() != kAeadKeySize || nonce.size() != kXAeadNonceSize) return fail(CryptoError::InvalidKey);
  Bytes out(plaintext.size() + kAeadTagSize);
  unsigned long long n = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data(), &n, plaintext.data(), plaintext.size(), aad.data(),
                                             aad.size(), nullptr, nonce.data(), key.data());
  out.resize(static_cast<std::size_t>(n));
  return out;
}

CryptoResult<Bytes> xaead_open(BytesView key, BytesView nonce, BytesView aad, BytesView ciphertext) {
  if (key.size() != kAeadKeySize || nonce.size() != kXAeadNonceSize) return fail(CryptoError::InvalidKey);
  if (ciphertext.size() < kAeadTagSize) return fail(CryptoError::DecryptFailed);
  Bytes out(ciphertext.size() - kAeadTagSize);
  unsigned long long n = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), &n, nullptr, ciphertext.data(), ciphertext.size(),
                                                 aad.data(), aad.size(), nonce.data(), key.data()) != 0) {
    return fail(CryptoError::DecryptFailed);
  }
  out.resize(static_cast<std::size_t>(n));
  return out;
}

CryptoResult<Secret<kAeadKeySize>> argon2id(std::string_view passphrase, BytesView salt,
                                           const Argon2Params& params) {
  if (salt.size() != kArgon2SaltSize) return fail(CryptoError::InvalidLength);
  // Parameters outside libsodium's range are a caller's mistake, not memory
  // exhaustion: report them as such instead of letting crypto_pwhash fail.
  if (params.ops_limit < crypto_pwhash_argon2id_OPSLIMIT_MIN || params.ops_limit > crypto_pwhash_argon2id_OPSLIMIT_MAX ||
      params.mem_limit < crypto_pwhash_argon2id_MEMLIMIT_MIN || params.mem_limit > crypto_pwhash_argon2id_MEMLIMIT_MAX ||
      passphrase.size() > crypto_pwhash_argon2id_PASSWD_MAX) {
    return fail(CryptoError::InvalidLength);
  }
  Secret<kAeadKeySize> key;
  if (crypto_pwhash(key.mut().data(), key.size(), passphrase.data(), passphrase.size(), salt.data(),
                    params.ops_limit, params.mem_limit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return fail(CryptoError::OutOfMemory);
  }
  return key;
}

}  // namespace hearth::crypto
