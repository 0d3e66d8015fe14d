// SPDX-License-Identifier: Apache-2.0
// GroupState::serialize / load: a saved member continues exactly where it
// was (epoch, ratchet positions, past epochs, cached proposals, pending
// Updates, removal), and hostile bytes give an error, never a crash.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "common/mls/secret_tree.h"
#include "tests/unit/mls/room_fixture.h"

using namespace hearth;
using namespace hearth::mls;
using namespace hearth::mls::testing;

namespace {

Bytes to_vec(BytesView v) { return Bytes(v.begin(), v.end()); }

template <class E, class T>
bool has_event(const std::vector<T>& events) {
  return std::any_of(events.begin(), events.end(), [](const T& e) { return std::holds_alternative<E>(e); });
}

// The codec tests' room (room_fixture.h), and reloading a member from bytes.
struct Room : TestRoom {
  explicit Room(std::uint64_t seed) : TestRoom(seed, "state-room") {}
  MlsResult<GroupState> reload(std::size_t who, const Bytes& saved) {
    return GroupState::load(saved, people[who].signing_key(), RolePolicy::Hearth);
  }
};

// The generation a PrivateMessage's SenderData names (RFC 9420 §6.3.2).
std::uint32_t sender_generation(const MlsMessage& m, BytesView sender_data_secret) {
  const auto* pm = std::get_if<PrivateMessage>(&m.body);
  REQUIRE(pm != nullptr);
  Writer aad;  // SenderDataAAD
  aad.opaque(pm->group_id);
  aad.u64(pm->epoch);
  aad.u8(static_cast<std::uint8_t>(pm->content_type));
  const SenderDataKey key = sender_data_key(sender_data_secret, pm->ciphertext);
  auto plain = crypto::aead_open(key.key.view(), key.nonce, aad.bytes(), pm->encrypted_sender_data);
  REQUIRE(plain.has_value());
  REQUIRE(plain->size() >= 8);
  return get_u32(BytesView(*plain).subspan(4));
}

// A member state with a bit of everything: four members, two past epochs,
// a skipped key in the window, its own pending Update and a cached Add.
struct BusyState {
  Room room{303};
  std::size_t owner = 2;  // carol
  Bytes saved;

  BusyState() {
    room.add({"bob", "carol", "dave"});
    room.commit_update(1);
    (void)room.say(1, "one");
    (void)room.say(1, "two");
    const MlsMessage third = room.say(1, "three");
    REQUIRE(outcome(room.at(owner).unprotect(third)) == "ok");
    auto proposed = room.at(owner).propose_update(room.rng);
    REQUIRE(outcome(proposed) == "ok");
    room.states[owner] = std::move(proposed->next);
    room.deliver(*proposed->message, owner);
    saved = room.at(owner).serialize();
  }
};

}  // namespace

TEST_CASE("group state codec: a saved member continues exactly where it was", "[mls][state]") {
  Room room(101);
  const auto added = room.add({"bob", "carol", "dave", "erin"});
  const std::size_t bob = added[0];
  const std::size_t carol = added[1];
  const std::size_t dave = added[2];
  const std::size_t erin = added[3];

  auto removal = room.at(0).remove({room.at(dave).own_leaf()}, room.rng, test_env());
  REQUIRE(outcome(removal) == "ok");
  room.adopt(0, std::move(*removal));
  REQUIRE(room.at(dave).is_removed());

  // Sent in epoch 2, read by carol only after the restart, from a past epoch.
  const MlsMessage late = room.say(erin, "late from erin");
  const std::uint64_t late_epoch = room.at(erin).epoch();
  room.commit_update(bob);

  // Bob's ratchet mid-way at carol's: the third read, then the first, the
  // second's key waiting in the window.
  const MlsMessage m1 = room.say(bob, "one");
  const MlsMessage m2 = room.say(bob, "two");
  const MlsMessage m3 = room.say(bob, "three");
  REQUIRE(outcome(room.at(carol).unprotect(m3)) == "ok");
  REQUIRE(outcome(room.at(carol).unprotect(m1)) == "ok");
  // Carol's own ratchet moved too.
  const MlsMessage from_carol = room.say(carol, "carol before the restart");
  for (const std::size_t i : {std::size_t{0}, bob, erin}) REQUIRE(outcome(room.at(i).unprotect(from_carol)) == "ok");

  // Two proposals not yet committed: carol's own Update (its key pending in
  // her state) and an Add of frank by alice.
  auto update = room.at(carol).propose_update(room.rng);
  REQUIRE(outcome(update) == "ok");
  room.states[carol] = std::move(update->next);
  room.deliver(*update->message, carol);
  const std::size_t frank = room.add_person("frank");
  KeyPackageBundle frank_kp = make_key_package(room.people[frank], room.rng);
  auto add = room.at(0).propose_add(frank_kp.key_package, test_env());
  REQUIRE(outcome(add) == "ok");
  room.states[0] = std::move(add->next);
  room.deliver(*add->message, 0);
  REQUIRE(room.at(carol).public_group().proposals().size() == 2);

  const Bytes saved = room.at(carol).serialize();
  auto loaded = room.reload(carol, saved);
  REQUIRE(outcome(loaded) == "ok");
  CHECK(loaded->serialize() == saved);
  CHECK(room.at(carol).serialize() == saved);

  const GroupState& before = room.at(carol);
  CHECK(loaded->epoch() == before.epoch());
  CHECK(loaded->own_leaf() == before.own_leaf());
  CHECK(loaded->public_group() == before.public_group());
  CHECK(loaded->roles() == before.roles());
  CHECK(loaded->members() == before.members());
  CHECK_FALSE(loaded->is_removed());
  CHECK(to_vec(loaded->epoch_authenticator()) == to_vec(before.epoch_authenticator()));
  const auto exported = loaded->export_secret(as_bytes("x"), as_bytes("y"), 32);
  const auto exported_before = before.export_secret(as_bytes("x"), as_bytes("y"), 32);
  REQUIRE(exported.has_value());
  REQUIRE(exported_before.has_value());
  CHECK(to_vec(exported->view()) == to_vec(exported_before->view()));
  for (std::uint64_t e = late_epoch - 1; e <= before.epoch(); ++e) {
    const auto a = loaded->resumption_psk(e);
    const auto b = before.resumption_psk(e);
    REQUIRE(a.has_value() == b.has_value());
    if (a) CHECK(to_vec(a->view()) == to_vec(b->view()));
  }

  // The restart: from here on only the loaded state exists.
  room.states[carol] = std::move(*loaded);

  auto got2 = room.at(carol).unprotect(m2);
  REQUIRE(outcome(got2) == "ok");
  CHECK(got2->data == to_bytes("two"));
  CHECK(room.at(carol).unprotect(m1).error() == Error::GenerationExpired);
  CHECK(room.at(carol).unprotect(m3).error() == Error::GenerationExpired);
  auto got_late = room.at(carol).unprotect(late);
  REQUIRE(outcome(got_late) == "ok");
  CHECK(got_late->epoch == late_epoch);
  CHECK(got_late->data == to_bytes("late from erin"));
  room.check_everyone_reads_everyone();

  // Alice commits the cached proposals: carol needs her pending Update key.
  auto pending = room.at(0).commit(CommitOptions{}, room.rng, test_env());
  REQUIRE(outcome(pending) == "ok");
  CHECK(has_event<MemberUpdated>(pending->events));
  CHECK(has_event<MemberAdded>(pending->events));
  std::vector<std::pair<std::size_t, KeyPackageBundle>> joiners;
  joiners.emplace_back(frank, std::move(frank_kp));
  room.adopt(0, std::move(*pending), joiners);
  room.check_agree();
  room.check_everyone_reads_everyone();

  // Carol commits; everyone follows.
  room.commit_update(carol);
  room.check_agree();
  room.check_everyone_reads_everyone();
  CHECK(room.members().size() == 5);
}

TEST_CASE("group state codec: everyone restarts after every step of a seeded run", "[mls][state]") {
  Room room(909);
  room.add({"bob", "carol", "dave"});
  const auto restart_everyone = [&] {
    for (std::size_t i = 0; i < room.states.size(); ++i) {
      if (!room.states[i]) continue;
      const Bytes saved = room.at(i).serialize();
      auto loaded = room.reload(i, saved);
      INFO(to_string_bytes(room.people[i].name) << " at epoch " << room.at(i).epoch());
      REQUIRE(outcome(loaded) == "ok");
      CHECK(loaded->serialize() == saved);
      room.states[i] = std::move(*loaded);
    }
  };
  const auto pick = [&](const std::vector<std::size_t>& from) { return from[room.rng.below(from.size())]; };
  int next_name = 0;
  std::vector<int> ran(5, 0);
  for (int step = 0; step < 40; ++step) {
    const auto members = room.members();
    const std::size_t kind = room.rng.below(5);
    ++ran[kind];
    switch (kind) {
      case 0: {  // a few messages, read by some members in a shuffled order
        std::vector<MlsMessage> sent;
        for (int i = 0; i < 3; ++i) sent.push_back(room.say(pick(members), "m" + std::to_string(step)));
        for (const std::size_t reader : members) {
          for (std::size_t k = sent.size(); k > 0; --k) {
            const MlsMessage& m = sent[room.rng.below(sent.size())];
            (void)room.at(reader).unprotect(m);  // own messages and repeats fail; others open
          }
        }
        break;
      }
      case 1: room.commit_update(pick(members)); break;
      case 2:
        if (members.size() < 7) room.add({"joiner-" + std::to_string(next_name++)});
        break;
      case 3: {
        std::vector<std::size_t> others(members.begin() + 1, members.end());
        if (others.size() < 3) break;
        const std::size_t leaving = pick(others);
        auto pending = room.at(0).remove({room.at(leaving).own_leaf()}, room.rng, test_env());
        REQUIRE(outcome(pending) == "ok");
        room.adopt(0, std::move(*pending));
        break;
      }
      default: {  // an Update proposed, saved while pending, committed by alice
        std::vector<std::size_t> others(members.begin() + 1, members.end());
        const std::size_t proposer = pick(others);
        auto proposed = room.at(proposer).propose_update(room.rng);
        REQUIRE(outcome(proposed) == "ok");
        room.states[proposer] = std::move(proposed->next);
        room.deliver(*proposed->message, proposer);
        restart_everyone();
        auto pending = room.at(0).commit(CommitOptions{}, room.rng, test_env());
        REQUIRE(outcome(pending) == "ok");
        room.adopt(0, std::move(*pending));
        break;
      }
    }
    restart_everyone();
  }
  // The seed runs every kind of step; a removed member was restarted too.
  CHECK(std::count(ran.begin(), ran.end(), 0) == 0);
  CHECK(room.members().size() < room.states.size());
  room.check_agree();
  room.check_everyone_reads_everyone();
}

TEST_CASE("group state codec: a generation used before saving is not used again after loading", "[mls][state]") {
  crypto::init();
  SeededRng rng(202);
  const Identity alice = make_identity("alice", rng);
  const Identity bob = make_identity("bob", rng);
  auto alice_state = create_room(alice, as_bytes("gen-room"), rng);
  REQUIRE(outcome(alice_state) == "ok");
  const KeyPackageBundle bob_kp = make_key_package(bob, rng);
  auto pending = alice_state->add({bob_kp.key_package}, rng, test_env());
  REQUIRE(outcome(pending) == "ok");
  GroupState a = std::move(pending->next);
  const MlsMessage welcome = over_the_wire(*pending->welcome);
  auto joined = join_room(welcome, bob_kp, bob);
  REQUIRE(outcome(joined) == "ok");
  GroupState b = std::move(*joined);
  // The joiner's view of the epoch's secrets, to read SenderData generations.
  auto keys = epoch_keys_from_welcome(std::get<Welcome>(welcome.body), bob_kp);
  REQUIRE(outcome(keys) == "ok");
  const BytesView sender_data_secret = keys->secrets.sender_data_secret.view();

  auto m1 = b.protect(as_bytes("one"), {}, rng);
  REQUIRE(outcome(m1) == "ok");
  auto m1b = b.protect(as_bytes("one and a half"), {}, rng);
  REQUIRE(outcome(m1b) == "ok");
  CHECK(sender_generation(*m1, sender_data_secret) == 0);
  CHECK(sender_generation(*m1b, sender_data_secret) == 1);
  REQUIRE(outcome(a.unprotect(*m1)) == "ok");
  REQUIRE(outcome(a.unprotect(*m1b)) == "ok");

  auto b_loaded = GroupState::load(b.serialize(), bob.signing_key(), RolePolicy::Hearth);
  REQUIRE(outcome(b_loaded) == "ok");
  auto m2 = b_loaded->protect(as_bytes("two"), {}, rng);
  REQUIRE(outcome(m2) == "ok");
  CHECK(sender_generation(*m2, sender_data_secret) == 2);
  // Alice has spent generations 0 and 1: a reused one would be refused.
  auto got = a.unprotect(*m2);
  REQUIRE(outcome(got) == "ok");
  CHECK(got->data == to_bytes("two"));

  // A receiver saved after reading a message refuses it after loading.
  auto a_loaded = GroupState::load(a.serialize(), alice.signing_key(), RolePolicy::Hearth);
  REQUIRE(outcome(a_loaded) == "ok");
  CHECK(a_loaded->unprotect(*m1).error() == Error::GenerationExpired);
  CHECK(a_loaded->unprotect(*m2).error() == Error::GenerationExpired);
  // And the loaded sender goes on from there.
  auto m3 = b_loaded->protect(as_bytes("three"), {}, rng);
  REQUIRE(outcome(m3) == "ok");
  CHECK(sender_generation(*m3, sender_data_secret) == 3);
  CHECK(outcome(a_loaded->unprotect(*m3)) == "ok");
}

TEST_CASE("group state codec: states at creation and right after joining round-trip", "[mls][state]") {
  Room room(404);
  {
    const Bytes saved = room.at(0).serialize();
    auto loaded = room.reload(0, saved);
    REQUIRE(outcome(loaded) == "ok");
    CHECK(loaded->serialize() == saved);
    CHECK(loaded->epoch() == 0);
    room.states[0] = std::move(*loaded);
  }
  const auto added = room.add({"bob"});
  const Bytes saved = room.at(added[0]).serialize();
  auto loaded = room.reload(added[0], saved);
  REQUIRE(outcome(loaded) == "ok");
  CHECK(loaded->serialize() == saved);
  room.states[added[0]] = std::move(*loaded);
  room.check_agree();
  room.check_everyone_reads_everyone();
  room.commit_update(added[0]);
  room.check_agree();
  room.check_everyone_reads_everyone();
}

TEST_CASE("group state codec: a removed member's state round-trips", "[mls][state]") {
  Room room(505);
  const auto added = room.add({"bob", "carol"});
  const std::size_t bob = added[0];
  const std::size_t carol = added[1];
  const MlsMessage before_removal = room.say(bob, "sent before the removal");
  auto removal = room.at(0).remove({room.at(carol).own_leaf()}, room.rng, test_env());
  REQUIRE(outcome(removal) == "ok");
  room.adopt(0, std::move(*removal));
  REQUIRE(room.at(carol).is_removed());

  const Bytes saved = room.at(carol).serialize();
  auto loaded = room.reload(carol, saved);
  REQUIRE(outcome(loaded) == "ok");
  CHECK(loaded->is_removed());
  CHECK(loaded->serialize() == saved);
  CHECK(loaded->epoch() == room.at(carol).epoch());
  // Still reads what was sent before the removal; sends and reads nothing new.
  auto got = loaded->unprotect(before_removal);
  REQUIRE(outcome(got) == "ok");
  CHECK(got->data == to_bytes("sent before the removal"));
  CHECK(loaded->protect(as_bytes("x"), {}, room.rng).error() == Error::Removed);
  CHECK(loaded->unprotect(room.say(0, "after")).error() == Error::WrongEpoch);
}

TEST_CASE("group state codec: the signing key must be the own leaf's", "[mls][state]") {
  BusyState busy;
  Room& room = busy.room;
  CHECK(GroupState::load(busy.saved, room.people[0].signing_key(), RolePolicy::Hearth).error() ==
        Error::InvalidLeafNode);
  // A key whose public half was patched to the leaf's but whose secret is another's.
  crypto::SigningKey patched = room.people[0].signing_key();
  patched.public_key = room.people[busy.owner].key.public_key;
  CHECK(GroupState::load(busy.saved, std::move(patched), RolePolicy::Hearth).error() == Error::InvalidLeafNode);
  CHECK(outcome(room.reload(busy.owner, busy.saved)) == "ok");
}

TEST_CASE("group state codec: every truncation and an extra byte are refused", "[mls][state]") {
  BusyState busy;
  const Bytes& saved = busy.saved;
  const std::size_t stride = saved.size() > 40000 ? 7 : 1;
  std::vector<std::size_t> accepted;
  std::size_t tried = 0;
  for (std::size_t n = 0; n < saved.size(); n += stride) {
    ++tried;
    auto loaded = busy.room.reload(busy.owner, Bytes(saved.begin(), saved.begin() + static_cast<std::ptrdiff_t>(n)));
    if (loaded) accepted.push_back(n);
  }
  CHECK(tried > 1000);
  CHECK(accepted.empty());
  CHECK(busy.room.reload(busy.owner, {}).error() == Error::Truncated);
  CHECK(busy.room.reload(busy.owner, Bytes(saved.begin(), saved.end() - 1)).error() == Error::Truncated);
  Bytes longer = saved;
  longer.push_back(0);
  CHECK(busy.room.reload(busy.owner, longer).error() == Error::TrailingBytes);
}

TEST_CASE("group state codec: an unknown format version is InvalidValue", "[mls][state]") {
  BusyState busy;
  REQUIRE(get_u32(busy.saved) >> 16 == kGroupStateFormat);
  for (const std::uint16_t version : {std::uint16_t{0}, std::uint16_t{2}, std::uint16_t{0xffff}}) {
    Bytes other = busy.saved;
    other[0] = static_cast<std::uint8_t>(version >> 8);
    other[1] = static_cast<std::uint8_t>(version);
    CHECK(busy.room.reload(busy.owner, other).error() == Error::InvalidValue);
  }
}

TEST_CASE("group state codec: hostile counts are refused before anything is allocated", "[mls][state]") {
  // A new room's state ends with two empty lists: pending Updates, past epochs.
  Room room(606);
  const Bytes saved = room.at(0).serialize();
  REQUIRE(saved.size() > 2);
  REQUIRE(saved[saved.size() - 2] == 0);
  REQUIRE(saved[saved.size() - 1] == 0);
  const auto with_tail = [&](std::size_t keep, const Bytes& tail) {
    Bytes out(saved.begin(), saved.begin() + static_cast<std::ptrdiff_t>(keep));
    out.insert(out.end(), tail.begin(), tail.end());
    return out;
  };
  const Bytes huge = encode_varint(kMaxVarint);  // 2^30 - 1 items
  const std::size_t n = saved.size();
  CHECK(room.reload(0, with_tail(n - 1, huge)).error() == Error::InvalidValue);
  CHECK(room.reload(0, with_tail(n - 1, encode_varint(kMaxPastEpochs + 1))).error() == Error::InvalidValue);
  CHECK(room.reload(0, with_tail(n - 1, encode_varint(kMaxPastEpochs))).error() == Error::Truncated);
  CHECK(room.reload(0, with_tail(n - 2, huge)).error() == Error::InvalidValue);
  CHECK(room.reload(0, with_tail(n - 2, encode_varint(kMaxProposalsPerEpoch))).error() == Error::Truncated);

  // The largest count at every position of a fuller state: an error or a
  // state, quickly, whatever field it lands in.
  BusyState busy;
  std::size_t refused = 0;
  for (std::size_t at = 0; at + huge.size() <= busy.saved.size(); ++at) {
    Bytes hostile = busy.saved;
    std::copy(huge.begin(), huge.end(), hostile.begin() + static_cast<std::ptrdiff_t>(at));
    if (!busy.room.reload(busy.owner, hostile)) ++refused;
  }
  INFO(refused << " of " << busy.saved.size() << " positions refused");
  CHECK(refused > 0);
}

TEST_CASE("group state codec: random byte flips give an error or a usable state", "[mls][state]") {
  BusyState busy;
  Room& room = busy.room;
  SeededRng flips(707);
  std::size_t refused = 0;
  std::size_t accepted = 0;
  for (int round = 0; round < 1500; ++round) {
    Bytes hostile = busy.saved;
    const std::size_t n_flips = 1 + flips.below(3);
    for (std::size_t i = 0; i < n_flips; ++i) {
      hostile[flips.below(hostile.size())] ^= static_cast<std::uint8_t>(1 + flips.below(255));
    }
    auto loaded = room.reload(busy.owner, hostile);
    if (!loaded) {
      ++refused;
      continue;
    }
    // Whatever was accepted behaves like a state: it saves, and it sends or
    // refuses with an error.
    ++accepted;
    const Bytes again = loaded->serialize();
    CHECK(outcome(room.reload(busy.owner, again)) == "ok");
    (void)loaded->protect(as_bytes("after a flip"), {}, room.rng);
  }
  CHECK(refused + accepted == 1500);
  CHECK(refused > 0);
}

TEST_CASE("group state codec: the size of a 10- and a 50-member state", "[mls][state]") {
  for (const std::size_t members : {std::size_t{10}, std::size_t{50}}) {
    Room room(808 + members);
    std::vector<std::string> names;
    for (std::size_t i = 1; i < members; ++i) names.push_back("member-" + std::to_string(i));
    room.add(names, false);
    // kMaxPastEpochs epochs retained, and a message sent in each.
    for (std::size_t i = 0; i < kMaxPastEpochs; ++i) {
      (void)room.say(0, "hello");
      auto p = room.at(0).update(room.rng, test_env());
      REQUIRE(outcome(p) == "ok");
      room.states[0] = std::move(p->next);
    }
    const Bytes saved = room.at(0).serialize();
    auto loaded = room.reload(0, saved);
    REQUIRE(outcome(loaded) == "ok");
    CHECK(loaded->members().size() == members);
    CHECK(loaded->serialize() == saved);
    // A bound that catches a format gone quadratic; the value is the report.
    INFO(members << " members: " << saved.size() << " bytes");
    CHECK(saved.size() < members * 2000);
  }
}
