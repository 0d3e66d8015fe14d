// SPDX-License-Identifier: Apache-2.0
// key-schedule and psk_secret.
#include <vector>

#include "common/mls/group_context.h"
#include "common/mls/key_schedule.h"
#include "common/mls/secret_tree.h"
#include "common/mls/vectors/cases.h"
#include "common/mls/vectors/check.h"

namespace hearth::mls::vectors {

std::string check_key_schedule(const nlohmann::json& c) {
  Check check;
  const Bytes group_id = hex_field(c, "group_id");
  Bytes init_secret = hex_field(c, "initial_init_secret");
  std::uint64_t epoch = 0;
  for (const auto& e : c.at("epochs")) {
    const std::string at = "epoch " + std::to_string(epoch) + ": ";
    GroupContext gc;
    gc.group_id = group_id;
    gc.epoch = epoch;
    gc.tree_hash = hex_field(e, "tree_hash");
    gc.confirmed_transcript_hash = hex_field(e, "confirmed_transcript_hash");
    const Bytes gc_bytes = encode(gc);
    check.equal(at + "group_context", gc_bytes, hex_field(e, "group_context"));
    const auto s = derive_epoch_secrets(init_secret, hex_field(e, "commit_secret"), hex_field(e, "psk_secret"),
                                        gc_bytes);
    check.equal(at + "joiner_secret", s.joiner_secret.view(), hex_field(e, "joiner_secret"));
    check.equal(at + "welcome_secret", s.welcome_secret.view(), hex_field(e, "welcome_secret"));
    check.equal(at + "init_secret", s.init_secret.view(), hex_field(e, "init_secret"));
    check.equal(at + "sender_data_secret", s.sender_data_secret.view(), hex_field(e, "sender_data_secret"));
    check.equal(at + "encryption_secret", s.encryption_secret.view(), hex_field(e, "encryption_secret"));
    check.equal(at + "exporter_secret", s.exporter_secret.view(), hex_field(e, "exporter_secret"));
    check.equal(at + "epoch_authenticator", s.epoch_authenticator.view(), hex_field(e, "epoch_authenticator"));
    check.equal(at + "external_secret", s.external_secret.view(), hex_field(e, "external_secret"));
    check.equal(at + "confirmation_key", s.confirmation_key.view(), hex_field(e, "confirmation_key"));
    check.equal(at + "membership_key", s.membership_key.view(), hex_field(e, "membership_key"));
    check.equal(at + "resumption_psk", s.resumption_psk.view(), hex_field(e, "resumption_psk"));
    check.equal(at + "external_pub", external_key_pair(s.external_secret.view()).public_key,
                hex_field(e, "external_pub"));
    const auto& x = e.at("exporter");
    // The generator of these vectors used the label's hex text itself as the
    // label bytes (an exporter label is an application string); so do we.
    const Bytes label = to_bytes(x.at("label").get<std::string>());
    auto exported = mls_exporter(s.exporter_secret.view(), label, hex_field(x, "context"),
                                 x.at("length").get<std::size_t>());
    check.require(at + "exporter failed", exported.has_value());
    if (exported) check.equal(at + "exporter", exported->view(), hex_field(x, "secret"));
    init_secret.assign(s.init_secret.view().begin(), s.init_secret.view().end());
    ++epoch;
  }
  return check.failure();
}

std::string check_psk_secret(const nlohmann::json& c) {
  Check check;
  std::vector<PskInput> psks;
  for (const auto& p : c.at("psks")) {
    PskInput in;
    in.id.psk_type = PskType::External;
    in.id.psk_id = hex_field(p, "psk_id");
    in.id.psk_nonce = hex_field(p, "psk_nonce");
    in.psk = crypto::SecretBytes(hex_field(p, "psk"));
    psks.push_back(std::move(in));
  }
  auto secret = psk_secret(psks);
  check.require("psk_secret failed", secret.has_value());
  if (secret) check.equal("psk_secret", secret->view(), hex_field(c, "psk_secret"));
  return check.failure();
}

std::string check_secret_tree(const nlohmann::json& c) {
  Check check;
  {
    const auto& sd = c.at("sender_data");
    const auto k = sender_data_key(hex_field(sd, "sender_data_secret"), hex_field(sd, "ciphertext"));
    check.equal("sender data key", k.key.view(), hex_field(sd, "key"));
    check.equal("sender data nonce", k.nonce, hex_field(sd, "nonce"));
  }
  const auto& leaves = c.at("leaves");
  auto tree = SecretTree::create(crypto::SecretBytes(hex_field(c, "encryption_secret")),
                                 static_cast<std::uint32_t>(leaves.size()));
  check.require("secret tree", tree.has_value());
  if (!tree) return check.failure();
  for (std::uint32_t leaf = 0; leaf < leaves.size(); ++leaf) {
    for (const auto& g : leaves.at(leaf)) {
      const auto generation = g.at("generation").get<std::uint32_t>();
      const std::string at = "leaf " + std::to_string(leaf) + " generation " + std::to_string(generation) + ": ";
      auto hs = tree->key_for(LeafIndex{leaf}, RatchetType::Handshake, generation);
      auto app = tree->key_for(LeafIndex{leaf}, RatchetType::Application, generation);
      check.require(at + "key derivation failed", hs.has_value() && app.has_value());
      if (!check.ok()) return check.failure();
      check.equal(at + "handshake_key", hs->key.view(), hex_field(g, "handshake_key"));
      check.equal(at + "handshake_nonce", hs->nonce, hex_field(g, "handshake_nonce"));
      check.equal(at + "application_key", app->key.view(), hex_field(g, "application_key"));
      check.equal(at + "application_nonce", app->nonce, hex_field(g, "application_nonce"));
    }
  }
  return check.failure();
}

}  // namespace hearth::mls::vectors
