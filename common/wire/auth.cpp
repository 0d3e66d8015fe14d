// SPDX-License-Identifier: Apache-2.0
#include "common/wire/auth.h"

namespace hearth::wire {

namespace {
void put_lp(Bytes& out, BytesView v) {
  put_u32(out, static_cast<std::uint32_t>(v.size()));
  append(out, v);
}
}  // namespace

Bytes register_transcript(std::string_view invite_token, std::string_view handle, BytesView identity_key,
                          BytesView exporter) {
  Bytes t;
  put_lp(t, as_bytes(kRegisterLabel));
  put_lp(t, as_bytes(invite_token));
  put_lp(t, as_bytes(handle));
  put_lp(t, identity_key);
  put_lp(t, exporter);
  return t;
}

Bytes login_transcript(BytesView challenge, BytesView exporter, const AccountId& account) {
  Bytes t;
  put_lp(t, as_bytes(kLoginLabel));
  put_lp(t, challenge);
  put_lp(t, exporter);
  put_lp(t, account.v);
  return t;
}

}  // namespace hearth::wire
