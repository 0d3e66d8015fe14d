// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "client/core/key_packages.h"
#include "client/core/room_crypto.h"
#include "common/wire/codec.h"
#include "tests/support/seeded_rng.h"

using namespace hearth;
using namespace hearth::client;

namespace {

constexpr std::uint64_t kNow = 1'900'000'000;
const RoomId kRoom{Bytes(32, 0x51)};

struct Device {
  AccountId account;
  crypto::SigningKey key;
  std::vector<StoredKeyPackage> stored;
  wire::KeyPackageOk publish(Rng& rng) {
    auto made = make_key_package(account, key, false, kNow, KeyPackagePolicy{}, rng);
    stored.push_back(made.stored);
    return wire::KeyPackageOk{account, Bytes(key.public_key.begin(), key.public_key.end()), made.published, false};
  }
  [[nodiscard]] GroupSelf self() const { return GroupSelf{account, key, stored}; }
};

Device device(std::uint8_t id, Rng& rng) {
  Bytes seed(32);
  rng.fill(seed);
  return Device{AccountId{Bytes(16, id)}, crypto::ed25519_from_seed(seed).value(), {}};
}

wire::Deliver envelope(wire::EnvelopeKind kind, std::uint64_t seq, const AccountId& sender, std::uint64_t epoch,
                       Bytes payload) {
  wire::Deliver d;
  d.room = kRoom;
  d.seq = Seq{seq};
  d.kind = kind;
  d.sender = sender;
  d.envelope_id = EnvelopeId{Bytes(16, static_cast<std::uint8_t>(seq))};
  d.epoch = Epoch{epoch};
  d.timestamp_ms = 1000;
  d.payload = std::move(payload);
  return d;
}

/// Alice's room with Bob just added: the commit, its Welcome, Alice's next state.
struct TwoOfUs {
  Device alice;
  Device bob;
  std::optional<RoomCommit> add;
};

TwoOfUs two_of_us(Rng& rng) {
  TwoOfUs t{device(1, rng), device(2, rng), std::nullopt};
  auto group = RoomGroup::create(kRoom, t.alice.account, t.alice.key, kNow, rng);
  REQUIRE(group);
  auto add = group->add({t.bob.publish(rng)}, rng, kNow);
  REQUIRE(add);
  t.add.emplace(std::move(*add));
  return t;
}

Bytes text_content(std::string_view text) {
  return encode_content(Content{ContentId{Bytes(kContentIdSize, 0x11)}, 7, ContentText{std::string(text), std::nullopt}});
}

template <class E>
const E* only(const GroupEffects& fx) {
  REQUIRE(fx.events.size() == 1);
  return std::get_if<E>(&fx.events[0]);
}

}  // namespace

TEST_CASE("room crypto: a joiner takes the commit, then its Welcome, then reads", "[client][room]") {
  test::SeededRng rng(5);
  auto two = two_of_us(rng);
  auto& [alice, bob, add] = two;
  RoomGroup alices = std::move(add->next);

  // The commit that added Bob reaches him first: no group yet, nothing to do.
  auto commit = process_group(std::nullopt, envelope(wire::EnvelopeKind::Handshake, 1, alice.account, 0, add->commit),
                              bob.self(), kNow);
  CHECK_FALSE(commit.group);
  CHECK(commit.events.empty());
  // Then the Welcome.
  auto joined = process_group(std::nullopt,
                              envelope(wire::EnvelopeKind::Welcome, 2, alice.account, 0, add->welcomes[0].welcome),
                              bob.self(), kNow);
  REQUIRE(joined.group);
  const auto* in = only<RoomJoined>(joined);
  REQUIRE(in);
  CHECK(in->role == wire::Role::Member);
  CHECK(joined.used_key_package == bob.stored[0].ref);
  REQUIRE(joined.seen_keys.size() == 1);  // Alice's key, to check against Bob's pin
  CHECK(joined.seen_keys[0].first == alice.account);
  REQUIRE(joined.write.group_state);
  CHECK(joined.group->epoch() == 1);
  // A second copy of the Welcome changes nothing.
  auto again = process_group(joined.group->clone(),
                             envelope(wire::EnvelopeKind::Welcome, 3, alice.account, 0, add->welcomes[0].welcome),
                             bob.self(), kNow);
  CHECK(again.events.empty());
  CHECK_FALSE(again.used_key_package);

  auto sealed = alices.encrypt(text_content("welcome, Bob"), rng);
  REQUIRE(sealed);
  auto read = process_group(std::move(joined.group),
                            envelope(wire::EnvelopeKind::Application, 4, alice.account, 1, *sealed), bob.self(), kNow);
  const auto* m = only<MessageReceived>(read);
  REQUIRE(m);
  const auto* text = std::get_if<ContentText>(&m->content.body);
  REQUIRE(text);
  CHECK(text->text == "welcome, Bob");
  CHECK(m->sender == alice.account);
  CHECK(read.write.payload == text_content("welcome, Bob"));  // the plaintext Content is what is kept
  CHECK(read.write.group_state);
}

TEST_CASE("room crypto: every envelope the group cannot take is an event with a reason", "[client][room]") {
  test::SeededRng rng(6);
  auto two = two_of_us(rng);
  auto& [alice, bob, add] = two;
  auto carol = device(3, rng);
  RoomGroup alices = std::move(add->next);
  auto bobs = RoomGroup::join(add->welcomes[0].welcome, bob.account, bob.key, bob.stored, kNow);
  REQUIRE(bobs);

  auto sealed = alices.encrypt(text_content("hello"), rng);
  REQUIRE(sealed);
  // No group for the room on this device.
  auto keyless = process_group(std::nullopt, envelope(wire::EnvelopeKind::Application, 5, alice.account, 1, *sealed),
                               bob.self(), kNow);
  const auto* f = only<DecryptionFailed>(keyless);
  REQUIRE(f);
  CHECK(f->reason.find("no keys") != std::string::npos);
  CHECK(keyless.write.payload == Bytes{});  // the ciphertext is not kept
  // The relay names Carol as the sender of Alice's message.
  auto misnamed = process_group(bobs->group.clone(),
                                envelope(wire::EnvelopeKind::Application, 5, carol.account, 1, *sealed), bob.self(),
                                kNow);
  REQUIRE(only<DecryptionFailed>(misnamed));
  CHECK(only<DecryptionFailed>(misnamed)->reason.find("sender") != std::string::npos);
  // Garbage.
  auto junk = process_group(bobs->group.clone(),
                            envelope(wire::EnvelopeKind::Application, 6, alice.account, 1, Bytes{1, 2, 3}),
                            bob.self(), kNow);
  REQUIRE(only<DecryptionFailed>(junk));
  CHECK_FALSE(junk.write.group_state);
  // A commit for an epoch Bob has not reached, and a forged one.
  auto next = alices.refresh(rng, kNow);
  REQUIRE(next);
  auto ahead = process_group(bobs->group.clone(),
                             envelope(wire::EnvelopeKind::Handshake, 7, alice.account, 2, next->commit), bob.self(),
                             kNow);
  REQUIRE(only<DecryptionFailed>(ahead));
  Bytes forged = next->commit;
  forged[forged.size() / 2] ^= 0x01;
  auto bad = process_group(bobs->group.clone(), envelope(wire::EnvelopeKind::Handshake, 7, alice.account, 1, forged),
                           bob.self(), kNow);
  REQUIRE(only<DecryptionFailed>(bad));
  REQUIRE(bad.group);
  CHECK(bad.group->epoch() == 1);  // unchanged
  // The real commit moves Bob on; Alice's own, coming back, changes nothing for her.
  auto applied = process_group(bobs->group.clone(),
                               envelope(wire::EnvelopeKind::Handshake, 7, alice.account, 1, next->commit), bob.self(),
                               kNow);
  const auto* changed = only<RosterChanged>(applied);
  REQUIRE(changed);
  CHECK(changed->by == alice.account);
  CHECK(changed->epoch == 2);
  CHECK(changed->changes.empty());  // keys refreshed, nobody added or removed
  REQUIRE(applied.group);
  CHECK(applied.group->epoch() == 2);
  auto own = process_group(std::move(next->next),
                           envelope(wire::EnvelopeKind::Handshake, 7, alice.account, 1, next->commit), alice.self(),
                           kNow);
  CHECK(own.events.empty());
  CHECK_FALSE(own.write.group_state);
  // Content that is no hearth.v1.Content opens, but is an event, not a message.
  auto not_content = alices.encrypt(Bytes{0xff, 0xff, 0xff}, rng);
  REQUIRE(not_content);
  auto unreadable = process_group(bobs->group.clone(),
                                  envelope(wire::EnvelopeKind::Application, 9, alice.account, 1, *not_content),
                                  bob.self(), kNow);
  REQUIRE(only<DecryptionFailed>(unreadable));
  CHECK(only<DecryptionFailed>(unreadable)->reason.find("content") != std::string::npos);
  CHECK(unreadable.write.group_state);  // the ratchet step is kept all the same
  CHECK(unreadable.write.payload == Bytes{});
  // A Welcome for none of Carol's KeyPackages.
  auto not_hers = process_group(std::nullopt,
                                envelope(wire::EnvelopeKind::Welcome, 8, alice.account, 0, add->welcomes[0].welcome),
                                carol.self(), kNow);
  REQUIRE(only<DecryptionFailed>(not_hers));
  CHECK_FALSE(not_hers.group);
}

TEST_CASE("room crypto: a leave proposal is cached, the commit carrying it out removes the leaver", "[client][room]") {
  test::SeededRng rng(8);
  auto two = two_of_us(rng);
  auto& [alice, bob, add] = two;
  RoomGroup alices = std::move(add->next);
  auto bobs = RoomGroup::join(add->welcomes[0].welcome, bob.account, bob.key, bob.stored, kNow);
  REQUIRE(bobs);

  auto leave = bobs->group.propose_leave();
  REQUIRE(leave);
  auto asked = process_group(std::move(alices), envelope(wire::EnvelopeKind::Handshake, 3, bob.account, 1, leave->proposal),
                             alice.self(), kNow);
  const auto* req = only<LeaveRequested>(asked);
  REQUIRE(req);
  CHECK(req->account == bob.account);
  CHECK(asked.leave_from == bob.account);
  REQUIRE(asked.group);
  CHECK(asked.group->epoch() == 1);  // a proposal does not move the epoch
  CHECK(asked.write.group_state);    // the cached proposal is part of the state

  // Alice's next commit carries it out; Bob, applying it, is out.
  auto commit = asked.group->refresh(rng, kNow);
  REQUIRE(commit);
  REQUIRE(commit->roster.size() == 1);
  CHECK(commit->roster[0].op == wire::RosterOp::Remove);
  CHECK(commit->roster[0].account == bob.account);
  auto bobs_view = process_group(std::move(leave->next),
                                 envelope(wire::EnvelopeKind::Handshake, 4, alice.account, 1, commit->commit),
                                 bob.self(), kNow);
  CHECK(bobs_view.removed);
  CHECK_FALSE(bobs_view.group);
  CHECK_FALSE(bobs_view.write.group_state);
  REQUIRE(bobs_view.events.size() == 2);
  CHECK(std::holds_alternative<RosterChanged>(bobs_view.events[0]));
  CHECK(std::holds_alternative<RoomLeft>(bobs_view.events[1]));

  // Only a member's own removal travels alone: Alice cannot propose Bob's.
  auto forged_leave = process_group(commit->next.clone(),
                                    envelope(wire::EnvelopeKind::Handshake, 5, bob.account, 2, leave->proposal), alice.self(),
                                    kNow);
  REQUIRE(only<DecryptionFailed>(forged_leave));
}

TEST_CASE("room crypto: a member stuck on an old epoch is re-added by a Welcome that replaces its state",
          "[client][room]") {
  test::SeededRng rng(9);
  auto two = two_of_us(rng);
  auto& [alice, bob, add] = two;
  RoomGroup alices = std::move(add->next);
  auto bobs = RoomGroup::join(add->welcomes[0].welcome, bob.account, bob.key, bob.stored, kNow);
  REQUIRE(bobs);
  RoomGroup stuck = bobs->group.clone();  // Bob never gets past epoch 1

  // Alice removes Bob and adds him again with a fresh KeyPackage.
  auto removed = alices.remove({bob.account}, rng, kNow);
  REQUIRE(removed);
  auto readd = removed->next.add({bob.publish(rng)}, rng, kNow);
  REQUIRE(readd);
  auto back = process_group(std::move(stuck),
                            envelope(wire::EnvelopeKind::Welcome, 9, alice.account, 2, readd->welcomes[0].welcome),
                            bob.self(), kNow);
  REQUIRE(back.group);
  CHECK(back.group->epoch() == 3);
  CHECK(only<RoomJoined>(back));
  CHECK(back.write.group_state);
  CHECK(back.used_key_package == bob.stored.back().ref);
  // And reads the room again.
  RoomGroup now = std::move(readd->next);
  auto sealed = now.encrypt(text_content("welcome back"), rng);
  REQUIRE(sealed);
  auto read = process_group(std::move(back.group),
                            envelope(wire::EnvelopeKind::Application, 10, alice.account, 3, *sealed), bob.self(), kNow);
  REQUIRE(only<MessageReceived>(read));
}

TEST_CASE("room crypto: a reset's Welcome switches to the new group, but only from a facilitator", "[client][room]") {
  test::SeededRng rng(10);
  auto two = two_of_us(rng);
  auto& [alice, bob, add] = two;
  RoomGroup alices = std::move(add->next);
  auto bobs = RoomGroup::join(add->welcomes[0].welcome, bob.account, bob.key, bob.stored, kNow);
  REQUIRE(bobs);

  // Alice, the facilitator, starts a fresh group for the room and adds Bob.
  const RoomId fresh{Bytes(32, 0x52)};
  auto reset = RoomGroup::create(fresh, alice.account, alice.key, kNow, rng);
  REQUIRE(reset);
  auto reset_add = reset->add({bob.publish(rng)}, rng, kNow);
  REQUIRE(reset_add);
  auto switched = process_group(bobs->group.clone(),
                                envelope(wire::EnvelopeKind::Welcome, 7, alice.account, 1, reset_add->welcomes[0].welcome),
                                bob.self(), kNow);
  REQUIRE(switched.group);
  CHECK(switched.group->group_id() == fresh);
  CHECK(switched.group->epoch() == 1);
  const auto* event = only<RoomReset>(switched);
  REQUIRE(event);
  CHECK(event->room == kRoom);  // the room stays; its group is new
  CHECK(event->by == alice.account);
  CHECK(switched.write.group_state);
  CHECK(switched.used_key_package == bob.stored.back().ref);
  CHECK(switched.group->safety_code() == reset_add->next.safety_code());

  // Carol, a member but no facilitator, cannot take the room elsewhere.
  auto carol = device(3, rng);
  auto three = alices.add({carol.publish(rng)}, rng, kNow);
  REQUIRE(three);
  auto bob_three = process_group(bobs->group.clone(), envelope(wire::EnvelopeKind::Handshake, 8, alice.account, 1,
                                                                three->commit),
                                 bob.self(), kNow);
  REQUIRE(bob_three.group);
  auto carols = RoomGroup::create(RoomId{Bytes(32, 0x53)}, carol.account, carol.key, kNow, rng);
  REQUIRE(carols);
  auto hijack = carols->add({bob.publish(rng)}, rng, kNow);
  REQUIRE(hijack);
  const auto epoch_before = bob_three.group->epoch();
  auto refused = process_group(std::move(bob_three.group),
                               envelope(wire::EnvelopeKind::Welcome, 9, carol.account, 1, hijack->welcomes[0].welcome),
                               bob.self(), kNow);
  const auto* failed = only<DecryptionFailed>(refused);
  REQUIRE(failed);
  CHECK(failed->reason.find("not its facilitator") != std::string::npos);
  REQUIRE(refused.group);
  CHECK(refused.group->group_id() == kRoom);
  CHECK(refused.group->epoch() == epoch_before);
  CHECK_FALSE(refused.write.group_state);
  CHECK_FALSE(refused.used_key_package);
}

TEST_CASE("room crypto: a change we cannot apply is marked for a report, reports are events", "[client][room]") {
  test::SeededRng rng(11);
  auto two = two_of_us(rng);
  auto& [alice, bob, add] = two;
  RoomGroup alices = std::move(add->next);
  auto bobs = RoomGroup::join(add->welcomes[0].welcome, bob.account, bob.key, bob.stored, kNow);
  REQUIRE(bobs);
  auto refresh = alices.refresh(rng, kNow);
  REQUIRE(refresh);
  Bytes broken = refresh->commit;
  broken[broken.size() - 34] ^= 0x01;  // the confirmation tag: still validly signed
  auto fx = process_group(bobs->group.clone(), envelope(wire::EnvelopeKind::Handshake, 5, alice.account, 1, broken),
                          bob.self(), kNow);
  REQUIRE(only<DecryptionFailed>(fx));
  REQUIRE(fx.rejected);
  CHECK(*fx.rejected == wire::ChangeProblem::DoesNotVerify);
  CHECK_FALSE(fx.write.group_state);
  // A commit for an epoch not reached yet is a consequence, not a new report.
  auto ahead = process_group(bobs->group.clone(), envelope(wire::EnvelopeKind::Handshake, 6, alice.account, 2, broken),
                             bob.self(), kNow);
  CHECK_FALSE(ahead.rejected);

  const Bytes report = wire::encode_change_report(wire::ChangeReport{Seq{5}, wire::ChangeProblem::DoesNotVerify});
  auto heard = process_group(std::move(alices), envelope(wire::EnvelopeKind::Report, 7, bob.account, 2, report),
                             alice.self(), kNow);
  const auto* rejected = only<ChangeRejected>(heard);
  REQUIRE(rejected);
  CHECK(rejected->member == bob.account);
  CHECK(rejected->commit_seq == Seq{5});
  CHECK(rejected->seq == Seq{7});
  CHECK(rejected->problem == wire::ChangeProblem::DoesNotVerify);
  REQUIRE(heard.group);
  auto garbage = process_group(std::move(heard.group),
                               envelope(wire::EnvelopeKind::Report, 8, bob.account, 2, Bytes{0xff, 0x01}), alice.self(),
                               kNow);
  CHECK(only<DecryptionFailed>(garbage));
  // The Reset envelope itself changes nothing: the switch comes with the Welcome.
  auto marker = process_group(std::move(garbage.group), envelope(wire::EnvelopeKind::Reset, 9, alice.account, 1, {}),
                              alice.self(), kNow);
  CHECK(marker.events.empty());
  CHECK_FALSE(marker.write.group_state);
}

TEST_CASE("room crypto: changes the relay must refuse are refused by members too when injected past it",
          "[client][room]") {
  test::SeededRng rng(12);
  auto two = two_of_us(rng);
  auto& [alice, bob, add] = two;
  auto carol = device(3, rng);
  auto three = add->next.add({carol.publish(rng)}, rng, kNow);
  REQUIRE(three);
  auto bobs = RoomGroup::join(add->welcomes[0].welcome, bob.account, bob.key, bob.stored, kNow);
  REQUIRE(bobs);
  auto bob_now = process_group(std::move(bobs->group), envelope(wire::EnvelopeKind::Handshake, 3, alice.account, 1,
                                                                three->commit),
                               bob.self(), kNow);
  REQUIRE(bob_now.group);
  auto carols = RoomGroup::join(three->welcomes[0].welcome, carol.account, carol.key, carol.stored, kNow);
  REQUIRE(carols);
  RoomGroup carol_state = std::move(carols->group);

  // Bob's client, broken or hostile, ignores the role policy.
  auto rogue = mls::GroupState::load(bob_now.group->save(), crypto::ed25519_from_seed(crypto::ed25519_seed(bob.key).view()).value(),
                                     mls::RolePolicy::AllowAll);
  REQUIRE(rogue);
  auto eve = device(5, rng);
  auto eve_kp = make_key_package(eve.account, eve.key, false, kNow, KeyPackagePolicy{}, rng);
  auto eve_package = mls::decode<mls::KeyPackage>(eve_kp.published);
  REQUIRE(eve_package);
  auto rogue_add = rogue->add({*eve_package}, rng, mls::GroupEnv{kNow, nullptr});
  REQUIRE(rogue_add);
  auto rogue_remove = rogue->remove({mls::LeafIndex{0}}, rng, mls::GroupEnv{kNow, nullptr});
  REQUIRE(rogue_remove);
  const auto epoch = carol_state.epoch();
  for (const auto* commit : {&rogue_add->commit, &rogue_remove->commit}) {
    auto fx = process_group(carol_state.clone(),
                            envelope(wire::EnvelopeKind::Handshake, 4, bob.account, epoch, mls::encode(*commit)),
                            carol.self(), kNow);
    const auto* failed = only<DecryptionFailed>(fx);
    REQUIRE(failed);
    CHECK(failed->reason.find(mls::to_string(mls::Error::PolicyViolation)) != std::string::npos);
    CHECK(fx.rejected == wire::ChangeProblem::Invalid);
    CHECK_FALSE(fx.write.group_state);
  }
  // A commit of Bob's that claims Alice's leaf (the sender's leaf index,
  // bytes 46..49 of the MLSMessage): refused, whatever else it holds.
  auto refresh = bob_now.group->refresh(rng, kNow);
  REQUIRE(refresh);
  Bytes claimed = refresh->commit;
  REQUIRE(claimed[49] == 1);  // Bob is on leaf 1
  claimed[49] = 0;
  auto fx = process_group(carol_state.clone(), envelope(wire::EnvelopeKind::Handshake, 5, bob.account, epoch, claimed),
                          carol.self(), kNow);
  REQUIRE(only<DecryptionFailed>(fx));
  CHECK(fx.rejected == wire::ChangeProblem::DoesNotVerify);
  // The genuine one applies.
  auto fine = process_group(std::move(carol_state),
                            envelope(wire::EnvelopeKind::Handshake, 6, bob.account, epoch, refresh->commit), carol.self(),
                            kNow);
  REQUIRE(only<RosterChanged>(fine));
  CHECK(fine.group->epoch() == epoch + 1);
}
