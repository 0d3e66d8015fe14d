// SPDX-License-Identifier: Apache-2.0
#pragma once
// Safety numbers (DESIGN.md §3): two people read the same 60 digits to each
// other, in person or on a call they trust; when they match, each holds the
// other's real identity key and no relay sits between them.
//
// Each side's half is 30 digits from its account id and identity key,
// hashed kSafetyNumberIterations times (so finding another key with the same
// digits costs about 2^100 hash chains of that length); the two halves are
// ordered so both people see the same number.

#include <cstdint>
#include <string>

#include "common/types/bytes.h"
#include "common/types/ids.h"

namespace hearth::client {

/// Hash iterations per half (as long as the digits take to read, not longer).
inline constexpr std::uint32_t kSafetyNumberIterations = 5200;
/// Digits in a safety number, shown in groups of kSafetyNumberGroup.
inline constexpr std::size_t kSafetyNumberDigits = 60;
inline constexpr std::size_t kSafetyNumberGroup = 5;

/// One side's 30 digits.
[[nodiscard]] std::string safety_half(const AccountId& account, BytesView identity_key);
/// The 60 digits for `a` and `b`, in 12 groups of 5 separated by spaces; the
/// same whichever side computes it.
[[nodiscard]] std::string safety_number(const AccountId& a, BytesView key_a, const AccountId& b, BytesView key_b);

}  // namespace hearth::client
