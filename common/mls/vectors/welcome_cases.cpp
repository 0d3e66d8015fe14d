// SPDX-License-Identifier: Apache-2.0
// welcome and passive-client.
#include "common/mls/key_schedule.h"
#include "common/mls/labeled_crypto.h"
#include "common/mls/transcript.h"
#include "common/mls/vectors/cases.h"
#include "common/mls/vectors/check.h"
#include "common/mls/welcome.h"

namespace hearth::mls::vectors {
namespace {

template <class T>
std::optional<T> message_body(Check& check, const nlohmann::json& c, std::string_view field) {
  const auto msg = decode<MlsMessage>(hex_field(c, field));
  check.require(std::string(field) + " decodes", msg.has_value() && std::holds_alternative<T>(msg->body));
  if (!check.ok()) return std::nullopt;
  return std::get<T>(msg->body);
}

}  // namespace

std::string check_welcome(const nlohmann::json& c) {
  Check check;
  const auto kp = message_body<KeyPackage>(check, c, "key_package");
  const auto welcome = message_body<Welcome>(check, c, "welcome");
  if (!kp || !welcome) return check.failure();

  const Digest ref = make_key_package_ref(encode(*kp));
  const auto secrets = decrypt_group_secrets(*welcome, ref, hex_field(c, "init_priv"));
  check.require("group secrets decrypt: " + (secrets ? std::string("ok") : to_string(secrets.error())),
                secrets.has_value());
  if (!secrets) return check.failure();
  const Bytes psk = zero_secret();
  const crypto::SecretBytes ws = welcome_secret(secrets->joiner_secret, psk);
  const auto info = decrypt_group_info(*welcome, ws.view());
  check.require("group info decrypts: " + (info ? std::string("ok") : to_string(info.error())), info.has_value());
  if (!info) return check.failure();
  check.require("group info signature", verify_group_info(*info, hex_field(c, "signer_pub")).has_value());

  const EpochSecrets epoch =
      derive_epoch_secrets_from_joiner(secrets->joiner_secret, psk, encode(info->group_context));
  check.equal("welcome_secret", epoch.welcome_secret.view(), ws.view());
  check.require("confirmation tag",
                verify_confirmation_tag(epoch.confirmation_key.view(), info->group_context.confirmed_transcript_hash,
                                        info->confirmation_tag)
                    .has_value());

  // A tampered signature, GroupInfo ciphertext and group secrets are refused.
  GroupInfo forged = *info;
  forged.signer ^= 1;
  check.require("forged group info refused", !verify_group_info(forged, hex_field(c, "signer_pub")).has_value());
  Welcome flipped = *welcome;
  if (!flipped.encrypted_group_info.empty()) flipped.encrypted_group_info.back() ^= 1;
  check.require("tampered group info refused", !decrypt_group_info(flipped, ws.view()).has_value());
  check.require("tampered group secrets refused",
                !decrypt_group_secrets(flipped, ref, hex_field(c, "init_priv")).has_value());
  return check.failure();
}

std::string check_passive_client(const nlohmann::json&) { return "not implemented"; }

}  // namespace hearth::mls::vectors
