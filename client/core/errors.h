// SPDX-License-Identifier: Apache-2.0
#pragma once
// The errors the client engine reports. A relay refusal keeps the relay's
// typed error (code, message, room) so a user interface can name it.

#include <optional>
#include <string>
#include <utility>

#include "common/types/result.h"
#include "common/wire/messages.h"

namespace hearth::client {

enum class ClientCode {
  InvalidInvite,    // the invite string does not parse
  InvalidArgument,  // a caller passed something malformed (bad handle, room id, empty text)
  NotRegistered,    // the profile has no account yet
  AlreadyRegistered,
  Store,            // the local profile database failed (corrupt, unwritable, newer schema)
  Passphrase,       // the passphrase does not open the profile (or is empty or too long)
  Connect,          // TCP: resolve or connect failed, or the connection dropped
  Tls,              // TLS handshake or certificate verification failed
  PinMismatch,      // the relay's key does not match the pinned SPKI hash
  IdentityChanged,  // the relay names another identity key for an account than the one pinned
  Protocol,         // the relay sent something this client cannot accept
  AuthFailed,       // registration or login was refused
  Refused,          // the relay answered a request with an Error (see `relay`)
  NotAllowed,       // the room's role policy forbids the change (checked here as the relay checks it)
  Timeout,          // no answer within the bound
  Disconnected,     // the connection ended before the answer arrived
  Stopped,          // the engine is shutting down
};
[[nodiscard]] std::string to_string(ClientCode c);

struct ClientError {
  ClientError() = default;
  ClientError(ClientCode c, std::string d, std::optional<wire::Error> r = std::nullopt)
      : code(c), detail(std::move(d)), relay(std::move(r)) {}

  ClientCode code = ClientCode::Protocol;
  std::string detail;                // human-readable; never content, keys or tokens
  std::optional<wire::Error> relay;  // set when the relay refused (Refused, AuthFailed)

  /// "Refused: NotMember: you are not a member of this room" style text.
  [[nodiscard]] std::string describe() const;
};

template <class T>
using ClientResult = Result<T, ClientError>;

/// The error for a relay `Error` answer: AuthFailed for the authentication
/// codes, Refused otherwise.
[[nodiscard]] ClientError from_relay(const wire::Error& e);

}  // namespace hearth::client
