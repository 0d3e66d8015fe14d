// SPDX-License-Identifier: Apache-2.0
#include "common/wire/messages.h"

namespace hearth::wire {

std::string to_string(ErrorCode c) {
  switch (c) {
    case ErrorCode::Unspecified: return "Unspecified";
    case ErrorCode::MalformedFrame: return "MalformedFrame";
    case ErrorCode::FrameTooLarge: return "FrameTooLarge";
    case ErrorCode::UnsupportedVersion: return "UnsupportedVersion";
    case ErrorCode::ProtocolViolation: return "ProtocolViolation";
    case ErrorCode::NotAuthenticated: return "NotAuthenticated";
    case ErrorCode::AuthFailed: return "AuthFailed";
    case ErrorCode::InviteInvalid: return "InviteInvalid";
    case ErrorCode::HandleTaken: return "HandleTaken";
    case ErrorCode::InvalidArgument: return "InvalidArgument";
    case ErrorCode::UnknownAccount: return "UnknownAccount";
    case ErrorCode::UnknownRoom: return "UnknownRoom";
    case ErrorCode::RoomExists: return "RoomExists";
    case ErrorCode::NotMember: return "NotMember";
    case ErrorCode::NotFacilitator: return "NotFacilitator";
    case ErrorCode::LastFacilitator: return "LastFacilitator";
    case ErrorCode::EpochConflict: return "EpochConflict";
    case ErrorCode::StaleEpoch: return "StaleEpoch";
    case ErrorCode::HistoryGap: return "HistoryGap";
    case ErrorCode::RateLimited: return "RateLimited";
    case ErrorCode::NoKeyPackage: return "NoKeyPackage";
    case ErrorCode::DuplicateId: return "DuplicateId";
    case ErrorCode::Internal: return "Internal";
    case ErrorCode::ShuttingDown: return "ShuttingDown";
    case ErrorCode::QuotaExceeded: return "QuotaExceeded";
    case ErrorCode::InvalidKeyPackage: return "InvalidKeyPackage";
  }
  return "Unknown";
}

std::string to_string(Role r) {
  switch (r) {
    case Role::Member: return "member";
    case Role::Facilitator: return "facilitator";
  }
  return "unknown";
}

std::string to_string(EnvelopeKind k) {
  switch (k) {
    case EnvelopeKind::Application: return "application";
    case EnvelopeKind::Handshake: return "handshake";
    case EnvelopeKind::Welcome: return "welcome";
    case EnvelopeKind::Reset: return "reset";
    case EnvelopeKind::Report: return "report";
  }
  return "unknown";
}

std::string to_string(ChangeProblem p) {
  switch (p) {
    case ChangeProblem::DoesNotVerify: return "does not verify";
    case ChangeProblem::CannotDecrypt: return "cannot be decrypted";
    case ChangeProblem::Invalid: return "breaks the group's rules";
  }
  return "unknown";
}

namespace {
// One name per alternative, in the order of the Message variant.
constexpr const char* kKindNames[] = {
    "Hello",        "Register",    "LoginStart",   "LoginProof",     "PublishKeys",   "FetchKeyPackage",
    "LookupAccount", "CreateRoom", "SubmitBundle", "CloseRoom",      "SendEnvelope",  "Sync",
    "Ack",          "GetRoster",   "Ping",         "ResetRoom",      "ReportChange",  "SetRoomLifetime",
    "Error",          "HelloOk",       "RegisterOk",
    "LoginChallenge", "LoginOk",   "PublishKeysOk", "KeyPackageOk",  "AccountInfo",   "CreateRoomOk",
    "BundleOk",     "CloseRoomOk", "SendOk",       "SyncOk",         "Roster",        "Pong",
    "RoomLifetimeOk", "Deliver",      "RoomClosed"};
static_assert(std::size(kKindNames) == std::variant_size_v<Message>, "a message kind has no name");
}  // namespace

const char* kind_name(const Message& m) noexcept { return kKindNames[m.index()]; }

}  // namespace hearth::wire
