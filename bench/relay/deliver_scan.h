// SPDX-License-Identifier: Apache-2.0
#pragma once
// A zero-copy reader for the one frame the bench receives hundreds of
// thousands of times a second: a Deliver push of an application envelope.
//
// wire::decode parses into generated protobuf objects and then into owning
// structs (about ten allocations and two payload copies per Deliver); at
// 300,000 deliveries/s on one core that alone would make the bench the
// bottleneck. This scanner reads the protobuf wire format in place and
// accepts only the plain case (request_id 0, a Deliver without roster
// changes, ids of the protocol's sizes); everything else returns nullopt and
// goes through wire::decode, which stays the validating reference.

#include <cstdint>
#include <optional>

#include "common/types/bytes.h"

namespace hearth::bench {

struct DeliverView {
  BytesView room;
  std::uint64_t seq = 0;
  std::uint64_t kind = 0;  // hearth.v1.EnvelopeKind value
  BytesView sender;
  std::uint64_t epoch = 0;
  BytesView payload;  // points into the frame body
};

/// `body` is one frame body (no length prefix). The views point into it.
[[nodiscard]] std::optional<DeliverView> scan_deliver(BytesView body) noexcept;

}  // namespace hearth::bench
