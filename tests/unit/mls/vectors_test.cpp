// SPDX-License-Identifier: Apache-2.0
// Every case of every part-1 vector file as its own generated test case.
#include <catch2/catch.hpp>

#include <fstream>

#include "common/crypto/crypto.h"
#include "common/mls/vectors/vectors.h"
#include "tests/support/paths.h"

using namespace hearth::mls::vectors;

namespace {

nlohmann::json load(const std::filesystem::path& p) {
  std::ifstream in(p);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

void run_file(const std::filesystem::path& path) {
  hearth::crypto::init();
  const auto kind = kind_from_file_name(path.filename().string());
  REQUIRE(kind.has_value());
  const auto all = load(path);
  REQUIRE(all.is_array());
  REQUIRE(!all.empty());
  const auto index = GENERATE_COPY(range(std::size_t{0}, all.size()));
  const auto result = run_case(*kind, all[index]);
  INFO(path.filename().string() << " case " << index << ": " << result.detail);
  // Every file holds only suite-3 (or suite-free) cases: nothing may be skipped.
  REQUIRE(result.outcome == Outcome::Passed);
}

std::filesystem::path mls(const char* name) { return hearth::test::shared_dir() / "mls-vectors" / name; }

}  // namespace

TEST_CASE("vectors: tree-math", "[mls][vectors]") { run_file(mls("tree-math.json")); }
TEST_CASE("vectors: deserialization", "[mls][vectors]") { run_file(mls("deserialization.json")); }
TEST_CASE("vectors: crypto-basics", "[mls][vectors]") { run_file(mls("crypto-basics.json")); }
TEST_CASE("vectors: key-schedule", "[mls][vectors]") { run_file(mls("key-schedule.json")); }
TEST_CASE("vectors: secret-tree", "[mls][vectors]") { run_file(mls("secret-tree.json")); }
TEST_CASE("vectors: transcript-hashes", "[mls][vectors]") { run_file(mls("transcript-hashes.json")); }
TEST_CASE("vectors: messages", "[mls][vectors]") { run_file(mls("messages.json")); }
TEST_CASE("vectors: message-protection", "[mls][vectors]") { run_file(mls("message-protection.json")); }
TEST_CASE("vectors: psk_secret", "[mls][vectors]") { run_file(mls("psk_secret.json")); }
TEST_CASE("vectors: tree-validation", "[mls][vectors]") { run_file(mls("tree-validation.json")); }
TEST_CASE("vectors: tree-operations", "[mls][vectors]") { run_file(mls("tree-operations.json")); }
TEST_CASE("vectors: treekem", "[mls][vectors]") { run_file(mls("treekem.json")); }
TEST_CASE("vectors: welcome", "[mls][vectors]") { run_file(mls("welcome.json")); }
TEST_CASE("vectors: passive-client-welcome", "[mls][vectors]") { run_file(mls("passive-client-welcome.json")); }
TEST_CASE("vectors: passive-client-handling-commit", "[mls][vectors]") {
  run_file(mls("passive-client-handling-commit.json"));
}
TEST_CASE("vectors: rfc9180-a21", "[mls][vectors]") {
  run_file(hearth::test::shared_dir() / "hpke" / "rfc9180-a21.json");
}

TEST_CASE("vectors: file names map to kinds", "[mls][vectors]") {
  CHECK(kind_from_file_name("../shared/mls-vectors/secret-tree.json") == Kind::SecretTree);
  CHECK(kind_from_file_name("passive-client-welcome.json") == Kind::PassiveClient);
  CHECK(!kind_from_file_name("nonsense.json").has_value());
  CHECK(kind_from_file_name("tree-operations.json") == Kind::TreeOperations);
  CHECK(run_case(Kind::Welcome, nlohmann::json::object()).outcome == Outcome::Failed);
  // A case for another suite is skipped, a malformed one fails.
  CHECK(run_case(Kind::CryptoBasics, nlohmann::json{{"cipher_suite", 1}}).outcome == Outcome::Skipped);
  CHECK(run_case(Kind::CryptoBasics, nlohmann::json{{"cipher_suite", 3}}).outcome == Outcome::Failed);
}
