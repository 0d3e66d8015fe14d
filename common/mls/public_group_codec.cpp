// SPDX-License-Identifier: Apache-2.0
// PublicGroup::serialize / load, and the PublicPart that GroupState's codec
// shares (layout in public_group_codec.h).
#include "common/mls/public_group_codec.h"

#include <algorithm>
#include <utility>

#include "common/mls/wire.h"

namespace hearth::mls {
namespace codec_detail {

void write_public_part(Writer& w, const PublicGroup& group) {
  write(w, group.context());
  write(w, group.tree().to_wire());
  w.opaque(group.interim_transcript_hash());
  w.varint(group.proposals().size());
  for (const ProposalInfo& p : group.proposals().all()) {
    write(w, p.proposal);
    w.u32(p.sender.v);
    w.raw(p.ref.value_or(Digest{}));  // always set in the cache (ProposalCache::add)
  }
}

PublicPart read_public_part(Reader& r) {
  PublicPart part;
  read(r, part.context);
  read(r, part.tree);
  part.interim_transcript_hash = r.opaque_bytes();
  const std::size_t n = read_count(r, kMaxProposalsPerEpoch);
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    ProposalInfo info;
    read(r, info.proposal);
    info.sender = LeafIndex{r.u32()};
    info.ref = read_digest(r);
    part.cached.push_back(std::move(info));
  }
  return part;
}

MlsResult<PublicGroup> restore_public_part(PublicPart part, RolePolicy policy) {
  auto tree = PublicTree::from_wire(part.tree);
  if (!tree) return fail(tree.error());
  auto cache = ProposalCache::restore(std::move(part.cached));
  if (!cache) return fail(cache.error());
  return PublicGroup::restore(std::move(part.context), std::move(*tree), std::move(part.interim_transcript_hash),
                              std::move(*cache), policy);
}

std::size_t read_count(Reader& r, std::size_t bound) {
  const std::uint64_t n = r.varint();
  if (n > bound) {
    r.set_error(Error::InvalidValue);
    return 0;
  }
  return static_cast<std::size_t>(n);
}

Digest read_digest(Reader& r) {
  Digest out{};
  const BytesView v = r.raw(out.size());
  std::copy(v.begin(), v.end(), out.begin());
  return out;
}

}  // namespace codec_detail

Bytes PublicGroup::serialize() const {
  Writer w;
  w.u16(kPublicGroupFormat);
  codec_detail::write_public_part(w, *this);
  return w.take();
}

MlsResult<PublicGroup> PublicGroup::load(BytesView encoded, RolePolicy policy) {
  Reader r(encoded);
  const std::uint16_t format = r.u16();
  if (const auto e = r.error()) return fail(*e);
  if (format != kPublicGroupFormat) return fail(Error::InvalidValue);
  codec_detail::PublicPart part = codec_detail::read_public_part(r);
  if (auto done = r.finish(); !done) return fail(done.error());
  // GroupState::load ties the interim transcript hash to the confirmation
  // tag; a view has no tag, so only its shape is checked: Nh bytes, or
  // empty for a group its creator started without a tag (epoch 0).
  const std::size_t interim = part.interim_transcript_hash.size();
  if (interim != kHashSize && !(interim == 0 && part.context.epoch == 0)) return fail(Error::InvalidValue);
  return codec_detail::restore_public_part(std::move(part), policy);
}

}  // namespace hearth::mls
