// SPDX-License-Identifier: Apache-2.0
#pragma once
// The transcripts a device signs to register and to log in (DESIGN.md §3).
// Both are bound to the TLS connection by a keying-material exporter value,
// so a signature relayed through another connection does not verify.
//
//   register:  lp("hearth.v1.register") | lp(token) | lp(handle) | lp(identity_key) | lp(exporter)
//   login:     lp("hearth.v1.login") | lp(challenge) | lp(exporter) | lp(account_id)
//
// lp(x) is a 4-byte big-endian length followed by x, so no field can run
// into the next.

#include <string_view>

#include "common/types/bytes.h"
#include "common/types/ids.h"

namespace hearth::wire {

/// RFC 5705 / RFC 8446 §7.5 exporter: label, no context, 32 bytes.
inline constexpr std::string_view kTlsExporterLabel = "EXPORTER-hearth-auth-v1";
inline constexpr std::size_t kTlsExporterSize = 32;
inline constexpr std::string_view kRegisterLabel = "hearth.v1.register";
inline constexpr std::string_view kLoginLabel = "hearth.v1.login";

[[nodiscard]] Bytes register_transcript(std::string_view invite_token, std::string_view handle,
                                        BytesView identity_key, BytesView exporter);
[[nodiscard]] Bytes login_transcript(BytesView challenge, BytesView exporter, const AccountId& account);

}  // namespace hearth::wire
