// SPDX-License-Identifier: Apache-2.0
// Rooms as MLS groups, member side, without a relay: the bytes one member
// produces are handed to the others as the relay would forward them.
#include <catch2/catch.hpp>

#include <map>

#include "client/core/key_packages.h"
#include "client/core/room_group.h"
#include "tests/support/seeded_rng.h"

using namespace hearth;
using namespace hearth::client;

namespace {

constexpr std::uint64_t kNow = 1'900'000'000;
const RoomId kRoom{Bytes(32, 0x42)};

struct Person {
  std::string name;
  AccountId account;
  crypto::SigningKey key;
  std::vector<StoredKeyPackage> stored;  // what its device keeps
  std::optional<RoomGroup> group;

  wire::KeyPackageOk publish(Rng& rng) {
    auto made = make_key_package(account, key, false, kNow, KeyPackagePolicy{}, rng);
    stored.push_back(made.stored);
    return wire::KeyPackageOk{account, Bytes(key.public_key.begin(), key.public_key.end()), made.published, false};
  }
};

Person person(std::string name, std::uint8_t id, Rng& rng) {
  Bytes seed(32);
  rng.fill(seed);
  return Person{std::move(name), AccountId{Bytes(16, id)}, crypto::ed25519_from_seed(seed).value(), {}, std::nullopt};
}

/// Alice creates the room and adds everyone else in one commit; all join.
struct Room {
  test::SeededRng rng{2026};
  std::vector<Person> people;

  explicit Room(std::size_t n) {
    const char* names[] = {"alice", "bob", "carol", "dave", "erin"};
    for (std::size_t i = 0; i < n; ++i) people.push_back(person(names[i], static_cast<std::uint8_t>(i + 1), rng));
    auto created = RoomGroup::create(kRoom, people[0].account, people[0].key, kNow, rng);
    REQUIRE(created);
    people[0].group = std::move(*created);
    if (n == 1) return;
    std::vector<wire::KeyPackageOk> packages;
    for (std::size_t i = 1; i < n; ++i) packages.push_back(people[i].publish(rng));
    auto commit = people[0].group->add(packages, rng, kNow);
    REQUIRE(commit);
    REQUIRE(commit->welcomes.size() == n - 1);
    REQUIRE(commit->roster.size() == n - 1);
    for (const auto& c : commit->roster) {
      CHECK(c.op == wire::RosterOp::Add);
      CHECK(c.role == wire::Role::Member);
    }
    for (std::size_t i = 1; i < n; ++i) {
      const auto w = std::find_if(commit->welcomes.begin(), commit->welcomes.end(),
                                  [&](const auto& x) { return x.account == people[i].account; });
      REQUIRE(w != commit->welcomes.end());
      auto joined = RoomGroup::join(w->welcome, people[i].account, people[i].key, people[i].stored, kNow);
      INFO(people[i].name << ": " << (joined ? "" : mls::to_string(joined.error())));
      REQUIRE(joined);
      CHECK(joined->key_package_ref == people[i].stored.back().ref);
      people[i].group = std::move(joined->group);
    }
    people[0].group = std::move(commit->next);
  }
  Person& operator[](std::size_t i) { return people[i]; }
};

}  // namespace

TEST_CASE("room group: five members join, share one epoch and safety code, and read each other",
          "[client][room]") {
  Room r(5);
  for (auto& p : r.people) {
    CHECK(p.group->epoch() == 1);
    CHECK(p.group->members().size() == 5);
    CHECK(p.group->safety_code() == r[0].group->safety_code());
    CHECK(p.group->is_facilitator(r[0].account));
    CHECK_FALSE(p.group->is_facilitator(r[1].account));
  }
  CHECK(r[0].group->safety_code().size() == 23);
  for (std::size_t from = 0; from < 5; ++from) {
    const Bytes text = to_bytes("from " + r[from].name);
    auto sealed = r[from].group->encrypt(text, r.rng);
    REQUIRE(sealed);
    for (std::size_t to = 0; to < 5; ++to) {
      if (to == from) continue;
      auto opened = r[to].group->decrypt(*sealed);
      INFO(r[to].name << " reads " << r[from].name);
      REQUIRE(opened);
      CHECK(opened->sender == r[from].account);
      CHECK(opened->content == text);
      // Read once: the key is gone.
      CHECK_FALSE(r[to].group->decrypt(*sealed));
    }
  }
}

TEST_CASE("room group: messages are padded so their length says little", "[client][room]") {
  Room r(2);
  // The signed content (text, signature, framing) is padded to a multiple
  // of 256 bytes: "ok" and a 100-byte line look the same; 400 bytes take
  // whole blocks more.
  auto tiny = r[0].group->encrypt(to_bytes("ok"), r.rng);
  auto longer = r[0].group->encrypt(Bytes(100, 'x'), r.rng);
  auto big = r[0].group->encrypt(Bytes(400, 'x'), r.rng);
  REQUIRE(tiny);
  REQUIRE(longer);
  REQUIRE(big);
  CHECK(tiny->size() == longer->size());
  CHECK(big->size() > longer->size());
  CHECK((big->size() - longer->size()) % kPaddingBlock == 0);
}

TEST_CASE("room group: a removed member cannot read what is sent afterwards", "[client][room]") {
  Room r(5);
  auto carol_before = r[2].group->clone();  // her state as it was, had she ignored the removal
  auto removal = r[0].group->remove({r[2].account}, r.rng, kNow);
  REQUIRE(removal);
  REQUIRE(removal->roster.size() == 1);
  CHECK(removal->roster[0].op == wire::RosterOp::Remove);
  CHECK(removal->roster[0].account == r[2].account);
  CHECK(removal->welcomes.empty());
  for (std::size_t i : {1u, 3u, 4u}) {
    auto change = r[i].group->apply(removal->commit, kNow);
    REQUIRE(change);
    CHECK(change->committer == r[0].account);
    CHECK(change->roster.size() == 1);
    CHECK_FALSE(change->removed_us);
    r[i].group = std::move(change->next);
  }
  auto carol = r[2].group->apply(removal->commit, kNow);
  REQUIRE(carol);
  CHECK(carol->removed_us);
  CHECK(carol->next.removed());
  r[0].group = std::move(removal->next);

  auto after = r[1].group->encrypt(to_bytes("said after carol left"), r.rng);
  REQUIRE(after);
  CHECK(r[3].group->decrypt(*after));
  auto with_removed = carol->next.decrypt(*after);
  REQUIRE_FALSE(with_removed);
  CHECK(with_removed.error() == mls::Error::WrongEpoch);  // she never gets the new epoch's keys
  auto with_old = carol_before.decrypt(*after);
  REQUIRE_FALSE(with_old);
  CHECK(with_old.error() == mls::Error::WrongEpoch);
  CHECK(r[1].group->members().size() == 4);
  CHECK_FALSE(r[1].group->member(r[2].account));
}

TEST_CASE("room group: members refuse forged, replayed, foreign and out-of-policy commits", "[client][room]") {
  Room r(4);
  // Bob is no facilitator: his own client will not even build an Add or Remove.
  auto bob_remove = r[1].group->remove({r[2].account}, r.rng, kNow);
  REQUIRE_FALSE(bob_remove);
  CHECK(bob_remove.error() == mls::Error::PolicyViolation);
  std::vector<wire::KeyPackageOk> none;
  test::SeededRng other(7);
  auto eve = person("eve", 9, other);
  auto bob_add = r[1].group->add({eve.publish(other)}, r.rng, kNow);
  REQUIRE_FALSE(bob_add);
  CHECK(bob_add.error() == mls::Error::PolicyViolation);
  // A KeyPackage whose answer names another account is refused before any commit.
  auto foreign = eve.publish(other);
  foreign.account = r[3].account;
  auto wrong_account = r[0].group->add({foreign}, r.rng, kNow);
  REQUIRE_FALSE(wrong_account);
  CHECK(wrong_account.error() == mls::Error::ForeignIdentity);

  auto refresh = r[1].group->refresh(r.rng, kNow);  // any member may refresh its keys
  REQUIRE(refresh);
  CHECK(refresh->roster.empty());
  // A tampered signature, and one byte cut off: refused, state unchanged.
  Bytes forged = refresh->commit;
  forged[forged.size() / 2] ^= 0x01;
  CHECK_FALSE(r[2].group->apply(forged, kNow));
  CHECK_FALSE(r[2].group->apply(BytesView(refresh->commit).first(refresh->commit.size() - 1), kNow));
  CHECK(r[2].group->epoch() == 1);
  // Our own commit coming back is not applied twice.
  auto own = r[1].group->apply(refresh->commit, kNow);
  REQUIRE_FALSE(own);
  CHECK(own.error() == mls::Error::InvalidCommit);
  // The real one works once; replayed, it is for a past epoch.
  auto applied = r[2].group->apply(refresh->commit, kNow);
  REQUIRE(applied);
  CHECK(applied->committer == r[1].account);
  auto replay = applied->next.apply(refresh->commit, kNow);
  REQUIRE_FALSE(replay);
  CHECK(replay.error() == mls::Error::WrongEpoch);
  // An application message is not a commit.
  auto message = r[0].group->encrypt(to_bytes("hi"), r.rng);
  REQUIRE(message);
  CHECK(r[2].group->apply(*message, kNow).error() == mls::Error::WrongWireFormat);
}

TEST_CASE("room group: a Welcome for none of our KeyPackages and garbage are refused", "[client][room]") {
  test::SeededRng rng(11);
  auto alice = person("alice", 1, rng);
  auto bob = person("bob", 2, rng);
  auto eve = person("eve", 3, rng);
  auto group = RoomGroup::create(kRoom, alice.account, alice.key, kNow, rng);
  REQUIRE(group);
  auto commit = group->add({bob.publish(rng)}, rng, kNow);
  REQUIRE(commit);
  REQUIRE(commit->welcomes.size() == 1);
  eve.publish(rng);
  auto not_eves = RoomGroup::join(commit->welcomes[0].welcome, eve.account, eve.key, eve.stored, kNow);
  REQUIRE_FALSE(not_eves);
  CHECK(not_eves.error() == mls::Error::InvalidWelcome);
  // Bob's KeyPackage stolen by Eve: the Welcome opens but the leaf is not hers.
  auto stolen = RoomGroup::join(commit->welcomes[0].welcome, eve.account, eve.key, bob.stored, kNow);
  REQUIRE_FALSE(stolen);
  for (std::size_t n = 0; n < 64; ++n) {
    Bytes junk(n);
    rng.fill(junk);
    CHECK_FALSE(RoomGroup::join(junk, bob.account, bob.key, bob.stored, kNow));
    CHECK_FALSE(group->decrypt(junk));
    CHECK_FALSE(group->apply(junk, kNow));
  }
  auto joined = RoomGroup::join(commit->welcomes[0].welcome, bob.account, bob.key, bob.stored, kNow);
  REQUIRE(joined);
  CHECK(joined->group.group_id() == kRoom);
}

TEST_CASE("room group: saved and loaded, a member goes on where it was", "[client][room]") {
  Room r(3);
  auto first = r[0].group->encrypt(to_bytes("before the restart"), r.rng);
  REQUIRE(first);
  REQUIRE(r[1].group->decrypt(*first));
  // Bob's device restarts.
  const Bytes saved = r[1].group->save();
  auto loaded = RoomGroup::load(saved, r[1].key);
  REQUIRE(loaded);
  CHECK(loaded->save() == saved);
  CHECK(loaded->epoch() == r[1].group->epoch());
  CHECK(loaded->safety_code() == r[0].group->safety_code());
  CHECK(loaded->members() == r[1].group->members());
  // What he read before is spent; what comes next opens.
  CHECK_FALSE(loaded->decrypt(*first));
  auto second = r[0].group->encrypt(to_bytes("after the restart"), r.rng);
  REQUIRE(second);
  auto opened = loaded->decrypt(*second);
  REQUIRE(opened);
  CHECK(opened->content == to_bytes("after the restart"));
  // His next message and commit are followed by the others.
  auto his = loaded->encrypt(to_bytes("I am back"), r.rng);
  REQUIRE(his);
  CHECK(r[2].group->decrypt(*his));
  auto refresh = loaded->refresh(r.rng, kNow);
  REQUIRE(refresh);
  auto applied = r[0].group->apply(refresh->commit, kNow);
  REQUIRE(applied);
  CHECK(applied->next.safety_code() == refresh->next.safety_code());
  // Another identity cannot load it; damaged bytes do not load.
  CHECK_FALSE(RoomGroup::load(saved, r[2].key));
  CHECK_FALSE(RoomGroup::load(BytesView(saved).first(saved.size() / 2), r[1].key));
}

TEST_CASE("room group: a facilitator promotes and demotes, members see the role change", "[client][room]") {
  Room r(3);
  CHECK_FALSE(r[1].group->is_facilitator(r[1].account));
  auto promote = r[0].group->set_role(r[1].account, true, r.rng, kNow);
  REQUIRE(promote);
  REQUIRE(promote->roster.size() == 1);
  CHECK(promote->roster[0].op == wire::RosterOp::SetRole);
  CHECK(promote->roster[0].account == r[1].account);
  CHECK(promote->roster[0].role == wire::Role::Facilitator);
  auto seen = r[2].group->apply(promote->commit, kNow);
  REQUIRE(seen);
  CHECK(seen->roster == promote->roster);
  CHECK(seen->next.is_facilitator(r[1].account));
  auto bobs = r[1].group->apply(promote->commit, kNow);
  REQUIRE(bobs);
  r[0].group = std::move(promote->next);
  r[1].group = std::move(bobs->next);
  r[2].group = std::move(seen->next);
  // Bob, a facilitator now, may remove; Carol, a member, may not promote herself.
  CHECK(r[1].group->remove({r[2].account}, r.rng, kNow));
  auto self_promote = r[2].group->set_role(r[2].account, true, r.rng, kNow);
  REQUIRE_FALSE(self_promote);
  CHECK(self_promote.error() == mls::Error::PolicyViolation);
  // Already the role, or no member: refused before any commit.
  CHECK(r[0].group->set_role(r[1].account, true, r.rng, kNow).error() == mls::Error::InvalidProposal);
  CHECK(r[0].group->set_role(AccountId{Bytes(16, 0x77)}, true, r.rng, kNow).error() == mls::Error::InvalidProposal);
  // Demoted again; the last facilitator cannot demote itself.
  auto demote = r[0].group->set_role(r[1].account, false, r.rng, kNow);
  REQUIRE(demote);
  CHECK(demote->roster.at(0).role == wire::Role::Member);
  auto alone = demote->next.set_role(r[0].account, false, r.rng, kNow);
  REQUIRE_FALSE(alone);
  CHECK(alone.error() == mls::Error::PolicyViolation);
}
