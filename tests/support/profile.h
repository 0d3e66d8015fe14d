// SPDX-License-Identifier: Apache-2.0
#pragma once
// A passphrase and the cheapest Argon2id cost libsodium allows, so tests that
// open many profiles stay fast. Production profiles use kDefaultProfileKdf.

#include <string_view>

#include "client/core/profile_key.h"

namespace hearth::test {

inline constexpr std::string_view kTestPassphrase = "a test passphrase, not a secret";
inline constexpr crypto::Argon2Params kTestKdf{client::kMinProfileKdfOps, client::kMinProfileKdfMemory};

}  // namespace hearth::test
