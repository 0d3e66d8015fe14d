// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "client/core/key_packages.h"
#include "client/core/room_crypto.h"
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

template <class E>
const E* only(const GroupEffects& fx) {
  REQUIRE(fx.events.size() == 1);
  return std::get_if<E>(&fx.events[0]);
}

}  // namespace

TEST_CASE("room crypto: a joiner takes the commit, then its Welcome, then reads", "[client][room]") {
  test::SeededRng rng(5);
  auto alice = device(1, rng);
  auto bob = device(2, rng);
  auto group = RoomGroup::create(kRoom, alice.account, alice.key, kNow, rng);
  REQUIRE(group);
  auto add = group->add({bob.publish(rng)}, rng, kNow);
  REQUIRE(add);
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
  CHECK(joined.events.empty());
  CHECK(joined.used_key_package == bob.stored[0].ref);
  REQUIRE(joined.write.group_state);
  CHECK(joined.group->epoch() == 1);
  // A second copy of the Welcome changes nothing.
  auto again = process_group(joined.group->clone(),
                             envelope(wire::EnvelopeKind::Welcome, 3, alice.account, 0, add->welcomes[0].welcome),
                             bob.self(), kNow);
  CHECK(again.events.empty());
  CHECK_FALSE(again.used_key_package);

  auto sealed = alices.encrypt(to_bytes("welcome, Bob"), rng);
  REQUIRE(sealed);
  auto read = process_group(std::move(joined.group),
                            envelope(wire::EnvelopeKind::Application, 4, alice.account, 1, *sealed), bob.self(), kNow);
  const auto* m = only<MessageReceived>(read);
  REQUIRE(m);
  CHECK(m->payload == to_bytes("welcome, Bob"));
  CHECK(m->sender == alice.account);
  CHECK(read.write.payload == to_bytes("welcome, Bob"));  // the plaintext is what is kept
  CHECK(read.write.group_state);
}

TEST_CASE("room crypto: every envelope the group cannot take is an event with a reason", "[client][room]") {
  test::SeededRng rng(6);
  auto alice = device(1, rng);
  auto bob = device(2, rng);
  auto carol = device(3, rng);
  auto group = RoomGroup::create(kRoom, alice.account, alice.key, kNow, rng);
  REQUIRE(group);
  auto add = group->add({bob.publish(rng)}, rng, kNow);
  REQUIRE(add);
  RoomGroup alices = std::move(add->next);
  auto bobs = RoomGroup::join(add->welcomes[0].welcome, bob.account, bob.key, bob.stored, kNow);
  REQUIRE(bobs);

  auto sealed = alices.encrypt(to_bytes("hello"), rng);
  REQUIRE(sealed);
  // No group for the room on this device.
  auto keyless = process_group(std::nullopt, envelope(wire::EnvelopeKind::Application, 5, alice.account, 1, *sealed),
                               bob.self(), kNow);
  const auto* f = only<DecryptionFailed>(keyless);
  REQUIRE(f);
  CHECK(f->reason.find("no keys") != std::string::npos);
  CHECK_FALSE(keyless.write.payload);
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
  CHECK(applied.events.empty());
  REQUIRE(applied.group);
  CHECK(applied.group->epoch() == 2);
  auto own = process_group(std::move(next->next),
                           envelope(wire::EnvelopeKind::Handshake, 7, alice.account, 1, next->commit), alice.self(),
                           kNow);
  CHECK(own.events.empty());
  CHECK_FALSE(own.write.group_state);
  // A Welcome for none of Carol's KeyPackages.
  auto not_hers = process_group(std::nullopt,
                                envelope(wire::EnvelopeKind::Welcome, 8, alice.account, 0, add->welcomes[0].welcome),
                                carol.self(), kNow);
  REQUIRE(only<DecryptionFailed>(not_hers));
  CHECK_FALSE(not_hers.group);
}
