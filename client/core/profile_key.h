// SPDX-License-Identifier: Apache-2.0
#pragma once
// The profile key (DESIGN.md §7): 32 random bytes that seal every secret and
// every piece of content in a profile database with XChaCha20-Poly1305. It
// is stored only wrapped, under a key that Argon2id derives from the user's
// passphrase; changing the passphrase rewraps it and re-encrypts nothing.
//
// Each sealed record is nonce || ciphertext || tag, with a fresh random
// nonce, and its associated data names what the record is and where it sits
// (a label and, for rows, their key), so a record copied into another row or
// table does not open.

#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "common/crypto/crypto.h"
#include "common/store/error.h"

namespace hearth::client {

/// Argon2id cost for new profiles and passphrase changes: libsodium's
/// "moderate" (about 0.5 s and 256 MiB would be "sensitive"; 64 MiB keeps a
/// small laptop responsive).
inline constexpr crypto::Argon2Params kDefaultProfileKdf{3, 64u * 1024 * 1024};
/// Bounds on the Argon2id cost a profile file may ask for: a hostile or
/// damaged file must not make the client allocate gigabytes or spin for
/// minutes before it can even say "wrong passphrase".
inline constexpr std::uint64_t kMaxProfileKdfOps = 16;
inline constexpr std::size_t kMaxProfileKdfMemory = 1024u * 1024 * 1024;
/// libsodium's floors for Argon2id (tests use them to stay fast).
inline constexpr std::uint64_t kMinProfileKdfOps = 1;
inline constexpr std::size_t kMinProfileKdfMemory = 8u * 1024;
/// The longest passphrase accepted (bytes).
inline constexpr std::size_t kMaxPassphraseSize = 1024;
/// Bytes a sealed record adds to its plaintext (nonce and tag).
inline constexpr std::size_t kSealOverhead = crypto::kXAeadNonceSize + crypto::kAeadTagSize;

/// The profile key as stored: the Argon2id salt and cost, and the key sealed
/// under the passphrase-derived key.
struct WrappedProfileKey {
  Bytes salt;
  crypto::Argon2Params kdf;
  Bytes sealed_key;  // nonce || ciphertext || tag
};

class ProfileKey {
 public:
  /// A fresh random profile key, and it wrapped under `passphrase`.
  /// Errors: InvalidPassphrase (empty or longer than kMaxPassphraseSize),
  /// KdfFailed (out of memory).
  [[nodiscard]] static store::StoreResult<std::pair<ProfileKey, WrappedProfileKey>> create(
      std::string_view passphrase, const crypto::Argon2Params& kdf = kDefaultProfileKdf);
  /// The key inside `wrapped`. Errors: WrongPassphrase (the passphrase does
  /// not open it), NotADatabase (the stored salt, cost or key is malformed or
  /// out of bounds), InvalidPassphrase, KdfFailed.
  [[nodiscard]] static store::StoreResult<ProfileKey> unlock(std::string_view passphrase,
                                                             const WrappedProfileKey& wrapped);

  /// The same key wrapped under another passphrase (a fresh salt).
  [[nodiscard]] store::StoreResult<WrappedProfileKey> rewrap(std::string_view passphrase,
                                                             const crypto::Argon2Params& kdf = kDefaultProfileKdf) const;

  /// nonce || ciphertext || tag of `plaintext`, bound to `label` and `context`.
  [[nodiscard]] Bytes seal(std::string_view label, BytesView context, BytesView plaintext) const;
  /// The plaintext of a record sealed with the same label and context.
  /// Error: Undecryptable (damaged, truncated, or moved from another place).
  [[nodiscard]] store::StoreResult<Bytes> open(std::string_view label, BytesView context, BytesView sealed) const;

 private:
  explicit ProfileKey(crypto::Secret<crypto::kAeadKeySize> key) : key_(std::move(key)) {}
  crypto::Secret<crypto::kAeadKeySize> key_;
};

}  // namespace hearth::client
