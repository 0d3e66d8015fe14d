// SPDX-License-Identifier: Apache-2.0
// hearth-mls-vectors FILE...: runs official MLS / HPKE vector files, the type
// of each taken from its name. Exit status 1 on any failure, 2 on bad usage.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "common/crypto/crypto.h"
#include "common/mls/vectors/vectors.h"

namespace v = hearth::mls::vectors;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: hearth-mls-vectors FILE...\n";
    return 2;
  }
  hearth::crypto::init();
  std::size_t passed = 0;
  std::size_t failed = 0;
  std::size_t skipped = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string path = argv[i];
    const auto kind = v::kind_from_file_name(path);
    if (!kind) {
      std::cout << path << ": unknown vector type (FAILED)\n";
      ++failed;
      continue;
    }
    std::ifstream in(path);
    nlohmann::json all = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!in.good() && !in.eof()) all = nlohmann::json::value_t::discarded;
    if (all.is_discarded() || !all.is_array()) {
      std::cout << path << ": unreadable or not a JSON array (FAILED)\n";
      ++failed;
      continue;
    }
    std::size_t p = 0;
    std::size_t f = 0;
    std::size_t s = 0;
    std::string first_failure;
    std::string skip_reason;
    for (std::size_t n = 0; n < all.size(); ++n) {
      const auto r = v::run_case(*kind, all[n]);
      switch (r.outcome) {
        case v::Outcome::Passed: ++p; break;
        case v::Outcome::Failed:
          ++f;
          if (first_failure.empty()) first_failure = "case " + std::to_string(n) + ": " + r.detail;
          break;
        case v::Outcome::Skipped:
          ++s;
          if (skip_reason.empty()) skip_reason = r.detail;
          break;
      }
    }
    std::cout << path << " [" << v::to_string(*kind) << "]: " << p << " passed, " << f << " failed, " << s
              << " skipped";
    if (!skip_reason.empty()) std::cout << " (" << skip_reason << ")";
    std::cout << "\n";
    if (!first_failure.empty()) std::cout << "  first failure: " << first_failure << "\n";
    passed += p;
    failed += f;
    skipped += s;
  }
  std::cout << passed << " passed, " << failed << " failed, " << skipped << " skipped\n";
  return failed == 0 ? 0 : 1;
}
