// SPDX-License-Identifier: Apache-2.0
#include "common/mls/group_context.h"

namespace hearth::mls {

void write(Writer& w, const Extension& v) {
  w.u16(v.extension_type);
  w.opaque(v.extension_data);
}

void read(Reader& r, Extension& v) {
  v.extension_type = r.u16();
  v.extension_data = r.opaque_bytes();
}

void write(Writer& w, const GroupContext& v) {
  w.u16(v.version);
  w.u16(v.cipher_suite);
  w.opaque(v.group_id);
  w.u64(v.epoch);
  w.opaque(v.tree_hash);
  w.opaque(v.confirmed_transcript_hash);
  w.list(v.extensions);
}

void read(Reader& r, GroupContext& v) {
  v.version = r.u16();
  v.cipher_suite = r.u16();
  v.group_id = r.opaque_bytes();
  v.epoch = r.u64();
  v.tree_hash = r.opaque_bytes();
  v.confirmed_transcript_hash = r.opaque_bytes();
  v.extensions = r.list<Extension>();
}

}  // namespace hearth::mls
