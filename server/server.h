// SPDX-License-Identifier: Apache-2.0
#pragma once
// The two things `hearth-relay` does: serve, and create invites.

#include <cstdint>

#include "server/config.h"

namespace hearth::relay {

/// Exit codes of the binary.
inline constexpr int kExitOk = 0;
inline constexpr int kExitStartupError = 1;
inline constexpr int kExitUsage = 2;

inline constexpr std::uint32_t kDefaultInviteTtlHours = 168;

/// Opens the database and TLS identity, listens, prints
///   hearth-relay: listening <ip>:<port>
///   hearth-relay: spki-sha256 <hex>
/// and serves until SIGTERM/SIGINT (graceful) or a database failure.
/// Returns the process exit code; start-up problems are reported on stderr.
[[nodiscard]] int run_server(const Config& config);

/// Creates `count` one-time registration tokens valid for `ttl_hours` and
/// prints one invite string per line. Works while the relay runs.
[[nodiscard]] int run_invite(const Config& config, std::uint32_t count, std::uint32_t ttl_hours);

}  // namespace hearth::relay
