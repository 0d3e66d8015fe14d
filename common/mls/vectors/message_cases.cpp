// SPDX-License-Identifier: Apache-2.0
// transcript-hashes and messages.
#include "common/mls/content.h"
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

}  // namespace

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
