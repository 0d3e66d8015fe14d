// SPDX-License-Identifier: Apache-2.0
#include "client/core/errors.h"

namespace hearth::client {

std::string to_string(ClientCode c) {
  switch (c) {
    case ClientCode::InvalidInvite: return "InvalidInvite";
    case ClientCode::InvalidArgument: return "InvalidArgument";
    case ClientCode::NotRegistered: return "NotRegistered";
    case ClientCode::AlreadyRegistered: return "AlreadyRegistered";
    case ClientCode::Store: return "Store";
    case ClientCode::Passphrase: return "Passphrase";
    case ClientCode::IdentityChanged: return "IdentityChanged";
    case ClientCode::Connect: return "Connect";
    case ClientCode::Tls: return "Tls";
    case ClientCode::PinMismatch: return "PinMismatch";
    case ClientCode::Protocol: return "Protocol";
    case ClientCode::AuthFailed: return "AuthFailed";
    case ClientCode::Refused: return "Refused";
    case ClientCode::Timeout: return "Timeout";
    case ClientCode::NotAllowed: return "NotAllowed";
    case ClientCode::Disconnected: return "Disconnected";
    case ClientCode::Stopped: return "Stopped";
  }
  return "Unknown";
}

std::string ClientError::describe() const {
  std::string out = to_string(code);
  if (relay) out += ": " + wire::to_string(relay->code);
  if (!detail.empty()) out += ": " + detail;
  return out;
}

ClientError from_relay(const wire::Error& e) {
  using wire::ErrorCode;
  ClientCode code = ClientCode::Refused;
  switch (e.code) {
    case ErrorCode::AuthFailed:
    case ErrorCode::InviteInvalid:
    case ErrorCode::HandleTaken: code = ClientCode::AuthFailed; break;
    // Not a refused credential: a frame that went out before login (a bug
    // or a race); the session starts over rather than giving up.
    case ErrorCode::NotAuthenticated: code = ClientCode::Protocol; break;
    case ErrorCode::Unspecified:
    case ErrorCode::MalformedFrame:
    case ErrorCode::FrameTooLarge:
    case ErrorCode::UnsupportedVersion:
    case ErrorCode::ProtocolViolation:
    case ErrorCode::InvalidArgument:
    case ErrorCode::UnknownAccount:
    case ErrorCode::UnknownRoom:
    case ErrorCode::RoomExists:
    case ErrorCode::NotMember:
    case ErrorCode::NotFacilitator:
    case ErrorCode::LastFacilitator:
    case ErrorCode::EpochConflict:
    case ErrorCode::StaleEpoch:
    case ErrorCode::HistoryGap:
    case ErrorCode::RateLimited:
    case ErrorCode::NoKeyPackage:
    case ErrorCode::DuplicateId:
    case ErrorCode::Internal:
    case ErrorCode::ShuttingDown:
    case ErrorCode::QuotaExceeded:
    case ErrorCode::InvalidKeyPackage: code = ClientCode::Refused; break;
  }
  return ClientError{code, e.message, e};
}

}  // namespace hearth::client
