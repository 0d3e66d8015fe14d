// SPDX-License-Identifier: Apache-2.0
#include "client/core/profile_key.h"

#include <string>

namespace hearth::client {

namespace {

using store::StoreCode;
using store::StoreError;

// Domain separation: the wrapped key and each kind of record have their own
// associated data, so none can stand in for another.
constexpr std::string_view kWrapLabel = "hearth.profile.v1.key";
constexpr std::string_view kRecordPrefix = "hearth.profile.v1.record.";

Bytes associated_data(std::string_view label, BytesView context) {
  Bytes ad(kRecordPrefix.begin(), kRecordPrefix.end());
  ad.insert(ad.end(), label.begin(), label.end());
  ad.push_back(0);  // the label ends here: "a" + "bc" differs from "ab" + "c"
  append(ad, context);
  return ad;
}

Bytes wrap_ad(const crypto::Argon2Params& kdf) {
  // The cost is bound to the wrapped key: lowering it in the file breaks the seal.
  Bytes ad(kWrapLabel.begin(), kWrapLabel.end());
  put_u64(ad, kdf.ops_limit);
  put_u64(ad, static_cast<std::uint64_t>(kdf.mem_limit));
  return ad;
}

store::StoreResult<void> check_passphrase(std::string_view passphrase) {
  if (passphrase.empty()) return fail(StoreError{StoreCode::InvalidPassphrase, "the passphrase is empty"});
  if (passphrase.size() > kMaxPassphraseSize) {
    return fail(StoreError{StoreCode::InvalidPassphrase,
                           "the passphrase is longer than " + std::to_string(kMaxPassphraseSize) + " bytes"});
  }
  return {};
}

bool kdf_in_bounds(const crypto::Argon2Params& kdf) {
  return kdf.ops_limit >= kMinProfileKdfOps && kdf.ops_limit <= kMaxProfileKdfOps &&
         kdf.mem_limit >= kMinProfileKdfMemory && kdf.mem_limit <= kMaxProfileKdfMemory;
}

store::StoreResult<crypto::Secret<crypto::kAeadKeySize>> derive(std::string_view passphrase, BytesView salt,
                                                                const crypto::Argon2Params& kdf) {
  auto k = crypto::argon2id(passphrase, salt, kdf);
  if (!k) {
    const auto code = k.error() == crypto::CryptoError::OutOfMemory ? StoreCode::KdfFailed : StoreCode::NotADatabase;
    return fail(StoreError{code, "cannot derive the passphrase key: " + crypto::to_string(k.error())});
  }
  return std::move(*k);
}

store::StoreResult<WrappedProfileKey> wrap(const crypto::Secret<crypto::kAeadKeySize>& key,
                                           std::string_view passphrase, const crypto::Argon2Params& kdf) {
  if (auto ok = check_passphrase(passphrase); !ok) return fail(std::move(ok.error()));
  if (!kdf_in_bounds(kdf)) return fail(StoreError{StoreCode::KdfFailed, "Argon2id cost out of bounds"});
  WrappedProfileKey w;
  w.salt = crypto::random_bytes(crypto::kArgon2SaltSize);
  w.kdf = kdf;
  auto kek = derive(passphrase, w.salt, kdf);
  if (!kek) return fail(std::move(kek.error()));
  Bytes nonce = crypto::random_bytes(crypto::kXAeadNonceSize);
  auto ct = crypto::xaead_seal(kek->view(), nonce, wrap_ad(kdf), key.view());
  if (!ct) return fail(StoreError{StoreCode::KdfFailed, "cannot seal the profile key"});
  w.sealed_key = std::move(nonce);
  append(w.sealed_key, *ct);
  return w;
}

}  // namespace

store::StoreResult<std::pair<ProfileKey, WrappedProfileKey>> ProfileKey::create(std::string_view passphrase,
                                                                                 const crypto::Argon2Params& kdf) {
  crypto::Secret<crypto::kAeadKeySize> key;
  crypto::random_fill(key.mut());
  auto w = wrap(key, passphrase, kdf);
  if (!w) return fail(std::move(w.error()));
  return std::pair<ProfileKey, WrappedProfileKey>{ProfileKey(std::move(key)), std::move(*w)};
}

store::StoreResult<ProfileKey> ProfileKey::unlock(std::string_view passphrase, const WrappedProfileKey& wrapped) {
  if (auto ok = check_passphrase(passphrase); !ok) return fail(std::move(ok.error()));
  if (wrapped.salt.size() != crypto::kArgon2SaltSize ||
      wrapped.sealed_key.size() != crypto::kAeadKeySize + kSealOverhead) {
    return fail(StoreError{StoreCode::NotADatabase, "the stored profile key is malformed"});
  }
  if (!kdf_in_bounds(wrapped.kdf)) {
    return fail(StoreError{StoreCode::NotADatabase, "the stored Argon2id cost is out of bounds"});
  }
  auto kek = derive(passphrase, wrapped.salt, wrapped.kdf);
  if (!kek) return fail(std::move(kek.error()));
  const BytesView sealed{wrapped.sealed_key};
  auto key = crypto::xaead_open(kek->view(), sealed.first(crypto::kXAeadNonceSize), wrap_ad(wrapped.kdf),
                                sealed.subspan(crypto::kXAeadNonceSize));
  if (!key) return fail(StoreError{StoreCode::WrongPassphrase, "the passphrase does not open this profile"});
  crypto::Secret<crypto::kAeadKeySize> k(*key);
  crypto::wipe(key->data(), key->size());
  return ProfileKey(std::move(k));
}

store::StoreResult<WrappedProfileKey> ProfileKey::rewrap(std::string_view passphrase,
                                                         const crypto::Argon2Params& kdf) const {
  return wrap(key_, passphrase, kdf);
}

Bytes ProfileKey::seal(std::string_view label, BytesView context, BytesView plaintext) const {
  Bytes out = crypto::random_bytes(crypto::kXAeadNonceSize);
  auto ct = crypto::xaead_seal(key_.view(), out, associated_data(label, context), plaintext);
  // Sealing fails only on sizes beyond libsodium's limits (2^64 bytes).
  if (!ct) throw std::length_error("profile record too large to seal");
  append(out, *ct);
  return out;
}

store::StoreResult<Bytes> ProfileKey::open(std::string_view label, BytesView context, BytesView sealed) const {
  if (sealed.size() < kSealOverhead) {
    return fail(StoreError{StoreCode::Undecryptable, std::string("a sealed ") + std::string(label) + " is truncated"});
  }
  auto pt = crypto::xaead_open(key_.view(), sealed.first(crypto::kXAeadNonceSize), associated_data(label, context),
                               sealed.subspan(crypto::kXAeadNonceSize));
  if (!pt) {
    return fail(StoreError{StoreCode::Undecryptable,
                           std::string("a sealed ") + std::string(label) + " does not open (damaged or moved)"});
  }
  return std::move(*pt);
}

}  // namespace hearth::client
