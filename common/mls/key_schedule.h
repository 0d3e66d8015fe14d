// SPDX-License-Identifier: Apache-2.0
#pragma once
// The MLS key schedule (RFC 9420 §8) and the PSK secret (§8.4).
//
//   init_secret[n-1] --Extract(ikm=commit_secret)--> ExpandWithLabel "joiner" -> joiner_secret
//   joiner_secret --Extract(ikm=psk_secret)--> DeriveSecret "welcome"         -> welcome_secret
//                                             ExpandWithLabel "epoch"          -> epoch_secret
//   epoch_secret -> sender data, encryption, exporter, external, confirm,
//                   membership, resumption, authentication, init (DeriveSecret)

#include <cstdint>
#include <span>
#include <vector>

#include "common/crypto/crypto.h"
#include "common/mls/codec.h"
#include "common/mls/labeled_crypto.h"

namespace hearth::mls {

struct EpochSecrets {
  crypto::SecretBytes joiner_secret;
  crypto::SecretBytes welcome_secret;
  crypto::SecretBytes epoch_secret;
  crypto::SecretBytes sender_data_secret;
  crypto::SecretBytes encryption_secret;
  crypto::SecretBytes exporter_secret;
  crypto::SecretBytes external_secret;
  crypto::SecretBytes confirmation_key;
  crypto::SecretBytes membership_key;
  crypto::SecretBytes resumption_psk;
  crypto::SecretBytes epoch_authenticator;
  crypto::SecretBytes init_secret;  // for the next epoch
};

/// Nh zero bytes: the commit secret or PSK secret when there is none.
[[nodiscard]] Bytes zero_secret();

/// A member's path: from the previous init secret and this epoch's commit
/// secret. `group_context` is the encoded GroupContext of the new epoch.
[[nodiscard]] EpochSecrets derive_epoch_secrets(BytesView init_secret, BytesView commit_secret,
                                                BytesView psk_secret, BytesView group_context);
/// A joiner's path (Welcome): from the joiner secret.
[[nodiscard]] EpochSecrets derive_epoch_secrets_from_joiner(BytesView joiner_secret, BytesView psk_secret,
                                                            BytesView group_context);

/// MLS-Exporter(label, context, length). CryptoFailed when `length` is too long.
[[nodiscard]] MlsResult<crypto::SecretBytes> mls_exporter(BytesView exporter_secret, BytesView label,
                                                          BytesView context, std::size_t length);
/// The external HPKE key pair of an epoch (DeriveKeyPair(external_secret)).
[[nodiscard]] crypto::X25519KeyPair external_key_pair(BytesView external_secret);

// ---- pre-shared keys ----
enum class PskType : std::uint8_t { External = 1, Resumption = 2 };
enum class ResumptionPskUsage : std::uint8_t { Application = 1, Reinit = 2, Branch = 3 };

/// PreSharedKeyID, a wire struct (also inside PreSharedKey proposals and GroupSecrets).
struct PreSharedKeyId {
  PskType psk_type = PskType::External;
  Bytes psk_id;  // External
  ResumptionPskUsage usage = ResumptionPskUsage::Application;  // Resumption
  Bytes psk_group_id;                                          // Resumption
  std::uint64_t psk_epoch = 0;                                 // Resumption
  Bytes psk_nonce;
  bool operator==(const PreSharedKeyId&) const = default;
};
void write(Writer& w, const PreSharedKeyId& v);
void read(Reader& r, PreSharedKeyId& v);

struct PskInput {
  PreSharedKeyId id;
  crypto::SecretBytes psk;
};

/// Most PSKs one epoch may inject (PSKLabel counts them in a uint16).
inline constexpr std::size_t kMaxPsks = 0xffff;

/// psk_secret over `psks` in order; zero_secret() for none. InvalidValue
/// when there are more than kMaxPsks.
[[nodiscard]] MlsResult<crypto::SecretBytes> psk_secret(std::span<const PskInput> psks);

}  // namespace hearth::mls
