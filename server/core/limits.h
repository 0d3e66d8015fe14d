// SPDX-License-Identifier: Apache-2.0
#pragma once
// Every bound the relay puts on hostile input or on its own resources, in one
// place. Defaults that IT may change live in server/config.h; these are the
// fixed ones and the defaults those settings start from.

#include <cstddef>
#include <cstdint>

namespace hearth::relay {

/// One-time KeyPackages an account may keep stored (PublishKeys beyond it: QuotaExceeded).
inline constexpr std::size_t kMaxKeyPackageStock = 100;
/// KeyPackages an account may upload: burst, then this many per minute. Each
/// costs signature checks on the I/O thread, so a logged-in device must not
/// keep a core busy with them. (An upload of none, which only asks for the
/// stock, costs nothing.)
inline constexpr std::uint32_t kKeyPublishBurst = 2 * kMaxKeyPackageStock;
inline constexpr std::uint32_t kKeyPublishPerMinute = kMaxKeyPackageStock;
/// KeyPackage fetches a requesting account may make: burst, then this many per minute.
inline constexpr std::uint32_t kKeyFetchBurst = 20;
inline constexpr std::uint32_t kKeyFetchPerMinute = 60;
/// Members a room may hold (a bundle adding beyond it: QuotaExceeded).
inline constexpr std::size_t kMaxRoomMembers = 1000;
/// Rooms one account may create (beyond it: QuotaExceeded).
inline constexpr std::size_t kMaxRoomsPerAccount = 1000;
/// Well-framed frames that fail to parse (or arrive in the wrong state) before
/// the relay closes the connection.
inline constexpr std::uint32_t kMaxBadFrames = 8;
/// A handle is 1..kMaxHandleChars printable characters (wire::kMaxHandleSize bytes).
inline constexpr std::size_t kMaxHandleChars = 64;
/// Invite tokens: random bytes before base64url encoding (32 characters).
inline constexpr std::size_t kInviteTokenBytes = 24;
/// Invites the admin command creates in one call.
inline constexpr std::uint32_t kMaxInvitesPerCommand = 10'000;

}  // namespace hearth::relay
