// SPDX-License-Identifier: Apache-2.0
#include "common/wire/invite.h"

#include <charconv>

#include "common/wire/messages.h"

namespace hearth::wire {

namespace {
constexpr std::string_view kScheme = "hearth://";
constexpr std::size_t kMaxHostSize = 253;

bool token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool host_char(char c) { return token_char(c) || c == '.' || c == ':'; }

bool valid_token(std::string_view t) {
  if (t.empty() || t.size() > kMaxInviteTokenSize) return false;
  for (char c : t)
    if (!token_char(c)) return false;
  return true;
}
}  // namespace

std::string to_string(InviteError e) {
  switch (e) {
    case InviteError::BadScheme: return "invite must start with hearth://";
    case InviteError::BadHost: return "invite has no valid host";
    case InviteError::BadPort: return "invite has no valid port";
    case InviteError::BadPin: return "invite has no valid pin (64 hex digits)";
    case InviteError::BadToken: return "invite has no valid token";
  }
  return "invalid invite";
}

std::string format_invite(const Invite& invite) {
  std::string host = invite.host.find(':') != std::string::npos ? "[" + invite.host + "]" : invite.host;
  return std::string(kScheme) + host + ":" + std::to_string(invite.port) + "/?pin=" + to_hex(invite.spki_pin) +
         "&token=" + invite.token;
}

Result<Invite, InviteError> parse_invite(std::string_view text) {
  // Trim surrounding white space: invites are pasted.
  while (!text.empty() && (text.front() == ' ' || text.front() == '\n' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' || text.back() == '\t'))
    text.remove_suffix(1);
  if (!text.starts_with(kScheme)) return fail(InviteError::BadScheme);
  text.remove_prefix(kScheme.size());

  auto slash = text.find('/');
  if (slash == std::string_view::npos) return fail(InviteError::BadPort);
  std::string_view authority = text.substr(0, slash);
  std::string_view rest = text.substr(slash + 1);

  Invite out;
  std::string_view port_text;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos || close + 1 >= authority.size() || authority[close + 1] != ':')
      return fail(InviteError::BadHost);
    out.host = std::string(authority.substr(1, close - 1));
    port_text = authority.substr(close + 2);
  } else {
    auto colon = authority.rfind(':');
    if (colon == std::string_view::npos) return fail(InviteError::BadPort);
    out.host = std::string(authority.substr(0, colon));
    if (out.host.find(':') != std::string::npos) return fail(InviteError::BadHost);
    port_text = authority.substr(colon + 1);
  }
  if (out.host.empty() || out.host.size() > kMaxHostSize) return fail(InviteError::BadHost);
  for (char c : out.host)
    if (!host_char(c)) return fail(InviteError::BadHost);

  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || p != port_text.data() + port_text.size() || port == 0 || port > 65535)
    return fail(InviteError::BadPort);
  out.port = static_cast<std::uint16_t>(port);

  if (!rest.starts_with('?')) return fail(InviteError::BadPin);
  rest.remove_prefix(1);
  bool have_pin = false;
  bool have_token = false;
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.starts_with("pin=")) {
      auto pin = from_hex(pair.substr(4));
      if (have_pin || !pin || pin->size() != kSpkiPinSize) return fail(InviteError::BadPin);
      out.spki_pin = std::move(*pin);
      have_pin = true;
    } else if (pair.starts_with("token=")) {
      auto token = pair.substr(6);
      if (have_token || !valid_token(token)) return fail(InviteError::BadToken);
      out.token = std::string(token);
      have_token = true;
    }
    // Unknown parameters are ignored so later versions can add some.
  }
  if (!have_pin) return fail(InviteError::BadPin);
  if (!have_token) return fail(InviteError::BadToken);
  return out;
}

}  // namespace hearth::wire
