// SPDX-License-Identifier: Apache-2.0
#include "common/mls/key_schedule.h"

#include <utility>

namespace hearth::mls {
namespace {

crypto::SecretBytes expand_nh(BytesView secret, std::string_view label, BytesView context) {
  // Nh never exceeds the HKDF or uint16 limits, so this cannot fail.
  return std::move(*expand_with_label(secret, label, context, kHashSize));
}

crypto::SecretBytes extract(BytesView salt, BytesView ikm) {
  auto prk = crypto::hkdf_extract(salt, ikm);
  crypto::SecretBytes out(prk);
  crypto::wipe(prk.data(), prk.size());
  return out;
}

}  // namespace

Bytes zero_secret() { return Bytes(kHashSize, 0); }

EpochSecrets derive_epoch_secrets_from_joiner(BytesView joiner_secret, BytesView psk_secret,
                                              BytesView group_context) {
  EpochSecrets s;
  s.joiner_secret = crypto::SecretBytes(joiner_secret);
  const crypto::SecretBytes intermediate = extract(joiner_secret, psk_secret);
  s.welcome_secret = derive_secret(intermediate.view(), "welcome");
  s.epoch_secret = expand_nh(intermediate.view(), "epoch", group_context);
  const BytesView epoch = s.epoch_secret.view();
  s.sender_data_secret = derive_secret(epoch, "sender data");
  s.encryption_secret = derive_secret(epoch, "encryption");
  s.exporter_secret = derive_secret(epoch, "exporter");
  s.external_secret = derive_secret(epoch, "external");
  s.confirmation_key = derive_secret(epoch, "confirm");
  s.membership_key = derive_secret(epoch, "membership");
  s.resumption_psk = derive_secret(epoch, "resumption");
  s.epoch_authenticator = derive_secret(epoch, "authentication");
  s.init_secret = derive_secret(epoch, "init");
  return s;
}

EpochSecrets derive_epoch_secrets(BytesView init_secret, BytesView commit_secret, BytesView psk_secret,
                                  BytesView group_context) {
  const crypto::SecretBytes prk = extract(init_secret, commit_secret);
  const crypto::SecretBytes joiner = expand_nh(prk.view(), "joiner", group_context);
  return derive_epoch_secrets_from_joiner(joiner.view(), psk_secret, group_context);
}

MlsResult<crypto::SecretBytes> mls_exporter(BytesView exporter_secret, BytesView label, BytesView context,
                                            std::size_t length) {
  const crypto::SecretBytes derived = derive_secret(exporter_secret, label);
  const Digest context_hash = crypto::sha256(context);
  return expand_with_label(derived.view(), as_bytes("exported"), context_hash, length);
}

crypto::X25519KeyPair external_key_pair(BytesView external_secret) {
  return crypto::hpke::derive_key_pair(external_secret);
}

void write(Writer& w, const PreSharedKeyId& v) {
  w.u8(static_cast<std::uint8_t>(v.psk_type));
  switch (v.psk_type) {
    case PskType::External: w.opaque(v.psk_id); break;
    case PskType::Resumption:
      w.u8(static_cast<std::uint8_t>(v.usage));
      w.opaque(v.psk_group_id);
      w.u64(v.psk_epoch);
      break;
  }
  w.opaque(v.psk_nonce);
}

void read(Reader& r, PreSharedKeyId& v) {
  const std::uint8_t type = r.u8();
  if (type == static_cast<std::uint8_t>(PskType::External)) {
    v.psk_type = PskType::External;
    v.psk_id = r.opaque_bytes();
  } else if (type == static_cast<std::uint8_t>(PskType::Resumption)) {
    v.psk_type = PskType::Resumption;
    const std::uint8_t usage = r.u8();
    if (usage < 1 || usage > 3) r.set_error(Error::InvalidValue);
    v.usage = static_cast<ResumptionPskUsage>(usage);
    v.psk_group_id = r.opaque_bytes();
    v.psk_epoch = r.u64();
  } else {
    r.set_error(Error::InvalidValue);
    return;
  }
  v.psk_nonce = r.opaque_bytes();
}

MlsResult<crypto::SecretBytes> psk_secret(std::span<const PskInput> psks) {
  if (psks.size() > kMaxPsks) return fail(Error::InvalidValue);
  crypto::SecretBytes secret(zero_secret());
  const Bytes zero = zero_secret();
  const auto count = static_cast<std::uint16_t>(psks.size());
  for (std::size_t i = 0; i < psks.size(); ++i) {
    const crypto::SecretBytes extracted = extract(zero, psks[i].psk.view());
    Writer label;  // PSKLabel
    write(label, psks[i].id);
    label.u16(static_cast<std::uint16_t>(i));
    label.u16(count);
    const crypto::SecretBytes input = expand_nh(extracted.view(), "derived psk", label.bytes());
    secret = extract(input.view(), secret.view());
  }
  return secret;
}

}  // namespace hearth::mls
