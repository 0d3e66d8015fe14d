// SPDX-License-Identifier: Apache-2.0
#include "common/mls/vectors/vectors.h"

#include <exception>

#include "common/mls/cipher_suite.h"
#include "common/mls/vectors/cases.h"

namespace hearth::mls::vectors {
namespace {

struct Name {
  std::string_view stem;
  Kind kind;
};
constexpr Name kNames[] = {
    {"tree-math", Kind::TreeMath},
    {"deserialization", Kind::Deserialization},
    {"crypto-basics", Kind::CryptoBasics},
    {"secret-tree", Kind::SecretTree},
    {"key-schedule", Kind::KeySchedule},
    {"psk_secret", Kind::PskSecret},
    {"transcript-hashes", Kind::TranscriptHashes},
    {"message-protection", Kind::MessageProtection},
    {"messages", Kind::Messages},
    {"rfc9180-a21", Kind::Hpke},
    {"tree-validation", Kind::TreeValidation},
    {"tree-operations", Kind::TreeOperations},
    {"treekem", Kind::TreeKem},
    {"welcome", Kind::Welcome},
    {"passive-client-welcome", Kind::PassiveClient},
    {"passive-client-handling-commit", Kind::PassiveClient},
    {"passive-client-random", Kind::PassiveClient},
};

// Files without a cipher_suite field apply to every suite.
bool suite_supported(const nlohmann::json& c) {
  if (!c.contains("cipher_suite")) return true;
  const auto suite = c.at("cipher_suite").get<std::uint64_t>();
  return suite <= 0xffff && is_supported_cipher_suite(static_cast<std::uint16_t>(suite));
}

std::string dispatch(Kind kind, const nlohmann::json& c) {
  switch (kind) {
    case Kind::TreeMath: return check_tree_math(c);
    case Kind::Deserialization: return check_deserialization(c);
    case Kind::CryptoBasics: return check_crypto_basics(c);
    case Kind::Hpke: return check_hpke(c);
    case Kind::KeySchedule: return check_key_schedule(c);
    case Kind::PskSecret: return check_psk_secret(c);
    case Kind::SecretTree: return check_secret_tree(c);
    case Kind::TranscriptHashes: return check_transcript_hashes(c);
    case Kind::Messages: return check_messages(c);
    case Kind::MessageProtection: return check_message_protection(c);
    case Kind::TreeValidation: return check_tree_validation(c);
    case Kind::TreeOperations: return check_tree_operations(c);
    case Kind::TreeKem: return check_treekem(c);
    case Kind::Welcome: return check_welcome(c);
    case Kind::PassiveClient: return check_passive_client(c);
  }
  return "no check";
}

}  // namespace

std::string to_string(Kind k) {
  if (k == Kind::PassiveClient) return "passive-client";
  for (const auto& n : kNames) {
    if (n.kind == k) return std::string(n.stem);
  }
  return "unknown";
}

std::optional<Kind> kind_from_file_name(std::string_view file_name) {
  if (const auto slash = file_name.find_last_of('/'); slash != std::string_view::npos) {
    file_name.remove_prefix(slash + 1);
  }
  if (file_name.ends_with(".json")) file_name.remove_suffix(5);
  for (const auto& n : kNames) {
    if (n.stem == file_name) return n.kind;
  }
  return std::nullopt;
}

CaseResult run_case(Kind kind, const nlohmann::json& test_case) {
  try {
    // tree-operations entries name suite 1 but need only SHA-256, which
    // suite 3 shares (README of the vectors): they run whatever they say.
    if (kind != Kind::TreeOperations && !suite_supported(test_case)) return {Outcome::Skipped, "cipher suite not implemented"};
    std::string mismatch = dispatch(kind, test_case);
    if (mismatch.empty()) return {Outcome::Passed, {}};
    return {Outcome::Failed, std::move(mismatch)};
  } catch (const std::exception& e) {
    // A malformed vector file (missing field, bad hex) fails the case.
    return {Outcome::Failed, std::string("malformed vector: ") + e.what()};
  }
}

}  // namespace hearth::mls::vectors
