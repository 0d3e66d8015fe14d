// SPDX-License-Identifier: Apache-2.0
#pragma once
// GroupInfo signing and Welcome creation and decryption (RFC 9420 §12.4.3).
//
//   joiner_secret --Extract(psk_secret)--> DeriveSecret "welcome" -> welcome_secret
//   welcome_secret -> ExpandWithLabel "key"/"nonce" -> AEAD(GroupInfo)
//   GroupSecrets   -> EncryptWithLabel(init_key, "Welcome", encrypted_group_info)

#include <optional>
#include <span>
#include <vector>

#include "common/crypto/crypto.h"
#include "common/mls/error.h"
#include "common/mls/key_schedule.h"
#include "common/mls/wire.h"
#include "common/types/rng.h"

namespace hearth::mls {

/// GroupInfoTBS: the bytes the GroupInfo signature covers.
[[nodiscard]] Bytes group_info_tbs(const GroupInfo& info);
/// Sets `info.signature` (label "GroupInfoTBS").
void sign_group_info(GroupInfo& info, const crypto::SigningKey& key);
/// InvalidSignature unless the signature verifies under `signer_public_key`.
[[nodiscard]] MlsResult<void> verify_group_info(const GroupInfo& info, BytesView signer_public_key);

/// welcome_secret from the joiner secret and the PSK secret.
[[nodiscard]] crypto::SecretBytes welcome_secret(BytesView joiner_secret, BytesView psk_secret);

struct WelcomeJoiner {
  const KeyPackage* key_package = nullptr;
  std::optional<crypto::SecretBytes> path_secret;
};
/// A Welcome for `joiners`: one GroupSecrets each (same joiner secret and
/// PSK list, the joiner's own path secret), and `info` encrypted under the
/// welcome secret.
[[nodiscard]] MlsResult<Welcome> create_welcome(const GroupInfo& info, BytesView joiner_secret,
                                                BytesView psk_secret, std::span<const PreSharedKeyId> psks,
                                                std::span<const WelcomeJoiner> joiners, Rng& rng);

/// The GroupSecrets for the KeyPackage with reference `key_package_ref`:
/// InvalidWelcome when the Welcome has none for it, DecryptFailed when they
/// do not open with `init_private_key`, UnsupportedCipherSuite for a suite
/// other than 0x0003; the decoder's error for a malformed GroupSecrets and
/// InvalidWelcome for a joiner or path secret that is not Nh bytes.
[[nodiscard]] MlsResult<GroupSecrets> decrypt_group_secrets(const Welcome& welcome, BytesView key_package_ref,
                                                            BytesView init_private_key);
/// The GroupInfo (DecryptFailed on tamper; the decoder's error for a
/// malformed one).
[[nodiscard]] MlsResult<GroupInfo> decrypt_group_info(const Welcome& welcome, BytesView welcome_secret);

}  // namespace hearth::mls
