// SPDX-License-Identifier: Apache-2.0
#pragma once
// Transcript hashes and the confirmation tag (RFC 9420 §8.2, §6.1).
//
//   confirmed[n] = H(interim[n-1] || wire_format || FramedContent || signature)
//   confirmation_tag = MAC(confirmation_key[n], confirmed[n])
//   interim[n]   = H(confirmed[n] || confirmation_tag<V>)

#include "common/mls/content.h"
#include "common/mls/labeled_crypto.h"

namespace hearth::mls {

/// WrongWireFormat unless `commit` is a commit framed as PublicMessage or
/// PrivateMessage.
[[nodiscard]] MlsResult<Digest> confirmed_transcript_hash(BytesView interim_before,
                                                          const AuthenticatedContent& commit);
[[nodiscard]] Digest interim_transcript_hash(BytesView confirmed, BytesView confirmation_tag);
[[nodiscard]] Digest confirmation_tag(BytesView confirmation_key, BytesView confirmed_transcript_hash);
/// Constant-time check; InvalidConfirmationTag on mismatch.
[[nodiscard]] MlsResult<void> verify_confirmation_tag(BytesView confirmation_key,
                                                      BytesView confirmed_transcript_hash, BytesView tag);

}  // namespace hearth::mls
