// SPDX-License-Identifier: Apache-2.0
#pragma once
// Fresh random ids for tests and tools that talk to a real relay.

#include "common/crypto/crypto.h"
#include "common/types/ids.h"

namespace hearth::test {

[[nodiscard]] inline Bytes random_id(std::size_t n = 16) { return crypto::random_bytes(n); }
[[nodiscard]] inline RoomId new_room_id() { return RoomId{random_id()}; }
[[nodiscard]] inline EnvelopeId new_envelope_id() { return EnvelopeId{random_id()}; }

}  // namespace hearth::test
