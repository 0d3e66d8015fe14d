// SPDX-License-Identifier: Apache-2.0
#pragma once
// The request id of a frame body that did not decode, so the MalformedFrame
// error can still carry it. Frame.request_id is field 1 (varint); encoders
// write it first. Pure.

#include <cstdint>
#include <optional>

#include "common/types/bytes.h"

namespace hearth::relay {

/// The request id if the body starts with field 1 as a well-formed varint of
/// at most 10 bytes; nullopt otherwise.
[[nodiscard]] std::optional<std::uint64_t> peek_request_id(BytesView body) noexcept;

}  // namespace hearth::relay
