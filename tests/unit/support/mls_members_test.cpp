// SPDX-License-Identifier: Apache-2.0
// MlsMembers (tests/support/mls_members.h) without a relay: a room built
// from its bundles reads as one group, and every MLS failure is a thrown
// error, never a quiet wrong answer the tests built on it would miss.
#include <catch2/catch.hpp>

#include "tests/support/mls_members.h"

using namespace hearth;
using namespace hearth::test;

namespace {

Identity member(const char* handle, std::uint8_t id) {
  auto i = make_identity(handle);
  i.account = AccountId{Bytes(16, id)};  // as the relay would assign it
  return i;
}

/// The KeyPackageOk answers the relay would give for `id`'s published packages.
std::vector<wire::KeyPackageOk> fetched(MlsMembers& mls, const Identity& id, std::size_t n) {
  std::vector<wire::KeyPackageOk> out;
  for (auto& kp : mls.new_key_packages(id, n).key_packages) {
    out.push_back(wire::KeyPackageOk{id.account, Bytes(id.key.public_key.begin(), id.key.public_key.end()),
                                     std::move(kp), false});
  }
  return out;
}

}  // namespace

TEST_CASE("MlsMembers: an accepted bundle moves every member along, messages open for members only",
          "[support][mls]") {
  MlsMembers mls;
  const auto alice = member("alice", 1);
  const auto bob = member("bob", 2);
  const auto carol = member("carol", 3);
  const RoomId room{Bytes(16, 0x42)};
  REQUIRE_FALSE(mls.new_group_info(alice, room).empty());
  auto add = mls.add_fetched(alice, room, fetched(mls, bob, 1));
  REQUIRE(add.commit);
  REQUIRE(add.bundle.welcomes.size() == 1);
  CHECK(add.bundle.welcomes[0].account == bob.account);
  mls.accepted(room, std::move(add));
  CHECK(mls.epoch(alice, room) == 1);
  CHECK(mls.epoch(bob, room) == 1);
  CHECK(mls.decrypt(bob, room, mls.encrypt(alice, room, "hello bob")) == "hello bob");

  // Carol is no member: nothing of hers exists, and asking for it throws.
  CHECK_THROWS_AS(mls.group(carol, room), std::runtime_error);
  CHECK_THROWS_AS(mls.decrypt(carol, room, mls.encrypt(alice, room, "not for carol")), std::runtime_error);
  // Garbage, a cut-off message and a flipped byte are errors, not text.
  CHECK_THROWS_AS(mls.decrypt(bob, room, Bytes{1, 2, 3}), std::runtime_error);
  Bytes sealed = mls.encrypt(alice, room, "tampered");
  Bytes cut(sealed.begin(), sealed.begin() + static_cast<std::ptrdiff_t>(sealed.size() / 2));
  CHECK_THROWS_AS(mls.decrypt(bob, room, cut), std::runtime_error);
  sealed[sealed.size() - 5] ^= 0x01;
  CHECK_THROWS_AS(mls.decrypt(bob, room, sealed), std::runtime_error);
  // A KeyPackage that is not one does not make a commit.
  auto bad = fetched(mls, carol, 1);
  bad[0].key_package = Bytes{0, 1};
  CHECK_THROWS_AS(mls.add_fetched(alice, room, bad), std::runtime_error);

  // Bob leaves by proposal; Alice's commit of it removes him on his side too.
  auto leave = mls.leave(bob, room);
  REQUIRE(leave.proposal);
  mls.accepted(room, std::move(leave));
  mls.accepted(room, mls.update(alice, room));
  CHECK(mls.epoch(alice, room) == 2);
  CHECK_THROWS_AS(mls.group(bob, room), std::runtime_error);
}

TEST_CASE("MlsMembers: a joiner without the KeyPackage its Welcome names cannot join", "[support][mls]") {
  MlsMembers mls;
  const auto alice = member("alice", 1);
  const auto bob = member("bob", 2);
  const RoomId room{Bytes(16, 0x43)};
  (void)mls.new_group_info(alice, room);
  // A KeyPackage of Bob's that this MlsMembers never kept the keys of.
  const auto foreign = mls.unpublished_package(bob);
  auto add = mls.add_packages(alice, room, {{bob.account, foreign}});
  CHECK_THROWS_WITH(mls.accepted(room, std::move(add)), Catch::Contains("no package for its Welcome"));
}
