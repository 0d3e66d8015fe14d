// SPDX-License-Identifier: Apache-2.0
// PublicGroup::serialize / load: the relay's view of a room survives a
// restart and goes on exactly as before, hostile bytes give an error, never
// a crash, and GroupState's encoding, which shares the public part, stays
// what it was.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/unit/mls/room_fixture.h"

using namespace hearth;
using namespace hearth::mls;
using namespace hearth::mls::testing;

namespace {

// A room whose handshake messages all go through the relay's view.
struct Room : TestRoom {
  explicit Room(std::uint64_t seed) : TestRoom(seed, "view-room", Relay::View) {}
};

// A seeded room after adds, a removal, an update, messages read out of
// order and a cached Update proposal by carol (client 2).
Room busy_room() {
  Room room(4242);
  const auto added = room.add({"bob", "carol", "dave", "erin"});
  room.remove(added[2]);
  room.commit_update(added[0]);
  const MlsMessage m1 = room.say(added[0], "one");
  (void)room.say(added[0], "two");
  const MlsMessage m3 = room.say(added[0], "three");
  REQUIRE(outcome(room.at(added[1]).unprotect(m3)) == "ok");
  REQUIRE(outcome(room.at(added[1]).unprotect(m1)) == "ok");
  room.propose_update(added[1]);
  return room;
}

}  // namespace

TEST_CASE("public group codec: a seeded member state encodes as it did before the view codec", "[mls][view][state]") {
  Room room = busy_room();
  const Bytes saved = room.at(2).serialize();
  // SHA-256 of GroupState::serialize() of this seeded state, taken before
  // the public part moved into functions shared with PublicGroup::serialize.
  CHECK(to_hex(crypto::sha256(saved)) == "d2be746d4e5c4147b86c0a70edf5ab766cae3d2b1e22edbe3bb5e8b7017174f9");
  CHECK(saved.size() == 2776);
}

TEST_CASE("public group codec: a member state holds the view's body as its public part", "[mls][view][state]") {
  Room room = busy_room();
  for (const std::size_t who : room.members()) {
    const Bytes state = room.at(who).serialize();
    const Bytes view = room.at(who).public_group().serialize();
    INFO(to_string_bytes(room.people[who].name));
    REQUIRE(view.size() > 2);
    REQUIRE(state.size() > view.size());
    // Both start with their format and continue with the same PublicPart.
    CHECK(std::equal(view.begin() + 2, view.end(), state.begin() + 2));
  }
  // The relay's view and carol's public group are one value.
  CHECK(room.relay->view().serialize() == room.at(2).public_group().serialize());
}

TEST_CASE("public group codec: a reloaded relay view handles the next commit as the original", "[mls][view]") {
  Room room = busy_room();
  const PublicGroup& original = room.relay->view();
  REQUIRE(original.proposals().size() == 1);
  REQUIRE(original.epoch() == 3);
  REQUIRE(original.tree().leaf(LeafIndex{3}) == nullptr);  // dave's, blank since his removal

  const Bytes saved = original.serialize();
  auto loaded = PublicGroup::load(saved, RolePolicy::Hearth);
  REQUIRE(outcome(loaded) == "ok");
  CHECK(loaded->serialize() == saved);
  CHECK(*loaded == original);
  CHECK(loaded->roles() == original.roles());
  CHECK(loaded->members() == original.members());
  // The policy is the caller's, not the encoding's.
  auto allow_all = PublicGroup::load(saved, RolePolicy::AllowAll);
  REQUIRE(outcome(allow_all) == "ok");
  CHECK(allow_all->policy() == RolePolicy::AllowAll);
  CHECK(allow_all->serialize() == saved);

  // Alice commits carol's cached Update and adds frank.
  room.people.push_back(make_identity("frank", room.rng));
  room.states.emplace_back();
  const std::size_t frank = room.people.size() - 1;
  KeyPackageBundle frank_kp = make_key_package(room.people[frank], room.rng);
  CommitOptions options;
  options.proposals.push_back(Proposal{Add{frank_kp.key_package}});
  auto pending = room.at(0).commit(options, room.rng, test_env());
  REQUIRE(outcome(pending) == "ok");
  const MlsMessage commit = over_the_wire(pending->commit);

  PublicGroup before = original;
  auto expected = before.handle(public_message(commit), kTestNow);
  REQUIRE(outcome(expected) == "ok");
  auto got = loaded->handle(public_message(commit), kTestNow);
  REQUIRE(outcome(got) == "ok");
  CHECK(got->epoch == expected->epoch);
  CHECK(got->sender == expected->sender);
  REQUIRE(got->added.size() == 1);
  CHECK(got->added[0].key_package_ref == frank_kp.ref);
  CHECK(got->added[0].leaf == expected->added[0].leaf);
  CHECK(loaded->context() == before.context());
  CHECK(*loaded == before);

  // The members follow, and agree with the reloaded view.
  std::vector<std::pair<std::size_t, KeyPackageBundle>> joiners;
  joiners.emplace_back(frank, std::move(frank_kp));
  room.adopt(0, std::move(*pending), joiners);
  for (const std::size_t who : room.members()) {
    INFO(to_string_bytes(room.people[who].name));
    CHECK(room.at(who).context() == loaded->context());
    CHECK(room.at(who).public_group().serialize() == loaded->serialize());
  }
  CHECK(room.relay->view() == *loaded);

  // And the next one too, from a view reloaded once more.
  auto again = PublicGroup::load(loaded->serialize(), RolePolicy::Hearth);
  REQUIRE(outcome(again) == "ok");
  auto update = room.at(2).update(room.rng, test_env());
  REQUIRE(outcome(update) == "ok");
  REQUIRE(outcome(again->handle(public_message(over_the_wire(update->commit)), kTestNow)) == "ok");
  room.adopt(2, std::move(*update));
  for (const std::size_t who : room.members()) CHECK(room.at(who).context() == again->context());
}

TEST_CASE("public group codec: a view at creation round-trips", "[mls][view]") {
  Room room(77);
  const Bytes saved = room.relay->view().serialize();
  auto loaded = PublicGroup::load(saved, RolePolicy::Hearth);
  REQUIRE(outcome(loaded) == "ok");
  CHECK(*loaded == room.relay->view());
  CHECK(loaded->serialize() == saved);
  CHECK(loaded->epoch() == 0);
  // The creator's own view, started with the epoch-0 confirmation tag.
  CHECK(room.at(0).public_group().serialize() == saved);
}

TEST_CASE("public group codec: every truncation and an extra byte are refused", "[mls][view]") {
  Room room = busy_room();
  const Bytes saved = room.relay->view().serialize();
  std::vector<std::size_t> accepted;
  for (std::size_t n = 0; n < saved.size(); ++n) {
    if (PublicGroup::load(BytesView(saved.data(), n), RolePolicy::Hearth)) accepted.push_back(n);
  }
  CHECK(saved.size() > 1000);
  CHECK(accepted.empty());
  CHECK(PublicGroup::load({}, RolePolicy::Hearth).error() == Error::Truncated);
  CHECK(PublicGroup::load(BytesView(saved.data(), saved.size() - 1), RolePolicy::Hearth).error() == Error::Truncated);
  Bytes longer = saved;
  longer.push_back(0);
  CHECK(PublicGroup::load(longer, RolePolicy::Hearth).error() == Error::TrailingBytes);
}

TEST_CASE("public group codec: an unknown format version is InvalidValue", "[mls][view]") {
  Room room(78);
  const Bytes saved = room.relay->view().serialize();
  REQUIRE(get_u32(saved) >> 16 == kPublicGroupFormat);
  for (const std::uint16_t version : {std::uint16_t{0}, std::uint16_t{2}, std::uint16_t{0xffff}}) {
    Bytes other = saved;
    other[0] = static_cast<std::uint8_t>(version >> 8);
    other[1] = static_cast<std::uint8_t>(version);
    CHECK(PublicGroup::load(other, RolePolicy::Hearth).error() == Error::InvalidValue);
  }
  // A member state is not a view, nor the other way round.
  CHECK_FALSE(PublicGroup::load(room.at(0).serialize(), RolePolicy::Hearth).has_value());
  CHECK_FALSE(GroupState::load(saved, room.people[0].signing_key(), RolePolicy::Hearth).has_value());
}

TEST_CASE("public group codec: hostile counts and inconsistent parts are refused", "[mls][view]") {
  // A view without cached proposals ends with the cache's count, 0.
  Room room(79);
  room.add({"bob", "carol"});
  const Bytes saved = room.relay->view().serialize();
  REQUIRE(saved.back() == 0);
  const auto with_tail = [&](const Bytes& tail) {
    Bytes out(saved.begin(), saved.end() - 1);
    out.insert(out.end(), tail.begin(), tail.end());
    return out;
  };
  const Bytes huge = encode_varint(kMaxVarint);  // 2^30 - 1 items
  CHECK(PublicGroup::load(with_tail(huge), RolePolicy::Hearth).error() == Error::InvalidValue);
  CHECK(PublicGroup::load(with_tail(encode_varint(kMaxProposalsPerEpoch + 1)), RolePolicy::Hearth).error() ==
        Error::InvalidValue);
  CHECK(PublicGroup::load(with_tail(encode_varint(kMaxProposalsPerEpoch)), RolePolicy::Hearth).error() ==
        Error::Truncated);

  // The largest count at every position of a fuller view: an error or a
  // view, whatever field it lands in.
  Room busy = busy_room();
  const Bytes full = busy.relay->view().serialize();
  std::size_t refused = 0;
  for (std::size_t at = 0; at + huge.size() <= full.size(); ++at) {
    Bytes hostile = full;
    std::copy(huge.begin(), huge.end(), hostile.begin() + static_cast<std::ptrdiff_t>(at));
    if (!PublicGroup::load(hostile, RolePolicy::Hearth)) ++refused;
  }
  INFO(refused << " of " << full.size() << " positions refused");
  CHECK(refused > 0);

  // The same cached proposal listed twice.
  const PublicGroup& view = busy.relay->view();
  REQUIRE(view.proposals().size() == 1);
  Writer twice;
  twice.u16(kPublicGroupFormat);
  write(twice, view.context());
  write(twice, view.tree().to_wire());
  twice.opaque(view.interim_transcript_hash());
  twice.varint(2);
  for (int i = 0; i < 2; ++i) {
    const ProposalInfo& p = view.proposals().all()[0];
    write(twice, p.proposal);
    twice.u32(p.sender.v);
    twice.raw(*p.ref);
  }
  CHECK(PublicGroup::load(twice.bytes(), RolePolicy::Hearth).error() == Error::InvalidValue);

  // Another epoch's tree under this context; an interim hash of a wrong size.
  const auto rewrite = [&](const PublicTree& tree, BytesView interim) {
    Writer w;
    w.u16(kPublicGroupFormat);
    write(w, view.context());
    write(w, tree.to_wire());
    w.opaque(interim);
    w.varint(0);
    return w.take();
  };
  CHECK(outcome(PublicGroup::load(rewrite(view.tree(), view.interim_transcript_hash()), RolePolicy::Hearth)) == "ok");
  CHECK(PublicGroup::load(rewrite(room.relay->view().tree(), view.interim_transcript_hash()), RolePolicy::Hearth)
            .error() == Error::TreeHashMismatch);
  const Bytes short_interim(kHashSize - 1, 0x11);
  CHECK(PublicGroup::load(rewrite(view.tree(), short_interim), RolePolicy::Hearth).error() == Error::InvalidValue);
  CHECK(PublicGroup::load(rewrite(view.tree(), {}), RolePolicy::Hearth).error() == Error::InvalidValue);
}

TEST_CASE("public group codec: random byte flips give an error or a usable view", "[mls][view]") {
  Room room = busy_room();
  const Bytes saved = room.relay->view().serialize();
  SeededRng flips(808);
  std::size_t refused = 0;
  std::size_t accepted = 0;
  for (int round = 0; round < 2000; ++round) {
    Bytes hostile = saved;
    const std::size_t n_flips = 1 + flips.below(3);
    for (std::size_t i = 0; i < n_flips; ++i) {
      hostile[flips.below(hostile.size())] ^= static_cast<std::uint8_t>(1 + flips.below(255));
    }
    auto loaded = PublicGroup::load(hostile, RolePolicy::Hearth);
    if (!loaded) {
      ++refused;
      continue;
    }
    // Whatever was accepted behaves like a view: it saves the same, and
    // handles the relay log's last message with an error or an update.
    ++accepted;
    const Bytes again = loaded->serialize();
    CHECK(again == hostile);
    CHECK(outcome(PublicGroup::load(again, RolePolicy::Hearth)) == "ok");
    (void)loaded->handle(public_message(room.relay->log().back().message), kTestNow);
  }
  CHECK(refused + accepted == 2000);
  CHECK(refused > 0);
}

TEST_CASE("public group codec: the size of a 50-member view", "[mls][view]") {
  Room room(5050);
  std::vector<std::string> names;
  for (int i = 1; i < 50; ++i) names.push_back("member-" + std::to_string(i));
  // Joining is not needed for the view: alice's commit alone is submitted.
  std::vector<KeyPackage> kps;
  for (const auto& name : names) {
    room.people.push_back(make_identity(name, room.rng));
    kps.push_back(make_key_package(room.people.back(), room.rng).key_package);
  }
  auto pending = room.at(0).add(kps, room.rng, test_env());
  REQUIRE(outcome(pending) == "ok");
  REQUIRE(outcome(room.relay->submit(pending->commit, 0)) == "ok");
  const PublicGroup& view = room.relay->view();
  REQUIRE(view.members().size() == 50);
  const Bytes saved = view.serialize();
  auto loaded = PublicGroup::load(saved, RolePolicy::Hearth);
  REQUIRE(outcome(loaded) == "ok");
  CHECK(loaded->serialize() == saved);
  // A bound that catches a format gone quadratic; the value is the report.
  INFO("50 members: " << saved.size() << " bytes");
  CHECK(saved.size() < 50 * 1000);
}
