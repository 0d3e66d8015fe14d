// SPDX-License-Identifier: Apache-2.0
// welcome and passive-client.
#include <map>

#include "common/mls/group_state.h"
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

// The vector's external PSKs, by id.
class VectorPsks final : public PskLookup {
 public:
  explicit VectorPsks(const nlohmann::json& list) {
    for (const auto& e : list) psks_.emplace(hex_field(e, "psk_id"), hex_field(e, "psk"));
  }
  std::optional<crypto::SecretBytes> external(BytesView psk_id) const override {
    const auto it = psks_.find(Bytes(psk_id.begin(), psk_id.end()));
    if (it == psks_.end()) return std::nullopt;
    return crypto::SecretBytes(it->second);
  }
  std::optional<crypto::SecretBytes> resumption(BytesView, std::uint64_t) const override { return std::nullopt; }

 private:
  std::map<Bytes, Bytes> psks_;
};

std::string outcome(const Error& e) { return to_string(e); }

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

std::string check_passive_client(const nlohmann::json& c) {
  Check check;
  const auto kp = message_body<KeyPackage>(check, c, "key_package");
  const auto welcome = message_body<Welcome>(check, c, "welcome");
  if (!kp || !welcome) return check.failure();
  auto init_key = crypto::x25519_from_secret(hex_field(c, "init_priv"));
  auto encryption_key = crypto::x25519_from_secret(hex_field(c, "encryption_priv"));
  auto signing_key = crypto::ed25519_from_seed(hex_field(c, "signature_priv"));
  check.require("private keys load", init_key.has_value() && encryption_key.has_value() && signing_key.has_value());
  if (!check.ok()) return check.failure();
  check.equal("init_priv matches init_key", init_key->public_key, kp->init_key);
  check.equal("encryption_priv matches encryption_key", encryption_key->public_key, kp->leaf_node.encryption_key);
  check.equal("signature_priv matches signature_key", signing_key->public_key, kp->leaf_node.signature_key);
  if (!check.ok()) return check.failure();

  KeyPackageBundle own{*kp, std::move(*init_key), std::move(*encryption_key), make_key_package_ref(encode(*kp))};
  std::optional<RatchetTree> tree;
  if (!c.at("ratchet_tree").is_null()) {
    auto decoded = decode<RatchetTree>(hex_field(c, "ratchet_tree"));
    check.require("ratchet_tree decodes", decoded.has_value());
    if (!decoded) return check.failure();
    tree = std::move(*decoded);
  }
  const VectorPsks psks(c.at("external_psks"));
  // The vectors' KeyPackages expired in 2024: lifetimes are not checked.
  const GroupEnv env{std::nullopt, &psks};
  auto state = GroupState::join(*welcome, own, std::move(*signing_key), tree, RolePolicy::AllowAll, env);
  check.require("join: " + (state ? std::string("ok") : outcome(state.error())), state.has_value());
  if (!state) return check.failure();
  check.equal("initial_epoch_authenticator", state->epoch_authenticator(),
              hex_field(c, "initial_epoch_authenticator"));

  std::size_t n = 0;
  for (const auto& epoch : c.at("epochs")) {
    const std::string at = "epoch " + std::to_string(n++) + ": ";
    std::size_t k = 0;
    for (const auto& proposal : epoch.at("proposals")) {
      const std::string what = at + "proposal " + std::to_string(k++);
      const auto bytes = from_hex(proposal.get<std::string>());
      check.require(what + " is hex", bytes.has_value());
      if (!bytes) return check.failure();
      const auto msg = decode<MlsMessage>(*bytes);
      check.require(what + " decodes", msg.has_value());
      if (!msg) return check.failure();
      auto next = state->handle(*msg, env);
      check.require(what + ": " + (next ? std::string("ok") : outcome(next.error())), next.has_value());
      if (!next) return check.failure();
      *state = std::move(next->next);
    }
    const auto msg = decode<MlsMessage>(hex_field(epoch, "commit"));
    check.require(at + "commit decodes", msg.has_value());
    if (!msg) return check.failure();
    auto next = state->handle(*msg, env);
    check.require(at + "commit: " + (next ? std::string("ok") : outcome(next.error())), next.has_value());
    if (!next) return check.failure();
    *state = std::move(next->next);
    check.equal(at + "epoch_authenticator", state->epoch_authenticator(), hex_field(epoch, "epoch_authenticator"));
    if (!check.ok()) return check.failure();
  }
  return check.failure();
}

}  // namespace hearth::mls::vectors
