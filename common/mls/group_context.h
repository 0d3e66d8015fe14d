// SPDX-License-Identifier: Apache-2.0
#pragma once
// Extension and GroupContext (RFC 9420 §13 and §8.1), wire structs.

#include <cstdint>
#include <vector>

#include "common/mls/cipher_suite.h"
#include "common/mls/codec.h"

namespace hearth::mls {

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
