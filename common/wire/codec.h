// SPDX-License-Identifier: Apache-2.0
#pragma once
// Frame <-> bytes. Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <string>

#include "common/types/bytes.h"
#include "common/types/result.h"
#include "common/wire/messages.h"

namespace hearth::wire {

enum class DecodeError : std::uint8_t {
  Unparseable,   // not a protobuf Frame
  EmptyBody,     // no oneof case set (or one this version does not know)
  BadField,      // a field has the wrong size, an unknown enum value, or too many items
};
[[nodiscard]] std::string to_string(DecodeError e);

struct DecodeFailure {
  DecodeError code;
  std::string detail;  // names the field, never its value
};

/// Largest Report payload decode_change_report reads (a real one is under 16 bytes).
inline constexpr std::size_t kMaxChangeReportSize = 64;
/// A Report envelope's payload.
[[nodiscard]] Bytes encode_change_report(const ChangeReport& report);
/// nullopt when it is not a well-formed ChangeReport.
[[nodiscard]] std::optional<ChangeReport> decode_change_report(BytesView payload);

/// Serialises the frame body (no length prefix).
[[nodiscard]] Bytes encode(const Frame& frame);
/// Serialises the frame with its 4-byte big-endian length prefix, ready to write.
[[nodiscard]] Bytes encode_with_length(const Frame& frame);
/// Parses and validates a frame body (no length prefix). Checks every id size,
/// enum value and list bound named in messages.h.
[[nodiscard]] Result<Frame, DecodeFailure> decode(BytesView body);

}  // namespace hearth::wire
