// SPDX-License-Identifier: Apache-2.0
#pragma once
// Checks for the official MLS interoperability vectors
// (mlswg/mls-implementations, test-vectors.md) and RFC 9180 A.2.1, one case
// at a time, shared by the unit tests and `hearth-mls-vectors`.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace hearth::mls::vectors {

enum class Kind {
  TreeMath,
  Deserialization,
  CryptoBasics,
  SecretTree,
  KeySchedule,
  PskSecret,
  TranscriptHashes,
  MessageProtection,
  Messages,
  Hpke,
  TreeValidation,
  TreeOperations,
  TreeKem,
  Welcome,
  PassiveClient,
};
[[nodiscard]] std::string to_string(Kind k);
/// The kind from a file name such as "key-schedule.json" or
/// "passive-client-welcome.json"; nullopt for an unknown name.
[[nodiscard]] std::optional<Kind> kind_from_file_name(std::string_view file_name);

enum class Outcome { Passed, Failed, Skipped };
struct CaseResult {
  Outcome outcome = Outcome::Failed;
  std::string detail;  // what differed, or why skipped
};

/// Runs one case (one element of the file's top-level array).
[[nodiscard]] CaseResult run_case(Kind kind, const nlohmann::json& test_case);

}  // namespace hearth::mls::vectors
