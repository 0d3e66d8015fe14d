// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>

namespace hearth::test {

/// ../shared next to the checkout: mls-vectors/ and hpke/.
inline std::filesystem::path shared_dir() { return HEARTH_SHARED_DIR; }
/// The build tree, where hearth-relay and hearth-cli are built.
inline std::filesystem::path binary_dir() { return HEARTH_BINARY_DIR; }

}  // namespace hearth::test
