// SPDX-License-Identifier: Apache-2.0
#pragma once
// The protocol's messages as Hearth's own values. The generated protobuf
// types stay inside codec.cpp; everything else (relay, client, tests) works on
// these structs. One struct per Frame.body case of proto/hearth/v1/hearth.proto.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/types/bytes.h"
#include "common/types/ids.h"

namespace hearth::wire {

inline constexpr std::uint32_t kProtocolVersion = 1;
inline constexpr std::size_t kAccountIdSize = 16;
inline constexpr std::size_t kEnvelopeIdSize = 16;
inline constexpr std::size_t kChallengeSize = 32;
inline constexpr std::size_t kMinRoomIdSize = 16;
inline constexpr std::size_t kMaxRoomIdSize = 64;
inline constexpr std::size_t kMaxHandleSize = 64;
inline constexpr std::size_t kMaxErrorTextSize = 512;
inline constexpr std::size_t kMaxClientNameSize = 64;
inline constexpr std::size_t kMaxInviteTokenSize = 128;
/// At most this many cursors, welcomes, roster changes or key packages in one frame.
inline constexpr std::size_t kMaxListItems = 1024;

enum class ErrorCode : std::uint8_t {
  Unspecified = 0,
  MalformedFrame = 1,
  FrameTooLarge = 2,
  UnsupportedVersion = 3,
  ProtocolViolation = 4,
  NotAuthenticated = 5,
  AuthFailed = 6,
  InviteInvalid = 7,
  HandleTaken = 8,
  InvalidArgument = 9,
  UnknownAccount = 10,
  UnknownRoom = 11,
  RoomExists = 12,
  NotMember = 13,
  NotFacilitator = 14,
  LastFacilitator = 15,
  EpochConflict = 16,
  StaleEpoch = 17,
  HistoryGap = 18,
  RateLimited = 19,
  NoKeyPackage = 20,
  DuplicateId = 21,
  Internal = 22,
  ShuttingDown = 23,
  QuotaExceeded = 24,
  InvalidKeyPackage = 25,
};
/// Stable names ("EpochConflict", ...) for logs, CLI output and tests.
[[nodiscard]] std::string to_string(ErrorCode c);

enum class Role : std::uint8_t { Member = 1, Facilitator = 2 };
[[nodiscard]] std::string to_string(Role r);

enum class EnvelopeKind : std::uint8_t { Application = 1, Handshake = 2, Welcome = 3, Reset = 4, Report = 5 };
[[nodiscard]] std::string to_string(EnvelopeKind k);

/// What a member found wrong with a commit it rejected (ReportChange).
enum class ChangeProblem : std::uint8_t { DoesNotVerify = 1, CannotDecrypt = 2, Invalid = 3 };
[[nodiscard]] std::string to_string(ChangeProblem p);

enum class RosterOp : std::uint8_t { Add = 1, Remove = 2, SetRole = 3 };

struct RosterChange {
  RosterOp op = RosterOp::Add;
  AccountId account;
  Role role = Role::Member;
  friend bool operator==(const RosterChange&, const RosterChange&) = default;
};

struct Member {
  AccountId account;
  std::string handle;
  Role role = Role::Member;
  friend bool operator==(const Member&, const Member&) = default;
};

struct Cursor {
  RoomId room;
  Seq seq;
  friend bool operator==(const Cursor&, const Cursor&) = default;
};

// ---- client -> relay ----
struct Hello { std::uint32_t protocol_version = kProtocolVersion; std::string client_name; friend bool operator==(const Hello&, const Hello&) = default; };
struct Register { std::string invite_token; std::string handle; Bytes identity_key; Bytes signature; friend bool operator==(const Register&, const Register&) = default; };
struct LoginStart { AccountId account; friend bool operator==(const LoginStart&, const LoginStart&) = default; };
struct LoginProof { Bytes signature; friend bool operator==(const LoginProof&, const LoginProof&) = default; };
struct PublishKeys { std::vector<Bytes> key_packages; std::optional<Bytes> last_resort; friend bool operator==(const PublishKeys&, const PublishKeys&) = default; };
struct FetchKeyPackage { AccountId account; friend bool operator==(const FetchKeyPackage&, const FetchKeyPackage&) = default; };
struct LookupAccount { std::string handle; friend bool operator==(const LookupAccount&, const LookupAccount&) = default; };
struct CreateRoom { RoomId room; Bytes group_info; std::uint64_t lifetime_ms = 0; friend bool operator==(const CreateRoom&, const CreateRoom&) = default; };
struct WelcomeFor { AccountId account; Bytes data; friend bool operator==(const WelcomeFor&, const WelcomeFor&) = default; };
struct SubmitBundle {
  RoomId room;
  Epoch epoch;
  EnvelopeId envelope_id;
  Bytes handshake;
  std::vector<WelcomeFor> welcomes;
  std::vector<RosterChange> roster_changes;
  friend bool operator==(const SubmitBundle&, const SubmitBundle&) = default;
};
struct CloseRoom { RoomId room; friend bool operator==(const CloseRoom&, const CloseRoom&) = default; };
struct SendEnvelope { RoomId room; EnvelopeId envelope_id; Epoch epoch; Bytes payload; friend bool operator==(const SendEnvelope&, const SendEnvelope&) = default; };
struct Sync { std::vector<Cursor> cursors; friend bool operator==(const Sync&, const Sync&) = default; };
struct Ack { std::vector<Cursor> cursors; friend bool operator==(const Ack&, const Ack&) = default; };
struct GetRoster { RoomId room; friend bool operator==(const GetRoster&, const GetRoster&) = default; };
struct Ping { std::uint64_t nonce = 0; friend bool operator==(const Ping&, const Ping&) = default; };
struct ResetRoom {
  RoomId room;
  EnvelopeId envelope_id;
  Bytes group_info;
  Bytes handshake;
  std::vector<WelcomeFor> welcomes;
  friend bool operator==(const ResetRoom&, const ResetRoom&) = default;
};
struct ReportChange {
  RoomId room;
  EnvelopeId envelope_id;
  Seq commit_seq;
  ChangeProblem problem = ChangeProblem::Invalid;
  friend bool operator==(const ReportChange&, const ReportChange&) = default;
};
struct SetRoomLifetime { RoomId room; std::uint64_t lifetime_ms = 0; friend bool operator==(const SetRoomLifetime&, const SetRoomLifetime&) = default; };

// ---- relay -> client: answers ----
struct Error {
  ErrorCode code = ErrorCode::Unspecified;
  std::string message;        // human-readable; never content, keys, tokens
  std::optional<RoomId> room;
  friend bool operator==(const Error&, const Error&) = default;
};
struct HelloOk { std::uint32_t protocol_version = kProtocolVersion; std::uint32_t max_frame_size = 0; friend bool operator==(const HelloOk&, const HelloOk&) = default; };
struct RegisterOk { AccountId account; friend bool operator==(const RegisterOk&, const RegisterOk&) = default; };
struct LoginChallenge { Bytes challenge; friend bool operator==(const LoginChallenge&, const LoginChallenge&) = default; };
struct LoginOk { std::string handle; friend bool operator==(const LoginOk&, const LoginOk&) = default; };
struct PublishKeysOk { std::uint32_t stock = 0; friend bool operator==(const PublishKeysOk&, const PublishKeysOk&) = default; };
struct KeyPackageOk { AccountId account; Bytes identity_key; Bytes key_package; bool last_resort = false; friend bool operator==(const KeyPackageOk&, const KeyPackageOk&) = default; };
struct AccountInfo { AccountId account; std::string handle; Bytes identity_key; friend bool operator==(const AccountInfo&, const AccountInfo&) = default; };
struct CreateRoomOk { RoomId room; Epoch epoch; friend bool operator==(const CreateRoomOk&, const CreateRoomOk&) = default; };
struct BundleOk { Seq seq; Epoch new_epoch; friend bool operator==(const BundleOk&, const BundleOk&) = default; };
struct CloseRoomOk { RoomId room; friend bool operator==(const CloseRoomOk&, const CloseRoomOk&) = default; };
struct SendOk { RoomId room; Seq seq; friend bool operator==(const SendOk&, const SendOk&) = default; };
struct RoomSyncState { RoomId room; Seq head; Epoch epoch; Role role = Role::Member; friend bool operator==(const RoomSyncState&, const RoomSyncState&) = default; };
struct SyncOk { std::vector<RoomSyncState> rooms; std::vector<Error> gaps; friend bool operator==(const SyncOk&, const SyncOk&) = default; };
struct Roster { RoomId room; Epoch epoch; std::vector<Member> members; friend bool operator==(const Roster&, const Roster&) = default; };
struct Pong { std::uint64_t nonce = 0; friend bool operator==(const Pong&, const Pong&) = default; };
struct RoomLifetimeOk { RoomId room; std::uint64_t lifetime_ms = 0; friend bool operator==(const RoomLifetimeOk&, const RoomLifetimeOk&) = default; };

// ---- relay -> client: pushes ----
struct Deliver {
  RoomId room;
  Seq seq;
  EnvelopeKind kind = EnvelopeKind::Application;
  AccountId sender;
  EnvelopeId envelope_id;
  Epoch epoch;
  std::int64_t timestamp_ms = 0;
  Bytes payload;
  std::vector<RosterChange> roster_changes;  // Handshake only
  friend bool operator==(const Deliver&, const Deliver&) = default;
};
struct RoomClosed { RoomId room; friend bool operator==(const RoomClosed&, const RoomClosed&) = default; };

/// The one registry of message kinds. Dispatch with std::visit (an
/// `overloaded` visitor names a forgotten case at compile time).
using Message = std::variant<
    // client -> relay
    Hello, Register, LoginStart, LoginProof, PublishKeys, FetchKeyPackage, LookupAccount, CreateRoom,
    SubmitBundle, CloseRoom, SendEnvelope, Sync, Ack, GetRoster, Ping, ResetRoom, ReportChange, SetRoomLifetime,
    // relay -> client answers
    Error, HelloOk, RegisterOk, LoginChallenge, LoginOk, PublishKeysOk, KeyPackageOk, AccountInfo,
    CreateRoomOk, BundleOk, CloseRoomOk, SendOk, SyncOk, Roster, Pong, RoomLifetimeOk,
    // relay -> client pushes
    Deliver, RoomClosed>;

struct Frame {
  std::uint64_t request_id = 0;  // 0 on pushes and on Ack
  Message body;
  friend bool operator==(const Frame&, const Frame&) = default;
};

/// The payload of a Report envelope (proto ChangeReport), as the relay writes it.
struct ChangeReport {
  Seq commit_seq;
  ChangeProblem problem = ChangeProblem::Invalid;
  friend bool operator==(const ChangeReport&, const ChangeReport&) = default;
};

/// A short stable name of the frame's kind ("SendEnvelope"), for counters and logs.
[[nodiscard]] const char* kind_name(const Message& m) noexcept;

/// Helper for std::visit with lambdas.
template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace hearth::wire
