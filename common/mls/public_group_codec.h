// SPDX-License-Identifier: Apache-2.0
#pragma once
// Internal to public_group_codec.cpp and group_state_codec.cpp: the public
// group's part of both encodings, and the reading helpers they share. In the
// TLS presentation language of codec.h:
//
//   struct {
//     GroupContext context;
//     RatchetTree tree;                      -- truncated, as the ratchet_tree extension
//     opaque interim_transcript_hash<V>;
//     Count n; CachedProposal cached[n];     -- { Proposal; uint32 sender; opaque ref[Nh]; }
//   } PublicPart;
//   Count  a varint item count
//
// GroupState format 1 is { uint16 format; PublicPart; the member's own data }
// and PublicGroup format 1 is { uint16 format; PublicPart }. Saved states and
// views exist: a change here is a new format of both.
//
// Every reader reports through the Reader's sticky error, so a failure
// anywhere surfaces once, from finish(), and stops all later reads.

#include <cstddef>
#include <vector>

#include "common/mls/codec.h"
#include "common/mls/public_group.h"

namespace hearth::mls::codec_detail {

/// A PublicPart as read, not yet checked against itself.
struct PublicPart {
  GroupContext context;
  RatchetTree tree;
  Bytes interim_transcript_hash;
  std::vector<ProposalInfo> cached;
};

/// Appends `group`'s PublicPart. It holds nothing secret.
void write_public_part(Writer& w, const PublicGroup& group);
/// Reads a PublicPart; the cache's count is refused above
/// kMaxProposalsPerEpoch before any item is read. Meaningful only when `r`
/// ends without an error.
[[nodiscard]] PublicPart read_public_part(Reader& r);
/// The group a PublicPart describes: the tree from its wire form
/// (PublicTree::from_wire's errors), the cache (ProposalCache::restore's),
/// then PublicGroup::restore's checks (TreeHashMismatch, ...).
[[nodiscard]] MlsResult<PublicGroup> restore_public_part(PublicPart part, RolePolicy policy);

/// A count, refused (InvalidValue) above `bound` before any item is read.
[[nodiscard]] std::size_t read_count(Reader& r, std::size_t bound);
/// Nh raw bytes (zeros after an error).
[[nodiscard]] Digest read_digest(Reader& r);

}  // namespace hearth::mls::codec_detail
