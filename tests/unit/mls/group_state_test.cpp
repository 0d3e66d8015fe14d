// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/mls/group_state.h"
#include "common/mls/leaf_node.h"
#include "common/mls/roles.h"
#include "common/mls/welcome.h"
#include "tests/unit/mls/room_fixture.h"

using namespace hearth;
using namespace hearth::mls;
using namespace hearth::mls::testing;

namespace {

constexpr std::uint64_t kNow = kTestNow;

crypto::SigningKey copy_key(const crypto::SigningKey& k) { return crypto::SigningKey{k.secret.clone(), k.public_key}; }

GroupEnv env() { return GroupEnv{kNow, nullptr}; }

class Psks final : public PskLookup {
 public:
  std::map<Bytes, Bytes> external_psks;
  std::optional<crypto::SecretBytes> external(BytesView id) const override {
    const auto it = external_psks.find(Bytes(id.begin(), id.end()));
    if (it == external_psks.end()) return std::nullopt;
    return crypto::SecretBytes(it->second);
  }
  std::optional<crypto::SecretBytes> resumption(BytesView, std::uint64_t) const override { return std::nullopt; }
};

// The room of room_fixture.h, with KeyPackages valid around any time.
struct Room : TestRoom {
  explicit Room(std::uint64_t seed) : TestRoom(seed, "room-1") {}

  KeyPackageBundle key_package(std::size_t who, std::uint64_t now = kNow) {
    KeyPackageOptions options;
    options.lifetime = Lifetime{now - 3600, now + kDefaultKeyPackageLifetimeSeconds};
    options.extensions = {kRolesExtensionType};
    return create_key_package(people[who].credential, people[who].key, options, rng);
  }
};

template <class E, class T>
bool has_event(const std::vector<T>& events) {
  return std::any_of(events.begin(), events.end(), [](const T& e) { return std::holds_alternative<E>(e); });
}

}  // namespace

TEST_CASE("group state: create, add three with one commit, everyone reads everyone", "[mls][group_state]") {
  Room room(1);
  CHECK(room.at(0).epoch() == 0);
  CHECK(room.at(0).members().size() == 1);
  CHECK(room.at(0).roles().facilitators == std::vector<Bytes>{to_bytes("alice")});
  room.check_everyone_reads_everyone();

  room.add({"bob", "carol", "dave"});
  CHECK(room.at(0).epoch() == 1);
  room.check_agree();
  room.check_everyone_reads_everyone();
  CHECK(room.at(3).own_leaf() == LeafIndex{3});
}

TEST_CASE("group state: the commit's events", "[mls][group_state]") {
  Room room(2);
  const std::size_t bob = room.add_person("bob");
  auto kp = room.key_package(bob);
  auto pending = room.at(0).add({kp.key_package}, room.rng, env());
  REQUIRE(outcome(pending) == "ok");
  REQUIRE(pending->events.size() == 2);
  const auto* added = std::get_if<MemberAdded>(&pending->events[0]);
  REQUIRE(added != nullptr);
  CHECK(added->leaf == LeafIndex{1});
  CHECK(added->credential.identity == to_bytes("bob"));
  const auto* epoch = std::get_if<EpochChanged>(&pending->events[1]);
  REQUIRE(epoch != nullptr);
  CHECK(epoch->epoch == 1);
  CHECK(pending->welcome_key_package_refs == std::vector<Digest>{kp.ref});
}

TEST_CASE("group state: remove, and the removed member reads nothing new", "[mls][group_state]") {
  Room room(3);
  room.add({"bob", "carol", "dave"});
  const std::size_t carol = 2;
  auto pending = room.at(0).remove({room.at(carol).own_leaf()}, room.rng, env());
  REQUIRE(outcome(pending) == "ok");
  CHECK(has_event<MemberRemoved>(pending->events));
  const MlsMessage commit = over_the_wire(pending->commit);

  auto removed = room.at(carol).handle(commit, env());
  REQUIRE(outcome(removed) == "ok");
  CHECK(has_event<SelfRemoved>(removed->events));
  CHECK(removed->next.is_removed());
  room.states[carol] = std::move(removed->next);
  room.adopt(0, std::move(*pending));

  CHECK(room.members().size() == 3);
  room.check_agree();
  room.check_everyone_reads_everyone();

  // The removed member can neither send nor read the new epoch.
  CHECK(room.at(carol).protect(as_bytes("x"), {}, room.rng).error() == Error::Removed);
  CHECK(room.at(carol).commit(CommitOptions{}, room.rng, env()).error() == Error::Removed);
  CHECK(room.at(carol).handle(commit, env()).error() == Error::Removed);
  auto msg = room.at(0).protect(as_bytes("after"), {}, room.rng);
  REQUIRE(msg.has_value());
  CHECK(room.at(carol).unprotect(over_the_wire(*msg)).error() == Error::WrongEpoch);
}

TEST_CASE("group state: an Update proposed by one member and committed by another", "[mls][group_state]") {
  Room room(4);
  room.add({"bob", "carol"});
  const std::size_t bob = 1;
  const Bytes old_key = room.at(0).tree().leaf(LeafIndex{1})->encryption_key;
  auto proposed = room.at(bob).propose_update(room.rng);
  REQUIRE(outcome(proposed) == "ok");
  REQUIRE(proposed->message.has_value());
  REQUIRE(has_event<ProposalReceived>(proposed->events));
  room.states[bob] = std::move(proposed->next);
  room.deliver(*proposed->message, bob);
  CHECK(room.at(0).public_group().proposals().size() == 1);

  auto pending = room.at(0).commit(CommitOptions{}, room.rng, env());
  REQUIRE(outcome(pending) == "ok");
  CHECK(has_event<MemberUpdated>(pending->events));
  room.adopt(0, std::move(*pending));
  CHECK(room.at(0).tree().leaf(LeafIndex{1})->encryption_key != old_key);
  room.check_agree();
  room.check_everyone_reads_everyone();
}

TEST_CASE("group state: a self-update refreshes the committer's keys", "[mls][group_state]") {
  Room room(5);
  room.add({"bob", "carol", "dave"});
  const std::size_t carol = 2;
  const Bytes old_key = room.at(0).tree().leaf(LeafIndex{2})->encryption_key;
  const Bytes old_auth(room.at(0).epoch_authenticator().begin(), room.at(0).epoch_authenticator().end());
  auto pending = room.at(carol).update(room.rng, env());
  REQUIRE(outcome(pending) == "ok");
  room.adopt(carol, std::move(*pending));
  CHECK(room.at(0).tree().leaf(LeafIndex{2})->encryption_key != old_key);
  CHECK(Bytes(room.at(0).epoch_authenticator().begin(), room.at(0).epoch_authenticator().end()) != old_auth);
  room.check_agree();
  room.check_everyone_reads_everyone();
  // And a commit by someone else after it still works for everyone.
  auto next = room.at(3).update(room.rng, env());
  REQUIRE(outcome(next) == "ok");
  room.adopt(3, std::move(*next));
  room.check_agree();
  room.check_everyone_reads_everyone();
}

TEST_CASE("group state: a late message of a retained epoch still opens, an older one does not", "[mls][group_state]") {
  Room room(6);
  room.add({"bob", "carol"});
  const std::size_t bob = 1;
  const std::size_t carol = 2;
  auto late = room.at(bob).protect(as_bytes("sent before the commit"), {}, room.rng);
  REQUIRE(late.has_value());
  const std::uint64_t sent_in = room.at(bob).epoch();
  auto pending = room.at(0).update(room.rng, env());
  REQUIRE(outcome(pending) == "ok");
  room.adopt(0, std::move(*pending));
  REQUIRE(room.at(carol).epoch() == sent_in + 1);

  auto got = room.at(carol).unprotect(over_the_wire(*late));
  REQUIRE(outcome(got) == "ok");
  CHECK(got->epoch == sent_in);
  CHECK(got->data == to_bytes("sent before the commit"));
  // Opened once: a replay is refused.
  CHECK(room.at(carol).unprotect(over_the_wire(*late)).error() == Error::GenerationExpired);

  // A message of this epoch stays readable for kMaxPastEpochs commits.
  const std::uint64_t old_epoch = room.at(0).epoch();
  auto old = room.at(0).protect(as_bytes("old"), {}, room.rng);
  REQUIRE(old.has_value());
  const MlsMessage old_wire = over_the_wire(*old);
  for (std::size_t i = 0; i < kMaxPastEpochs; ++i) {
    auto p = room.at(0).update(room.rng, env());
    REQUIRE(outcome(p) == "ok");
    room.adopt(0, std::move(*p));
  }
  CHECK(room.at(carol).resumption_psk(old_epoch).has_value());
  {
    auto copy = room.at(carol).clone();
    CHECK(outcome(copy.unprotect(old_wire)) == "ok");
  }
  auto p = room.at(0).update(room.rng, env());
  REQUIRE(outcome(p) == "ok");
  room.adopt(0, std::move(*p));
  CHECK(room.at(carol).unprotect(old_wire).error() == Error::WrongEpoch);
  CHECK_FALSE(room.at(carol).resumption_psk(old_epoch).has_value());
  CHECK(room.at(carol).resumption_psk(room.at(carol).epoch()).has_value());
}

TEST_CASE("group state: handle() opens application messages", "[mls][group_state]") {
  Room room(7);
  room.add({"bob"});
  auto msg = room.at(1).protect(as_bytes("hello"), as_bytes("ad"), room.rng);
  REQUIRE(msg.has_value());
  auto t = room.at(0).handle(over_the_wire(*msg), env());
  REQUIRE(outcome(t) == "ok");
  REQUIRE(t->events.size() == 1);
  const auto* app = std::get_if<ApplicationMessage>(&t->events[0]);
  REQUIRE(app != nullptr);
  CHECK(app->data == to_bytes("hello"));
  CHECK(app->sender == LeafIndex{1});
  // The original state is untouched: it can still open the message.
  CHECK(outcome(room.at(0).unprotect(over_the_wire(*msg))) == "ok");
  // The new one cannot: the key is spent.
  CHECK(t->next.unprotect(over_the_wire(*msg)).error() == Error::GenerationExpired);
}

TEST_CASE("group state: an own commit echoed back is refused", "[mls][group_state]") {
  Room room(8);
  room.add({"bob"});
  auto pending = room.at(0).update(room.rng, env());
  REQUIRE(outcome(pending) == "ok");
  const MlsMessage commit = over_the_wire(pending->commit);
  // Before adopting it, and after.
  CHECK(room.at(0).handle(commit, env()).error() == Error::InvalidCommit);
  CHECK(pending->next.handle(commit, env()).error() == Error::InvalidCommit);
  room.adopt(0, std::move(*pending));
  room.check_agree();
}

TEST_CASE("group state: a failed transition leaves the state untouched", "[mls][group_state]") {
  Room room(9);
  room.add({"bob", "carol"});
  auto pending = room.at(0).update(room.rng, env());
  REQUIRE(outcome(pending) == "ok");
  MlsMessage tampered = over_the_wire(pending->commit);
  auto& pm = std::get<PublicMessage>(tampered.body);
  (*pm.auth.confirmation_tag)[0] ^= 1;
  const Bytes before(room.at(1).epoch_authenticator().begin(), room.at(1).epoch_authenticator().end());
  CHECK(room.at(1).handle(tampered, env()).error() == Error::InvalidMembershipTag);
  CHECK(room.at(1).epoch() == 1);
  CHECK(Bytes(room.at(1).epoch_authenticator().begin(), room.at(1).epoch_authenticator().end()) == before);
  // A message for another group or epoch.
  MlsMessage other = over_the_wire(pending->commit);
  std::get<PublicMessage>(other.body).content.epoch += 5;
  CHECK(room.at(1).handle(other, env()).error() == Error::WrongEpoch);
  room.adopt(0, std::move(*pending));
  room.check_agree();
  room.check_everyone_reads_everyone();
}

TEST_CASE("group state: the role policy applies to the committer too", "[mls][group_state]") {
  Room room(10);
  room.add({"bob", "carol"});
  // Bob is no facilitator: he may not add or remove others.
  const std::size_t erin = room.add_person("erin");
  auto kp = room.key_package(erin);
  CHECK(room.at(1).add({kp.key_package}, room.rng, env()).error() == Error::PolicyViolation);
  CHECK(room.at(1).remove({LeafIndex{2}}, room.rng, env()).error() == Error::PolicyViolation);
  // But he may remove himself by proposal, which alice commits.
  auto leave = room.at(1).propose_remove(LeafIndex{1});
  REQUIRE(outcome(leave) == "ok");
  room.states[1] = std::move(leave->next);
  room.deliver(*leave->message, 1);
  auto pending = room.at(0).commit(CommitOptions{}, room.rng, env());
  REQUIRE(outcome(pending) == "ok");
  room.adopt(0, std::move(*pending));
  CHECK(room.at(1).is_removed());
  room.check_agree();
  room.check_everyone_reads_everyone();
}

TEST_CASE("group state: external and resumption PSKs", "[mls][group_state]") {
  Room room(11);
  room.add({"bob"});
  Psks psks;
  psks.external_psks[to_bytes("shared")] = Bytes(32, 0x42);
  const GroupEnv with_psk{kNow, &psks};
  PreSharedKeyId ext;
  ext.psk_type = PskType::External;
  ext.psk_id = to_bytes("shared");
  ext.psk_nonce = Bytes(32, 1);
  PreSharedKeyId res;
  res.psk_type = PskType::Resumption;
  res.usage = ResumptionPskUsage::Application;
  res.psk_group_id = to_bytes("room-1");
  res.psk_epoch = room.at(0).epoch();
  res.psk_nonce = Bytes(32, 2);
  CommitOptions options;
  options.proposals = {Proposal{PreSharedKey{ext}}, Proposal{PreSharedKey{res}}};
  CHECK(room.at(0).commit(options, room.rng, env()).error() == Error::UnknownPsk);
  auto pending = room.at(0).commit(options, room.rng, with_psk);
  REQUIRE(outcome(pending) == "ok");
  const MlsMessage commit = over_the_wire(pending->commit);
  CHECK(room.at(1).handle(commit, env()).error() == Error::UnknownPsk);
  auto t = room.at(1).handle(commit, with_psk);
  REQUIRE(outcome(t) == "ok");
  room.states[1] = std::move(t->next);
  room.states[0] = std::move(pending->next);
  room.check_agree();
  room.check_everyone_reads_everyone();
  CHECK(room.at(1).resumption_psk(res.psk_epoch).has_value());
}

TEST_CASE("group state: joining from a Welcome without the tree needs it given", "[mls][group_state]") {
  Room room(12);
  const std::size_t bob = room.add_person("bob");
  auto bundle = room.key_package(bob);
  CommitOptions options;
  options.proposals = {Proposal{Add{bundle.key_package}}};
  options.ratchet_tree_in_welcome = false;
  auto pending = room.at(0).commit(options, room.rng, env());
  REQUIRE(outcome(pending) == "ok");
  REQUIRE(pending->welcome.has_value());
  const auto& welcome = std::get<Welcome>(pending->welcome->body);
  CHECK(GroupState::join(welcome, bundle, copy_key(room.people[bob].key), std::nullopt, RolePolicy::Hearth, env())
            .error() == Error::InvalidWelcome);
  const RatchetTree tree = pending->next.tree().to_wire();
  auto joined =
      GroupState::join(welcome, bundle, copy_key(room.people[bob].key), tree, RolePolicy::Hearth, env());
  REQUIRE(outcome(joined) == "ok");
  // Someone else's KeyPackage is not in the Welcome.
  const std::size_t carol = room.add_person("carol");
  auto other = room.key_package(carol);
  CHECK(GroupState::join(welcome, other, copy_key(room.people[carol].key), tree, RolePolicy::Hearth, env())
            .error() == Error::InvalidWelcome);
  room.states[0] = std::move(pending->next);
  room.states[bob] = std::move(*joined);
  room.check_agree();
  room.check_everyone_reads_everyone();
}

TEST_CASE("group state: a GroupInfo of the group verifies and carries the tree", "[mls][group_state]") {
  Room room(13);
  room.add({"bob"});
  const GroupInfo info = room.at(1).group_info(true);
  CHECK(info.signer == 1);
  CHECK(info.group_context == room.at(1).context());
  CHECK(verify_group_info(info, room.at(1).tree().leaf(LeafIndex{1})->signature_key).has_value());
  auto view = PublicGroup::from_group_info(info, room.at(0).tree().to_wire(), RolePolicy::Hearth, kNow);
  REQUIRE(outcome(view) == "ok");
  CHECK(view->interim_transcript_hash().size() == kHashSize);
  CHECK(room.at(1).group_info(false).extensions.empty());
}

TEST_CASE("group state: a commit sent as PrivateMessage", "[mls][group_state]") {
  Room room(14);
  room.add({"bob", "carol"});
  const std::size_t dave = room.add_person("dave");
  auto bundle = room.key_package(dave);
  CommitOptions options;
  options.encrypt = true;
  options.proposals = {Proposal{Add{bundle.key_package}}};
  options.authenticated_data = to_bytes("commit ad");
  auto pending = room.at(0).commit(options, room.rng, env());
  REQUIRE(outcome(pending) == "ok");
  REQUIRE(std::holds_alternative<PrivateMessage>(pending->commit.body));
  const MlsMessage commit = over_the_wire(pending->commit);
  // Our own encrypted commit echoed, before and after adopting it.
  CHECK(room.at(0).handle(commit, env()).error() == Error::InvalidCommit);
  CHECK(pending->next.handle(commit, env()).error() == Error::InvalidCommit);
  std::vector<std::pair<std::size_t, KeyPackageBundle>> joiners;
  joiners.emplace_back(dave, std::move(bundle));
  room.adopt(0, std::move(*pending), joiners);
  room.check_agree();
  room.check_everyone_reads_everyone();
}

TEST_CASE("group state: proposals are checked when made, and their echo is harmless", "[mls][group_state]") {
  Room room(15);
  room.add({"bob"});
  CHECK(room.at(0).propose_remove(LeafIndex{5}).error() == Error::InvalidProposal);
  // Bob is no facilitator.
  CHECK(room.at(1).propose_remove(LeafIndex{0}).error() == Error::PolicyViolation);
  auto proposed = room.at(1).propose_update(room.rng);
  REQUIRE(outcome(proposed) == "ok");
  room.states[1] = std::move(proposed->next);
  auto echo = room.at(1).handle(over_the_wire(*proposed->message), env());
  REQUIRE(outcome(echo) == "ok");
  CHECK(echo->next.public_group().proposals().size() == 1);
  CHECK_FALSE(echo->message.has_value());
  room.deliver(*proposed->message, 1);
  // Bob commits: his own Update stays out (his path replaces it).
  auto pending = room.at(1).commit(CommitOptions{}, room.rng, env());
  REQUIRE(outcome(pending) == "ok");
  room.adopt(1, std::move(*pending));
  room.check_agree();
  room.check_everyone_reads_everyone();
  CHECK(room.at(0).public_group().proposals().size() == 0);
}

TEST_CASE("group state: clone is independent and memory is estimated", "[mls][group_state]") {
  Room room(16);
  room.add({"bob", "carol"});
  GroupState copy = room.at(0).clone();
  auto msg = room.at(1).protect(as_bytes("once"), {}, room.rng);
  REQUIRE(msg.has_value());
  const MlsMessage w = over_the_wire(*msg);
  CHECK(outcome(copy.unprotect(w)) == "ok");
  CHECK(outcome(room.at(0).unprotect(w)) == "ok");
  CHECK(room.at(0).memory_estimate() > 0);
  CHECK(room.at(0).memory_estimate() >= copy.tree().member_count());
}

TEST_CASE("group state: a Welcome naming too many PSKs is refused before any lookup", "[mls][group_state]") {
  Room room(17);
  const std::size_t bob = room.add_person("bob");
  auto bundle = room.key_package(bob);
  std::vector<PreSharedKeyId> psks(kMaxWelcomePsks + 1);
  for (std::size_t i = 0; i < psks.size(); ++i) {
    psks[i].psk_type = PskType::External;
    psks[i].psk_id = to_bytes("psk " + std::to_string(i));
    psks[i].psk_nonce = Bytes(32, 1);
  }
  std::vector<WelcomeJoiner> joiners;
  joiners.push_back(WelcomeJoiner{&bundle.key_package, std::nullopt});
  auto welcome = create_welcome(room.at(0).group_info(true), Bytes(32, 3), zero_secret(), psks, joiners, room.rng);
  REQUIRE(welcome.has_value());
  CHECK(GroupState::join(*welcome, bundle, copy_key(room.people[bob].key), std::nullopt, RolePolicy::Hearth, env())
            .error() == Error::InvalidWelcome);
  // At the bound, the PSKs are looked up (and unknown here).
  psks.pop_back();
  welcome = create_welcome(room.at(0).group_info(true), Bytes(32, 3), zero_secret(), psks, joiners, room.rng);
  REQUIRE(welcome.has_value());
  CHECK(GroupState::join(*welcome, bundle, copy_key(room.people[bob].key), std::nullopt, RolePolicy::Hearth, env())
            .error() == Error::UnknownPsk);
}

TEST_CASE("group state: a Welcome with a wrong joiner secret fails its checks", "[mls][group_state]") {
  Room room(18);
  const std::size_t bob = room.add_person("bob");
  auto bundle = room.key_package(bob);
  auto pending = room.at(0).add({bundle.key_package}, room.rng, env());
  REQUIRE(outcome(pending) == "ok");
  const auto& real = std::get<Welcome>(pending->welcome->body);
  // Bob's view of the real GroupInfo.
  auto secrets = decrypt_group_secrets(real, bundle.ref, bundle.init_key.secret.view());
  REQUIRE(secrets.has_value());
  auto info = decrypt_group_info(real, welcome_secret(secrets->joiner_secret, zero_secret()).view());
  REQUIRE(info.has_value());
  std::vector<WelcomeJoiner> joiners;
  joiners.push_back(WelcomeJoiner{&bundle.key_package, std::nullopt});

  // The same signed GroupInfo under another joiner secret: everything checks
  // out but the confirmation tag.
  auto forged = create_welcome(*info, Bytes(32, 3), zero_secret(), {}, joiners, room.rng);
  REQUIRE(forged.has_value());
  CHECK(GroupState::join(*forged, bundle, copy_key(room.people[bob].key), std::nullopt, RolePolicy::Hearth, env())
            .error() == Error::InvalidConfirmationTag);
  // A GroupInfo whose signature does not verify.
  GroupInfo unsigned_info = *info;
  unsigned_info.signature[0] ^= 1;
  forged = create_welcome(unsigned_info, secrets->joiner_secret, zero_secret(), {}, joiners, room.rng);
  REQUIRE(forged.has_value());
  CHECK(GroupState::join(*forged, bundle, copy_key(room.people[bob].key), std::nullopt, RolePolicy::Hearth, env())
            .error() == Error::InvalidSignature);
  // A GroupInfo of the group before bob was added: his leaf is not in it.
  forged = create_welcome(room.at(0).group_info(true), Bytes(32, 3), zero_secret(), {}, joiners, room.rng);
  REQUIRE(forged.has_value());
  CHECK(GroupState::join(*forged, bundle, copy_key(room.people[bob].key), std::nullopt, RolePolicy::Hearth, env())
            .error() == Error::InvalidWelcome);
  // A signing key that is not the KeyPackage's.
  CHECK(GroupState::join(real, bundle, crypto::ed25519_generate(), std::nullopt, RolePolicy::Hearth, env()).error() ==
        Error::InvalidKeyPackage);
  // The real one joins.
  CHECK(outcome(GroupState::join(real, bundle, copy_key(room.people[bob].key), std::nullopt, RolePolicy::Hearth,
                                 env())) == "ok");
}

TEST_CASE("group state: joiners of a commit with a path get their path secrets", "[mls][group_state]") {
  Room room(19);
  room.add({"bob", "carol", "dave", "erin"});
  // Remove one and add two in a commit that needs a path.
  std::vector<std::pair<std::size_t, KeyPackageBundle>> joiners;
  CommitOptions options;
  options.proposals.push_back(Proposal{Remove{room.at(2).own_leaf().v}});
  for (const char* name : {"frank", "grace"}) {
    const std::size_t who = room.add_person(name);
    joiners.emplace_back(who, room.key_package(who));
    options.proposals.push_back(Proposal{Add{joiners.back().second.key_package}});
  }
  auto pending = room.at(0).commit(options, room.rng, env());
  REQUIRE(outcome(pending) == "ok");
  REQUIRE(std::get<PublicMessage>(pending->commit.body).content.content.index() == 2);
  CHECK(std::get<Commit>(std::get<PublicMessage>(pending->commit.body).content.content).path.has_value());
  // The Welcome gives each joiner the path secret of its common ancestor
  // with the committer.
  const auto& welcome = std::get<Welcome>(pending->welcome->body);
  for (const auto& [who, bundle] : joiners) {
    auto gs = decrypt_group_secrets(welcome, bundle.ref, bundle.init_key.secret.view());
    REQUIRE(gs.has_value());
    CHECK(gs->path_secret.has_value());
  }
  room.adopt(0, std::move(*pending), joiners);
  room.check_agree();
  room.check_everyone_reads_everyone();
  // Each joiner commits in turn; everyone follows.
  for (const auto& [who, bundle] : joiners) {
    auto next = room.at(who).update(room.rng, env());
    REQUIRE(outcome(next) == "ok");
    room.adopt(who, std::move(*next));
    room.check_agree();
  }
  room.check_everyone_reads_everyone();
}

TEST_CASE("group state: roles change through GroupContextExtensions", "[mls][group_state]") {
  Room room(20);
  room.add({"bob", "carol"});
  CommitOptions options;
  options.proposals.push_back(
      Proposal{GroupContextExtensions{{roles_extension(Roles{{to_bytes("alice"), to_bytes("bob")}})}}});
  // Bob may not grant himself the role.
  CHECK(room.at(1).commit(options, room.rng, env()).error() == Error::PolicyViolation);
  auto pending = room.at(0).commit(options, room.rng, env());
  REQUIRE(outcome(pending) == "ok");
  CHECK(has_event<RolesChanged>(pending->events));
  room.adopt(0, std::move(*pending));
  room.check_agree();
  CHECK(room.at(2).roles().facilitators.size() == 2);
  // Now bob may remove carol.
  auto removal = room.at(1).remove({LeafIndex{2}}, room.rng, env());
  REQUIRE(outcome(removal) == "ok");
  room.adopt(1, std::move(*removal));
  CHECK(room.at(2).is_removed());
  room.check_agree();
}

TEST_CASE("group state: members' expired KeyPackage leaves do not stop a later join", "[mls][group_state]") {
  Room room(21);
  room.add({"bob", "carol"});
  // Months later: bob and carol never committed, their leaves' lifetimes
  // are long over. A new member is added with a fresh KeyPackage.
  const std::uint64_t later = kNow + 4 * kDefaultKeyPackageLifetimeSeconds;
  const GroupEnv later_env{later, nullptr};
  const std::size_t dave = room.add_person("dave");
  auto bundle = room.key_package(dave, later);
  // A stale KeyPackage is refused when added.
  const std::size_t erin = room.add_person("erin");
  auto stale = room.key_package(erin);
  CHECK(room.at(0).add({stale.key_package}, room.rng, later_env).error() == Error::LifetimeExpired);
  auto pending = room.at(0).add({bundle.key_package}, room.rng, later_env);
  REQUIRE(outcome(pending) == "ok");
  const auto& welcome = std::get<Welcome>(pending->welcome->body);
  auto joined = GroupState::join(welcome, bundle, copy_key(room.people[dave].key), std::nullopt, RolePolicy::Hearth,
                                 later_env);
  REQUIRE(outcome(joined) == "ok");
  room.deliver(pending->commit, 0, later_env);
  room.states[dave] = std::move(*joined);
  room.states[0] = std::move(pending->next);
  room.check_agree();
  room.check_everyone_reads_everyone();
}
