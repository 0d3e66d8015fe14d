// SPDX-License-Identifier: Apache-2.0
#pragma once
// Extension and GroupContext (RFC 9420 §13 and §8.1), wire structs.

#include <cstdint>
#include <vector>

#include "common/mls/cipher_suite.h"
#include "common/mls/codec.h"

namespace hearth::mls {

/// Extension types (RFC 9420 §17.3). The first five are "default"
/// extensions that capabilities need not list.
inline constexpr std::uint16_t kExtApplicationId = 0x0001;
inline constexpr std::uint16_t kExtRatchetTree = 0x0002;
inline constexpr std::uint16_t kExtRequiredCapabilities = 0x0003;
inline constexpr std::uint16_t kExtExternalPub = 0x0004;
inline constexpr std::uint16_t kExtExternalSenders = 0x0005;
[[nodiscard]] constexpr bool is_default_extension(std::uint16_t type) noexcept {
  return type >= kExtApplicationId && type <= kExtExternalSenders;
}

struct Extension {
  std::uint16_t extension_type = 0;
  Bytes extension_data;
  bool operator==(const Extension&) const = default;
};
void write(Writer& w, const Extension& v);
void read(Reader& r, Extension& v);

struct GroupContext {
  std::uint16_t version = kProtocolVersionMls10;
  std::uint16_t cipher_suite = kCipherSuite;
  Bytes group_id;
  std::uint64_t epoch = 0;
  Bytes tree_hash;
  Bytes confirmed_transcript_hash;
  std::vector<Extension> extensions;
  bool operator==(const GroupContext&) const = default;
};
void write(Writer& w, const GroupContext& v);
void read(Reader& r, GroupContext& v);

}  // namespace hearth::mls
