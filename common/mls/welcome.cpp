// SPDX-License-Identifier: Apache-2.0
#include "common/mls/welcome.h"

#include <algorithm>
#include <utility>

#include "common/mls/labeled_crypto.h"

namespace hearth::mls {
namespace {

constexpr std::string_view kGroupInfoLabel = "GroupInfoTBS";
constexpr std::string_view kWelcomeLabel = "Welcome";

struct WelcomeKey {
  crypto::SecretBytes key;
  crypto::SecretBytes nonce;
};

WelcomeKey welcome_key(BytesView welcome_secret_value) {
  // Nk and Nn are far below the HKDF and uint16 limits: these cannot fail.
  return WelcomeKey{std::move(*expand_with_label(welcome_secret_value, "key", {}, kAeadKeySize)),
                    std::move(*expand_with_label(welcome_secret_value, "nonce", {}, kAeadNonceSize))};
}

}  // namespace

Bytes group_info_tbs(const GroupInfo& info) {
  Writer w;
  write(w, info.group_context);
  w.list(info.extensions);
  w.opaque(info.confirmation_tag);
  w.u32(info.signer);
  return w.take();
}

void sign_group_info(GroupInfo& info, const crypto::SigningKey& key) {
  info.signature = sign_with_label(key, kGroupInfoLabel, group_info_tbs(info));
}

MlsResult<void> verify_group_info(const GroupInfo& info, BytesView signer_public_key) {
  auto ok = verify_with_label(signer_public_key, kGroupInfoLabel, group_info_tbs(info), info.signature);
  // A malformed key in a tree the caller trusts is still a signature that
  // does not verify, as far as the GroupInfo is concerned.
  if (!ok) return fail(Error::InvalidSignature);
  return {};
}

crypto::SecretBytes welcome_secret(BytesView joiner_secret, BytesView psk_secret) {
  auto prk = crypto::hkdf_extract(joiner_secret, psk_secret);
  crypto::SecretBytes out = derive_secret(prk, "welcome");
  crypto::wipe(prk.data(), prk.size());
  return out;
}

MlsResult<Welcome> create_welcome(const GroupInfo& info, BytesView joiner_secret, BytesView psk_secret,
                                  std::span<const PreSharedKeyId> psks, std::span<const WelcomeJoiner> joiners,
                                  Rng& rng) {
  const crypto::SecretBytes secret = welcome_secret(joiner_secret, psk_secret);
  const WelcomeKey wk = welcome_key(secret.view());
  auto sealed = crypto::aead_seal(wk.key.view(), wk.nonce.view(), {}, encode(info));
  if (!sealed) return fail(Error::CryptoFailed);

  Welcome welcome;
  welcome.cipher_suite = kCipherSuite;
  welcome.encrypted_group_info = std::move(*sealed);
  welcome.secrets.reserve(joiners.size());
  for (const WelcomeJoiner& joiner : joiners) {
    if (joiner.key_package == nullptr) return fail(Error::InvalidValue);
    GroupSecrets gs;
    gs.joiner_secret = Bytes(joiner_secret.begin(), joiner_secret.end());
    if (joiner.path_secret) {
      const BytesView ps = joiner.path_secret->view();
      gs.path_secret = Bytes(ps.begin(), ps.end());
    }
    gs.psks.assign(psks.begin(), psks.end());
    Bytes plain = encode(gs);
    auto ct = encrypt_with_label(joiner.key_package->init_key, kWelcomeLabel, welcome.encrypted_group_info, plain,
                                 rng);
    crypto::wipe(plain.data(), plain.size());
    crypto::wipe(gs.joiner_secret.data(), gs.joiner_secret.size());
    if (gs.path_secret) crypto::wipe(gs.path_secret->data(), gs.path_secret->size());
    if (!ct) return fail(ct.error());
    const Digest ref = make_key_package_ref(encode(*joiner.key_package));
    welcome.secrets.push_back(EncryptedGroupSecrets{Bytes(ref.begin(), ref.end()), std::move(*ct)});
  }
  return welcome;
}

MlsResult<GroupSecrets> decrypt_group_secrets(const Welcome& welcome, BytesView key_package_ref_value,
                                              BytesView init_private_key) {
  if (!is_supported_cipher_suite(welcome.cipher_suite)) return fail(Error::UnsupportedCipherSuite);
  const auto it = std::find_if(welcome.secrets.begin(), welcome.secrets.end(), [&](const EncryptedGroupSecrets& e) {
    return std::equal(e.new_member.begin(), e.new_member.end(), key_package_ref_value.begin(),
                      key_package_ref_value.end());
  });
  if (it == welcome.secrets.end()) return fail(Error::InvalidWelcome);
  auto plain = decrypt_with_label(init_private_key, kWelcomeLabel, welcome.encrypted_group_info,
                                  it->encrypted_group_secrets);
  if (!plain) return fail(plain.error());
  auto secrets = decode<GroupSecrets>(plain->view());
  if (!secrets) return fail(secrets.error());
  // Secrets of the wrong size would derive a key schedule no member shares.
  if (secrets->joiner_secret.size() != kHashSize) return fail(Error::InvalidWelcome);
  if (secrets->path_secret && secrets->path_secret->size() != kHashSize) return fail(Error::InvalidWelcome);
  return secrets;
}

MlsResult<GroupInfo> decrypt_group_info(const Welcome& welcome, BytesView welcome_secret_value) {
  if (!is_supported_cipher_suite(welcome.cipher_suite)) return fail(Error::UnsupportedCipherSuite);
  const WelcomeKey wk = welcome_key(welcome_secret_value);
  auto plain = crypto::aead_open(wk.key.view(), wk.nonce.view(), {}, welcome.encrypted_group_info);
  if (!plain) return fail(Error::DecryptFailed);
  return decode<GroupInfo>(*plain);
}

}  // namespace hearth::mls
