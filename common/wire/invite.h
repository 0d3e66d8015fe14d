// SPDX-License-Identifier: Apache-2.0
#pragma once
// An invite is one string a new user pastes: the relay's address, the
// SHA-256 pin of its public key (SPKI) and a one-time registration token.
//
//   hearth://HOST:PORT/?pin=<64 hex digits>&token=<token>
//
// HOST may be a name, an IPv4 address or a bracketed IPv6 address. The token
// is 1..kMaxInviteTokenSize characters of [A-Za-z0-9_-].

#include <cstdint>
#include <string>
#include <string_view>

#include "common/types/bytes.h"
#include "common/types/result.h"

namespace hearth::wire {

inline constexpr std::size_t kSpkiPinSize = 32;

struct Invite {
  std::string host;
  std::uint16_t port = 0;
  Bytes spki_pin;  // SHA-256 of the DER SubjectPublicKeyInfo, 32 bytes
  std::string token;
  friend bool operator==(const Invite&, const Invite&) = default;
};

enum class InviteError : std::uint8_t { BadScheme, BadHost, BadPort, BadPin, BadToken };
[[nodiscard]] std::string to_string(InviteError e);

[[nodiscard]] std::string format_invite(const Invite& invite);
[[nodiscard]] Result<Invite, InviteError> parse_invite(std::string_view text);

}  // namespace hearth::wire
