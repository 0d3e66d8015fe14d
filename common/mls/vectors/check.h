// SPDX-License-Identifier: Apache-2.0
#pragma once
// Helpers for the vector checks: hex fields and a mismatch collector.

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/types/bytes.h"

namespace hearth::mls::vectors {

/// A hex field of `j`; throws nlohmann's type error or std::invalid_argument
/// on a malformed vector (run_case turns it into a failed case).
[[nodiscard]] Bytes hex_field(const nlohmann::json& j, std::string_view key);

/// Collects the first mismatch of a case.
class Check {
 public:
  void equal(std::string_view what, BytesView actual, BytesView expected);
  void equal(std::string_view what, std::uint64_t actual, std::uint64_t expected);
  void require(std::string_view what, bool ok);
  [[nodiscard]] bool ok() const noexcept { return failure_.empty(); }
  [[nodiscard]] const std::string& failure() const noexcept { return failure_; }

 private:
  std::string failure_;
};

}  // namespace hearth::mls::vectors
