// SPDX-License-Identifier: Apache-2.0
// transcript-hashes and messages.
#include "common/mls/content.h"
#include "common/mls/framing.h"
#include "common/mls/transcript.h"
#include "common/mls/vectors/cases.h"
#include "common/mls/vectors/check.h"

namespace hearth::mls::vectors {
namespace {

template <class T>
void round_trip(Check& check, const nlohmann::json& c, std::string_view field) {
  const Bytes in = hex_field(c, field);
  const auto decoded = decode<T>(in);
  if (!decoded) {
    check.require(std::string(field) + ": decode failed: " + to_string(decoded.error()), false);
    return;
  }
  check.equal(std::string(field) + " re-encoded", encode(*decoded), in);
}

void message_round_trip(Check& check, const nlohmann::json& c, std::string_view field, WireFormat expected) {
  round_trip<MlsMessage>(check, c, field);
  const auto decoded = decode<MlsMessage>(hex_field(c, field));
  if (decoded) {
    check.equal(std::string(field) + " wire format", static_cast<std::uint64_t>(decoded->wire_format()),
                static_cast<std::uint64_t>(expected));
  }
}

// A deterministic Rng for the reuse guard of our own protected messages.
class FixedRng final : public Rng {
 public:
  void fill(std::span<std::uint8_t> out) override { std::fill(out.begin(), out.end(), std::uint8_t{0xa5}); }
};

// The vector's group has two members; every message is from leaf 1.
constexpr std::uint32_t kProtectionLeaves = 2;

struct ProtectionSetup {
  GroupContext context;
  Bytes encryption_secret;
  Bytes sender_data_secret;
  Bytes membership_key;
  Bytes signature_pub;
  crypto::SigningKey signing_key;
};

SecretTree fresh_tree(const ProtectionSetup& s) {
  return std::move(*SecretTree::create(crypto::SecretBytes(s.encryption_secret), kProtectionLeaves));
}

void check_content(Check& check, const std::string& what, const AuthenticatedContent& got, const Content& want) {
  check.require(what + ": content differs", got.content.content == want);
}

void check_public(Check& check, const ProtectionSetup& s, const nlohmann::json& c, const std::string& field,
                  const Content& want) {
  const SignerKeyLookup lookup = [&](const Sender&) -> MlsResult<Bytes> { return s.signature_pub; };
  const auto msg = decode<MlsMessage>(hex_field(c, field));
  check.require(field + " decodes", msg.has_value() && std::holds_alternative<PublicMessage>(msg->body));
  if (!check.ok()) return;
  const auto& pub = std::get<PublicMessage>(msg->body);
  const auto got = unprotect_public(pub, s.membership_key, s.context, lookup);
  check.require(field + " unprotects", got.has_value());
  if (!got) return;
  check_content(check, field, *got, want);
  // Protect the same content ourselves and read it back.
  const auto signed_content = sign_content(WireFormat::PublicMessage, got->content, s.context, s.signing_key,
                                           got->auth.confirmation_tag);
  const auto own = protect_public(signed_content, s.membership_key, s.context);
  check.require(field + " protect", own.has_value());
  if (!own) return;
  const MlsMessage wrapped{kProtocolVersionMls10, *own};
  const auto back = decode<MlsMessage>(encode(wrapped));
  check.require(field + " own round trip decodes", back.has_value());
  if (!back) return;
  const auto again = unprotect_public(std::get<PublicMessage>(back->body), s.membership_key, s.context, lookup);
  check.require(field + " own message unprotects", again.has_value());
  if (again) check_content(check, field + " own", *again, want);
}

void check_private(Check& check, const ProtectionSetup& s, const nlohmann::json& c, const std::string& field,
                   const Content& want) {
  const SignerKeyLookup lookup = [&](const Sender&) -> MlsResult<Bytes> { return s.signature_pub; };
  const auto msg = decode<MlsMessage>(hex_field(c, field));
  check.require(field + " decodes", msg.has_value() && std::holds_alternative<PrivateMessage>(msg->body));
  if (!check.ok()) return;
  auto receiver = fresh_tree(s);
  const auto got = unprotect_private(std::get<PrivateMessage>(msg->body), receiver, s.sender_data_secret,
                                     s.context, lookup);
  check.require(field + " unprotects: " + (got ? std::string("ok") : to_string(got.error())), got.has_value());
  if (!got) return;
  check_content(check, field, *got, want);
  auto sender_tree = fresh_tree(s);
  auto own_receiver = fresh_tree(s);
  FixedRng rng;
  const auto signed_content = sign_content(WireFormat::PrivateMessage, got->content, s.context, s.signing_key,
                                           got->auth.confirmation_tag);
  const auto own = protect_private(signed_content, sender_tree, s.sender_data_secret, kDefaultPaddingBlock, rng);
  check.require(field + " protect", own.has_value());
  if (!own) return;
  const MlsMessage wrapped{kProtocolVersionMls10, *own};
  const auto back = decode<MlsMessage>(encode(wrapped));
  check.require(field + " own round trip decodes", back.has_value());
  if (!back) return;
  const auto again = unprotect_private(std::get<PrivateMessage>(back->body), own_receiver, s.sender_data_secret,
                                       s.context, lookup);
  check.require(field + " own message unprotects", again.has_value());
  if (again) check_content(check, field + " own", *again, want);
}

}  // namespace

std::string check_message_protection(const nlohmann::json& c) {
  Check check;
  ProtectionSetup s;
  s.context.group_id = hex_field(c, "group_id");
  s.context.epoch = c.at("epoch").get<std::uint64_t>();
  s.context.tree_hash = hex_field(c, "tree_hash");
  s.context.confirmed_transcript_hash = hex_field(c, "confirmed_transcript_hash");
  s.encryption_secret = hex_field(c, "encryption_secret");
  s.sender_data_secret = hex_field(c, "sender_data_secret");
  s.membership_key = hex_field(c, "membership_key");
  s.signature_pub = hex_field(c, "signature_pub");
  auto key = crypto::ed25519_from_seed(hex_field(c, "signature_priv"));
  check.require("signature_priv", key.has_value());
  if (!key) return check.failure();
  s.signing_key = std::move(*key);
  check.equal("signature_pub", s.signing_key.public_key, s.signature_pub);

  const auto proposal = decode<Proposal>(hex_field(c, "proposal"));
  const auto commit = decode<Commit>(hex_field(c, "commit"));
  check.require("proposal and commit decode", proposal.has_value() && commit.has_value());
  if (!check.ok()) return check.failure();
  const Content application = ApplicationData{hex_field(c, "application")};
  check_public(check, s, c, "proposal_pub", Content{*proposal});
  check_private(check, s, c, "proposal_priv", Content{*proposal});
  check_public(check, s, c, "commit_pub", Content{*commit});
  check_private(check, s, c, "commit_priv", Content{*commit});
  check_private(check, s, c, "application_priv", application);
  return check.failure();
}

std::string check_messages(const nlohmann::json& c) {
  Check check;
  message_round_trip(check, c, "mls_welcome", WireFormat::Welcome);
  message_round_trip(check, c, "mls_group_info", WireFormat::GroupInfo);
  message_round_trip(check, c, "mls_key_package", WireFormat::KeyPackage);
  round_trip<RatchetTree>(check, c, "ratchet_tree");
  round_trip<GroupSecrets>(check, c, "group_secrets");
  round_trip<Add>(check, c, "add_proposal");
  round_trip<Update>(check, c, "update_proposal");
  round_trip<Remove>(check, c, "remove_proposal");
  round_trip<PreSharedKey>(check, c, "pre_shared_key_proposal");
  round_trip<ReInit>(check, c, "re_init_proposal");
  round_trip<ExternalInit>(check, c, "external_init_proposal");
  round_trip<GroupContextExtensions>(check, c, "group_context_extensions_proposal");
  round_trip<Commit>(check, c, "commit");
  message_round_trip(check, c, "public_message_application", WireFormat::PublicMessage);
  message_round_trip(check, c, "public_message_proposal", WireFormat::PublicMessage);
  message_round_trip(check, c, "public_message_commit", WireFormat::PublicMessage);
  message_round_trip(check, c, "private_message", WireFormat::PrivateMessage);
  return check.failure();
}

std::string check_transcript_hashes(const nlohmann::json& c) {
  Check check;
  const auto content = decode<AuthenticatedContent>(hex_field(c, "authenticated_content"));
  check.require("authenticated_content decodes", content.has_value());
  if (!content) return check.failure();
  check.require("authenticated_content has a confirmation tag", content->auth.confirmation_tag.has_value());
  if (!check.ok()) return check.failure();
  const auto confirmed = confirmed_transcript_hash(hex_field(c, "interim_transcript_hash_before"), *content);
  check.require("confirmed transcript hash", confirmed.has_value());
  if (!confirmed) return check.failure();
  check.equal("confirmed_transcript_hash_after", *confirmed, hex_field(c, "confirmed_transcript_hash_after"));
  const Bytes& tag = *content->auth.confirmation_tag;
  check.require("confirmation tag verifies",
                verify_confirmation_tag(hex_field(c, "confirmation_key"), *confirmed, tag).has_value());
  check.equal("interim_transcript_hash_after", interim_transcript_hash(*confirmed, tag),
              hex_field(c, "interim_transcript_hash_after"));
  return check.failure();
}

}  // namespace hearth::mls::vectors
