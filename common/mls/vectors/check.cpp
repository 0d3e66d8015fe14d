// SPDX-License-Identifier: Apache-2.0
#include "common/mls/vectors/check.h"

#include <stdexcept>

namespace hearth::mls::vectors {

Bytes hex_field(const nlohmann::json& j, std::string_view key) {
  const auto& v = j.at(std::string(key));
  auto bytes = from_hex(v.get<std::string>());
  if (!bytes) throw std::invalid_argument("not hex: " + std::string(key));
  return *bytes;
}

void Check::equal(std::string_view what, BytesView actual, BytesView expected) {
  if (!failure_.empty()) return;
  if (actual.size() == expected.size() && std::equal(actual.begin(), actual.end(), expected.begin())) return;
  failure_ = std::string(what) + ": got " + to_hex(actual) + ", want " + to_hex(expected);
}

void Check::equal(std::string_view what, std::uint64_t actual, std::uint64_t expected) {
  if (!failure_.empty() || actual == expected) return;
  failure_ = std::string(what) + ": got " + std::to_string(actual) + ", want " + std::to_string(expected);
}

void Check::require(std::string_view what, bool ok) {
  if (!failure_.empty() || ok) return;
  failure_ = std::string(what);
}

}  // namespace hearth::mls::vectors
