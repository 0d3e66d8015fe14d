// SPDX-License-Identifier: Apache-2.0
#pragma once
// The result block a run prints: human-readable text or one JSON object.

#include <string>

#include "bench/relay/bench.h"

namespace hearth::bench {

[[nodiscard]] std::string format_text(const Report& r);
[[nodiscard]] std::string format_json(const Report& r);

}  // namespace hearth::bench
