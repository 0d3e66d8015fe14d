// SPDX-License-Identifier: Apache-2.0
#include "common/mls/transcript.h"

namespace hearth::mls {

MlsResult<Digest> confirmed_transcript_hash(BytesView interim_before, const AuthenticatedContent& commit) {
  if (content_type(commit.content.content) != ContentType::Commit) return fail(Error::WrongWireFormat);
  Writer w;  // ConfirmedTranscriptHashInput
  w.u16(static_cast<std::uint16_t>(commit.wire_format));
  write(w, commit.content);
  w.opaque(commit.auth.signature);
  crypto::Sha256 h;
  h.update(interim_before);
  h.update(w.bytes());
  return h.finish();
}

Digest interim_transcript_hash(BytesView confirmed, BytesView confirmation_tag_value) {
  Writer w;  // InterimTranscriptHashInput
  w.opaque(confirmation_tag_value);
  crypto::Sha256 h;
  h.update(confirmed);
  h.update(w.bytes());
  return h.finish();
}

Digest confirmation_tag(BytesView confirmation_key, BytesView confirmed_transcript_hash_value) {
  return crypto::hmac_sha256(confirmation_key, confirmed_transcript_hash_value);
}

MlsResult<void> verify_confirmation_tag(BytesView confirmation_key, BytesView confirmed_transcript_hash_value,
                                        BytesView tag) {
  const Digest expected = confirmation_tag(confirmation_key, confirmed_transcript_hash_value);
  if (!crypto::equal_ct(expected, tag)) return fail(Error::InvalidConfirmationTag);
  return {};
}

}  // namespace hearth::mls
