// SPDX-License-Identifier: Apache-2.0
// Hostile input against the wire structs, using real messages from messages.json.
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "common/mls/content.h"
#include "common/mls/wire.h"
#include "tests/support/paths.h"

using namespace hearth;
using namespace hearth::mls;

namespace {

nlohmann::json first_messages_case() {
  std::ifstream in(test::shared_dir() / "mls-vectors" / "messages.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in).at(0);
}

Bytes field(const char* name) { return *from_hex(first_messages_case().at(name).get<std::string>()); }

template <class T>
void sweep(const Bytes& valid) {
  REQUIRE(decode<T>(valid));
  for (std::size_t n = 0; n < valid.size(); ++n) {
    const auto r = decode<T>(BytesView(valid).first(n));
    REQUIRE(!r);
    // A prefix is either cut inside a value or a complete value whose
    // continuation is missing; an early length may also stop at the bound.
    CHECK((r.error() == Error::Truncated || r.error() == Error::InvalidValue ||
           r.error() == Error::InvalidVarint || r.error() == Error::VectorTooLong));
  }
  Bytes longer = valid;
  longer.push_back(0);
  CHECK(decode<T>(longer).error() == Error::TrailingBytes);
}

}  // namespace

TEST_CASE("wire: every truncation of real messages fails with a typed error", "[mls][wire]") {
  sweep<MlsMessage>(field("mls_welcome"));
  sweep<MlsMessage>(field("mls_group_info"));
  sweep<MlsMessage>(field("mls_key_package"));
  sweep<MlsMessage>(field("public_message_commit"));
  sweep<MlsMessage>(field("private_message"));
  sweep<RatchetTree>(field("ratchet_tree"));
  sweep<Commit>(field("commit"));
  sweep<GroupSecrets>(field("group_secrets"));
}

TEST_CASE("wire: unknown enum values are InvalidValue", "[mls][wire]") {
  Bytes msg = field("public_message_proposal");
  REQUIRE(decode<MlsMessage>(msg));
  Bytes bad_wire_format = msg;
  bad_wire_format[3] = 9;
  CHECK(decode<MlsMessage>(bad_wire_format).error() == Error::InvalidValue);
  Bytes bad_version = msg;
  bad_version[1] = 2;
  CHECK(decode<MlsMessage>(bad_version).error() == Error::UnsupportedVersion);
  CHECK(decode<Proposal>(*from_hex("0009")).error() == Error::InvalidValue);
  CHECK(decode<Node>(*from_hex("03")).error() == Error::InvalidValue);
  CHECK(decode<Sender>(*from_hex("05")).error() == Error::InvalidValue);
  CHECK(decode<ProposalOrRef>(*from_hex("0300")).error() == Error::InvalidValue);
  CHECK(decode<Credential>(*from_hex("000300")).error() == Error::InvalidValue);
  CHECK(decode<PreSharedKeyId>(*from_hex("0300")).error() == Error::InvalidValue);
  CHECK(decode<PreSharedKeyId>(*from_hex("02040000000000000000000000")).error() == Error::InvalidValue);
}

TEST_CASE("wire: a huge declared vector allocates nothing and fails", "[mls][wire]") {
  // A ratchet tree claiming a 1 GiB body with five bytes behind it.
  CHECK(decode<RatchetTree>(*from_hex("bfffffff0000000000")).error() == Error::VectorTooLong);
  // Just under the bound, but the bytes are not there.
  Writer w;
  w.varint(kMaxVectorSize);
  CHECK(decode<RatchetTree>(w.bytes()).error() == Error::Truncated);
}

TEST_CASE("wire: structs round trip", "[mls][wire]") {
  Commit c;
  Proposal p;
  p.body = Remove{7};
  c.proposals.push_back(ProposalOrRef{p});
  c.proposals.push_back(ProposalOrRef{Bytes(32, 1)});
  UpdatePath path;
  path.leaf_node.leaf_node_source = LeafNodeSource::Commit;
  path.leaf_node.parent_hash = Bytes(32, 2);
  path.nodes.push_back(UpdatePathNode{Bytes(32, 3), {HpkeCiphertext{Bytes(32, 4), Bytes(48, 5)}}});
  c.path = path;
  CHECK(decode<Commit>(encode(c)) == c);
  CHECK(p.type() == ProposalType::Remove);
}
