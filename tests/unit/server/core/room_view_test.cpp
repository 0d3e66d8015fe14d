// SPDX-License-Identifier: Apache-2.0
// The relay's public view of a room's MLS group: what it accepts at creation
// and from each commit, with the bytes real members produce.
#include <catch2/catch.hpp>

#include <map>

#include "common/mls/codec.h"
#include "common/mls/group_state.h"
#include "common/mls/identity.h"
#include "common/mls/roles.h"
#include "server/core/room_view.h"
#include "tests/support/seeded_rng.h"

using namespace hearth;
using namespace hearth::relay;

namespace {

constexpr std::uint64_t kNow = 1'900'000'000;
const RoomId kRoom{Bytes(32, 0x42)};

struct Device {
  AccountId account;
  crypto::SigningKey key;
  [[nodiscard]] Bytes public_key() const { return Bytes(key.public_key.begin(), key.public_key.end()); }
  [[nodiscard]] crypto::SigningKey copy() const { return crypto::ed25519_from_seed(crypto::ed25519_seed(key).view()).value(); }
};

Device device(std::uint8_t id, Rng& rng) {
  Bytes seed(32);
  rng.fill(seed);
  return Device{AccountId{Bytes(16, id)}, crypto::ed25519_from_seed(seed).value()};
}

mls::KeyPackageBundle package(const Device& d, Rng& rng, const AccountId* claimed = nullptr) {
  return mls::create_key_package(mls::account_credential((claimed ? *claimed : d.account).v), d.key,
                                 mls::account_key_package_options(kNow), rng);
}

mls::GroupEnv env() { return mls::GroupEnv{kNow, nullptr}; }

Bytes info_of(const mls::GroupState& g, bool with_tree = true) {
  return mls::encode(mls::MlsMessage{mls::kProtocolVersionMls10, g.group_info(with_tree)});
}

struct World {
  test::SeededRng rng{99};
  std::map<AccountId, Device> devices;
  IdentityLookup lookup = [this](const AccountId& a) -> std::optional<Bytes> {
    auto it = devices.find(a);
    if (it == devices.end()) return std::nullopt;
    return it->second.public_key();
  };
  const Device& add(std::uint8_t id) { return devices.emplace(AccountId{Bytes(16, id)}, device(id, rng)).first->second; }
};

/// `creator`'s new room, and the relay's view opened from it.
struct Founded {
  mls::GroupState group;
  mls::PublicGroup view;
};
Founded found(World& w, const Device& creator) {
  auto group = mls::GroupState::create(kRoom.v, package(creator, w.rng), creator.copy(),
                                       {mls::roles_extension(mls::Roles{{creator.account.v}})},
                                       mls::RolePolicy::Hearth, w.rng);
  REQUIRE(group);
  auto view = open_room_view(kRoom, info_of(*group), creator.account, creator.public_key(), kNow);
  REQUIRE(view);
  return Founded{std::move(*group), std::move(*view)};
}

std::vector<wire::WelcomeFor> welcomes_for(const mls::PendingCommit& c, const std::vector<AccountId>& accounts) {
  std::vector<wire::WelcomeFor> out;
  for (const auto& a : accounts) out.push_back(wire::WelcomeFor{a, mls::encode(*c.welcome)});
  return out;
}

}  // namespace

TEST_CASE("room view: a new room opens from its creator's GroupInfo only", "[server][view]") {
  World w;
  const auto& alice = w.add(1);
  const auto& bob = w.add(2);
  auto [created, first_view] = found(w, alice);
  auto* group = &created;
  auto* view = &first_view;
  CHECK(view->epoch() == 0);
  CHECK(view->members().size() == 1);

  auto refused = [&](const RoomId& room, BytesView info, const AccountId& who, BytesView key) {
    auto r = open_room_view(room, info, who, key, kNow);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == wire::ErrorCode::InvalidArgument);
    return r.error().reason;
  };
  CHECK(refused(RoomId{Bytes(32, 0x43)}, info_of(*group), alice.account, alice.public_key()).find("room id") !=
        std::string::npos);
  CHECK(refused(kRoom, info_of(*group), bob.account, bob.public_key()).find("creator") != std::string::npos);
  CHECK(refused(kRoom, info_of(*group), alice.account, bob.public_key()).find("creator") != std::string::npos);
  CHECK(refused(kRoom, info_of(*group, false), alice.account, alice.public_key()).find("tree") != std::string::npos);
  Bytes tampered = info_of(*group);
  tampered.back() ^= 0x01;  // the GroupInfo signature
  refused(kRoom, tampered, alice.account, alice.public_key());
  refused(kRoom, Bytes{1, 2, 3}, alice.account, alice.public_key());
  refused(kRoom, Bytes(kMaxGroupInfoSize + 1, 0), alice.account, alice.public_key());
  // A room whose roles do not name its creator.
  auto headless = mls::GroupState::create(kRoom.v, package(alice, w.rng), alice.copy(),
                                          {mls::roles_extension(mls::Roles{{bob.account.v}})},
                                          mls::RolePolicy::Hearth, w.rng);
  REQUIRE(headless);
  CHECK(refused(kRoom, info_of(*headless), alice.account, alice.public_key()).find("facilitator") !=
        std::string::npos);
}

TEST_CASE("room view: a facilitator's add is accepted with its roster change and Welcome routing",
          "[server][view]") {
  World w;
  const auto& alice = w.add(1);
  const auto& bob = w.add(2);
  const auto& carol = w.add(3);
  auto [created, first_view] = found(w, alice);
  auto* group = &created;
  auto* view = &first_view;
  const auto bob_kp = package(bob, w.rng);
  const auto carol_kp = package(carol, w.rng);
  auto commit = group->add({bob_kp.key_package, carol_kp.key_package}, w.rng, env());
  REQUIRE(commit);
  const Bytes handshake = mls::encode(commit->commit);
  const auto welcomes = welcomes_for(*commit, {bob.account, carol.account});

  auto plan = plan_commit(*view, handshake, alice.account, welcomes, w.lookup, kNow);
  INFO((plan ? "" : plan.error().reason));
  REQUIRE(plan);
  CHECK(plan->next.epoch() == 1);
  REQUIRE(plan->roster.size() == 2);
  CHECK(plan->roster[0] == wire::RosterChange{wire::RosterOp::Add, bob.account, wire::Role::Member});
  CHECK(plan->roster[1] == wire::RosterChange{wire::RosterOp::Add, carol.account, wire::Role::Member});
  REQUIRE(plan->joiners.size() == 2);
  CHECK(plan->joiners[0].second == bob_kp.ref);
  // The view is the members' view: same tree hash as the committer's next state.
  CHECK(plan->next.context() == commit->next.context());

  auto refused = [&](BytesView hs, const AccountId& who, const std::vector<wire::WelcomeFor>& ws,
                     wire::ErrorCode code) {
    auto r = plan_commit(*view, hs, who, ws, w.lookup, kNow);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == code);
    return r.error().reason;
  };
  // Welcomes: one missing, one for somebody not added, garbage.
  CHECK(refused(handshake, alice.account, {welcomes[0]}, wire::ErrorCode::InvalidArgument).find("no Welcome") !=
        std::string::npos);
  auto stray = welcomes;
  stray.push_back(wire::WelcomeFor{AccountId{Bytes(16, 9)}, welcomes[0].data});
  refused(handshake, alice.account, stray, wire::ErrorCode::InvalidArgument);
  auto junk = welcomes;
  junk[1].data = Bytes{1, 2, 3};
  refused(handshake, alice.account, junk, wire::ErrorCode::InvalidArgument);
  // Submitted by someone else than the committer.
  CHECK(refused(handshake, bob.account, welcomes, wire::ErrorCode::InvalidArgument).find("another member") !=
        std::string::npos);
  // A flipped bit in the signature. (The membership tag needs a member's
  // secret, so the relay cannot check it; the members do.)
  auto forged = commit->commit;
  std::get<mls::PublicMessage>(forged.body).auth.signature[0] ^= 0x01;
  CHECK(refused(mls::encode(forged), alice.account, welcomes, wire::ErrorCode::InvalidArgument)
            .find("signature") != std::string::npos);
  refused(Bytes(kMaxCommitSize + 1, 0), alice.account, welcomes, wire::ErrorCode::InvalidArgument);
}

TEST_CASE("room view: out-of-policy, stale, foreign-key and unknown-account commits are refused",
          "[server][view]") {
  World w;
  const auto& alice = w.add(1);
  const auto& bob = w.add(2);
  const auto& carol = w.add(3);
  const Device mallory = device(7, w.rng);  // not in the directory under her own id below
  auto [created, first_view] = found(w, alice);
  auto* alice_g = &created;
  auto* view = &first_view;
  const auto bob_kp = package(bob, w.rng);
  const auto carol_kp = package(carol, w.rng);
  auto add = alice_g->add({bob_kp.key_package, carol_kp.key_package}, w.rng, env());
  REQUIRE(add);
  auto plan = plan_commit(*view, mls::encode(add->commit), alice.account,
                          welcomes_for(*add, {bob.account, carol.account}), w.lookup, kNow);
  REQUIRE(plan);
  const auto epoch1 = plan->next;
  // Bob's client ignores the policy (AllowAll) and removes Carol: the relay does not.
  auto bob_g = mls::GroupState::join(std::get<mls::Welcome>(add->welcome->body), bob_kp, bob.copy(), std::nullopt,
                                     mls::RolePolicy::AllowAll, env());
  REQUIRE(bob_g);
  auto bob_remove = bob_g->remove({mls::LeafIndex{2}}, w.rng, env());
  REQUIRE(bob_remove);
  auto policy = plan_commit(epoch1, mls::encode(bob_remove->commit), bob.account, {}, w.lookup, kNow);
  REQUIRE_FALSE(policy);
  CHECK(policy.error().code == wire::ErrorCode::NotFacilitator);
  // Bob may refresh his own keys, though.
  auto bob_refresh = bob_g->update(w.rng, env());
  REQUIRE(bob_refresh);
  auto refresh_plan = plan_commit(epoch1, mls::encode(bob_refresh->commit), bob.account, {}, w.lookup, kNow);
  INFO((refresh_plan ? "" : refresh_plan.error().reason));
  REQUIRE(refresh_plan);
  CHECK(refresh_plan->roster.empty());
  // After that epoch, a commit built on epoch 1 is stale.
  auto alice_next = std::move(add->next);
  auto alice_remove = alice_next.remove({mls::LeafIndex{2}}, w.rng, env());
  REQUIRE(alice_remove);
  auto stale = plan_commit(refresh_plan->next, mls::encode(alice_remove->commit), alice.account, {}, w.lookup, kNow);
  REQUIRE_FALSE(stale);
  CHECK(stale.error().code == wire::ErrorCode::EpochConflict);
  // On epoch 1 the removal is fine and names Carol.
  auto removal = plan_commit(epoch1, mls::encode(alice_remove->commit), alice.account, {}, w.lookup, kNow);
  REQUIRE(removal);
  REQUIRE(removal->roster.size() == 1);
  CHECK(removal->roster[0] == wire::RosterChange{wire::RosterOp::Remove, carol.account, wire::Role::Member});

  // Mallory's key in a KeyPackage naming Dave's account: Dave's key is another.
  const auto& dave = w.add(4);
  auto forged_kp = package(mallory, w.rng, &dave.account);
  auto foreign = alice_next.add({forged_kp.key_package}, w.rng, env());
  REQUIRE(foreign);
  auto refused_foreign = plan_commit(epoch1, mls::encode(foreign->commit), alice.account,
                                     welcomes_for(*foreign, {dave.account}), w.lookup, kNow);
  REQUIRE_FALSE(refused_foreign);
  CHECK(refused_foreign.error().reason.find("not that account's") != std::string::npos);
  // An account the relay does not know.
  auto ghost = alice_next.add({package(mallory, w.rng).key_package}, w.rng, env());
  REQUIRE(ghost);
  auto refused_ghost = plan_commit(epoch1, mls::encode(ghost->commit), alice.account,
                                   welcomes_for(*ghost, {mallory.account}), w.lookup, kNow);
  REQUIRE_FALSE(refused_ghost);
  CHECK(refused_ghost.error().code == wire::ErrorCode::UnknownAccount);
  // An application message is not a membership change.
  auto app = alice_next.protect(to_bytes("hello"), {}, w.rng);
  REQUIRE(app);
  auto not_commit = plan_commit(epoch1, mls::encode(*app), alice.account, {}, w.lookup, kNow);
  REQUIRE_FALSE(not_commit);
  CHECK(not_commit.error().code == wire::ErrorCode::InvalidArgument);
}

namespace {

/// Alice's room with Bob and Carol added at epoch 1: the view and every member's state.
struct Grown {
  mls::PublicGroup view;
  mls::GroupState alice;
  mls::GroupState bob;
  mls::GroupState carol;
};
Grown grow(World& w, const Device& alice, const Device& bob, const Device& carol) {
  auto [group, view] = found(w, alice);
  const auto bob_kp = package(bob, w.rng);
  const auto carol_kp = package(carol, w.rng);
  auto add = group.add({bob_kp.key_package, carol_kp.key_package}, w.rng, env());
  REQUIRE(add);
  auto plan = plan_commit(view, mls::encode(add->commit), alice.account,
                          welcomes_for(*add, {bob.account, carol.account}), w.lookup, kNow);
  REQUIRE(plan);
  const auto& welcome = std::get<mls::Welcome>(add->welcome->body);
  auto bob_g = mls::GroupState::join(welcome, bob_kp, bob.copy(), std::nullopt, mls::RolePolicy::Hearth, env());
  auto carol_g = mls::GroupState::join(welcome, carol_kp, carol.copy(), std::nullopt, mls::RolePolicy::Hearth, env());
  REQUIRE(bob_g);
  REQUIRE(carol_g);
  return Grown{std::move(plan->next), std::move(add->next), std::move(*bob_g), std::move(*carol_g)};
}

struct ThreeMembers {
  World w;
  const Device& alice = w.add(1);
  const Device& bob = w.add(2);
  const Device& carol = w.add(3);
  Grown room = grow(w, alice, bob, carol);
};

}  // namespace

TEST_CASE("room view: a member's own removal is a proposal any member may commit", "[server][view]") {
  ThreeMembers fixture;
  auto& [w, alice, bob, carol, room] = fixture;
  auto leave = room.bob.propose_remove(room.bob.own_leaf());
  REQUIRE(leave);
  const Bytes proposal = mls::encode(*leave->message);
  CHECK(handshake_kind(proposal) == HandshakeKind::Proposal);

  // Only from the leaver's own connection.
  auto foreign = plan_proposal(room.view, proposal, carol.account, w.lookup, kNow);
  REQUIRE_FALSE(foreign);
  CHECK(foreign.error().reason.find("another member") != std::string::npos);
  auto accepted = plan_proposal(room.view, proposal, bob.account, w.lookup, kNow);
  INFO((accepted ? "" : accepted.error().reason));
  REQUIRE(accepted);
  CHECK(accepted->epoch() == room.view.epoch());
  CHECK(accepted->proposals().size() == 1);
  CHECK(room.view.proposals().size() == 0);  // the old view is untouched

  // Carol, no facilitator, commits Bob's leaving by reference.
  auto carol_seen = room.carol.handle(*leave->message, env());
  REQUIRE(carol_seen);
  auto commit = carol_seen->next.commit(mls::CommitOptions{}, w.rng, env());
  REQUIRE(commit);
  const Bytes handshake = mls::encode(commit->commit);
  CHECK(handshake_kind(handshake) == HandshakeKind::Commit);
  // Without the cached proposal the relay cannot resolve the reference.
  auto unknown = plan_commit(room.view, handshake, carol.account, {}, w.lookup, kNow);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == wire::ErrorCode::InvalidArgument);
  auto plan = plan_commit(*accepted, handshake, carol.account, {}, w.lookup, kNow);
  INFO((plan ? "" : plan.error().reason));
  REQUIRE(plan);
  REQUIRE(plan->roster.size() == 1);
  CHECK(plan->roster[0] == wire::RosterChange{wire::RosterOp::Remove, bob.account, wire::Role::Member});
  CHECK(plan->next.proposals().size() == 0);  // pending proposals end with the epoch
  // The cached proposal survives the relay's database.
  auto reloaded = mls::PublicGroup::load(accepted->serialize(), mls::RolePolicy::Hearth);
  REQUIRE(reloaded);
  CHECK(*reloaded == *accepted);
}

TEST_CASE("room view: standalone proposals other than one's own removal are refused", "[server][view]") {
  ThreeMembers fixture;
  auto& [w, alice, bob, carol, room] = fixture;
  auto code_of = [&](BytesView bytes, const AccountId& who) {
    auto r = plan_proposal(room.view, bytes, who, w.lookup, kNow);
    REQUIRE_FALSE(r);
    return r.error().code;
  };
  // A facilitator's Remove of someone else must come as a commit.
  auto remove_other = room.alice.propose_remove(mls::LeafIndex{2});
  REQUIRE(remove_other);
  CHECK(code_of(mls::encode(*remove_other->message), alice.account) == wire::ErrorCode::InvalidArgument);
  auto update = room.bob.propose_update(w.rng);
  REQUIRE(update);
  CHECK(code_of(mls::encode(*update->message), bob.account) == wire::ErrorCode::InvalidArgument);
  // A forged signature, garbage, a commit, an oversized message.
  auto leave = room.bob.propose_remove(room.bob.own_leaf());
  REQUIRE(leave);
  auto forged = *leave->message;
  std::get<mls::PublicMessage>(forged.body).auth.signature[3] ^= 0x10;
  CHECK(code_of(mls::encode(forged), bob.account) == wire::ErrorCode::InvalidArgument);
  CHECK(code_of(Bytes{0, 1, 0, 1, 9}, bob.account) == wire::ErrorCode::InvalidArgument);
  CHECK(code_of(Bytes(kMaxProposalSize + 1, 0), bob.account) == wire::ErrorCode::InvalidArgument);
  auto refresh = room.bob.update(w.rng, env());
  REQUIRE(refresh);
  CHECK(code_of(mls::encode(refresh->commit), bob.account) == wire::ErrorCode::InvalidArgument);
  // On a later epoch, Bob's old proposal is stale.
  auto moved = plan_commit(room.view, mls::encode(refresh->commit), bob.account, {}, w.lookup, kNow);
  REQUIRE(moved);
  auto stale = plan_proposal(moved->next, mls::encode(*leave->message), bob.account, w.lookup, kNow);
  REQUIRE_FALSE(stale);
  CHECK(stale.error().code == wire::ErrorCode::StaleEpoch);
  CHECK(handshake_kind(Bytes{1, 2, 3}) == HandshakeKind::Other);
}

TEST_CASE("room view: application envelopes are checked by their outer header", "[server][view]") {
  World w;
  const auto& alice = w.add(1);
  auto [group, view] = found(w, alice);
  auto message = group.protect(to_bytes("hello"), {}, w.rng);
  REQUIRE(message);
  const Bytes bytes = mls::encode(*message);
  auto ok = check_application_message(kRoom.v, Epoch{0}, bytes);
  REQUIRE(ok);
  CHECK(ok->v == 0);
  auto refused = [&](const RoomId& room, Epoch stated, BytesView b) {
    auto r = check_application_message(room.v, stated, b);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == wire::ErrorCode::InvalidArgument);
    return r.error().reason;
  };
  // Another group's message (the room's group before a reset): its sender
  // encrypts it again for the current group.
  auto other = check_application_message(Bytes(32, 0x43), Epoch{0}, bytes);
  REQUIRE_FALSE(other);
  CHECK(other.error().code == wire::ErrorCode::StaleEpoch);
  CHECK(refused(kRoom, Epoch{1}, bytes).find("epoch") != std::string::npos);
  refused(kRoom, Epoch{0}, Bytes{});
  refused(kRoom, Epoch{0}, to_bytes("plain text is not an MLS message"));
  Bytes truncated = bytes;
  truncated.resize(truncated.size() / 2);
  refused(kRoom, Epoch{0}, truncated);
  Bytes trailing = bytes;
  trailing.push_back(0);
  refused(kRoom, Epoch{0}, trailing);
  CHECK(refused(kRoom, Epoch{0}, Bytes(kMaxApplicationMessageSize + 1, 0)).find("too large") != std::string::npos);
  // A handshake or GroupInfo is no application message.
  refused(kRoom, Epoch{0}, info_of(group));
  auto commit = group.update(w.rng, env());
  REQUIRE(commit);
  refused(kRoom, Epoch{0}, mls::encode(commit->commit));
  mls::CommitOptions hidden;
  hidden.force_path = true;
  hidden.encrypt = true;
  auto private_commit = group.commit(hidden, w.rng, env());
  REQUIRE(private_commit);
  CHECK(refused(kRoom, Epoch{0}, mls::encode(private_commit->commit)).find("handshake") != std::string::npos);
}

TEST_CASE("room view: the last facilitator cannot propose to leave", "[server][view]") {
  ThreeMembers fixture;
  auto& [w, alice, bob, carol, room] = fixture;
  auto leave = room.alice.propose_remove(room.alice.own_leaf());
  REQUIRE(leave);
  auto r = plan_proposal(room.view, mls::encode(*leave->message), alice.account, w.lookup, kNow);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == wire::ErrorCode::LastFacilitator);
}

TEST_CASE("room view: a flipped bit anywhere the relay can check refuses the commit", "[server][view]") {
  ThreeMembers fixture;
  auto& [w, alice, bob, carol, room] = fixture;
  mls::CommitOptions o;
  o.force_path = true;
  auto c = room.alice.commit(o, w.rng, env());
  REQUIRE(c);
  const Bytes hs = mls::encode(c->commit);
  // The commit ends with the confirmation tag and the membership tag (each
  // a length byte and 32 bytes): only members hold the keys to check them.
  constexpr std::size_t kTags = 2 * (1 + 32);
  REQUIRE(hs.size() > kTags);
  std::size_t refused = 0;
  for (std::size_t i = 0; i < hs.size() - kTags; ++i) {
    Bytes flipped = hs;
    flipped[i] ^= 0x08;
    auto r = plan_commit(room.view, flipped, alice.account, {}, w.lookup, kNow);
    if (!r) ++refused;
    CHECK(r.has_value() == false);
  }
  CHECK(refused == hs.size() - kTags);
  REQUIRE(plan_commit(room.view, hs, alice.account, {}, w.lookup, kNow));
}

TEST_CASE("room view: a reset opens a fresh group of the submitter and plans its first commit", "[server][view]") {
  ThreeMembers fixture;
  auto& [w, alice, bob, carol, room] = fixture;
  const Bytes fresh(32, 0x77);
  auto start = [&](const Device& by, const Bytes& id) {
    auto g = mls::GroupState::create(id, package(by, w.rng), by.copy(),
                                     {mls::roles_extension(mls::Roles{{alice.account.v, by.account.v}})},
                                     mls::RolePolicy::Hearth, w.rng);
    REQUIRE(g);
    return std::move(*g);
  };
  auto group = start(alice, fresh);
  const auto bob_kp = package(bob, w.rng);
  const auto carol_kp = package(carol, w.rng);
  auto add = group.add({bob_kp.key_package, carol_kp.key_package}, w.rng, env());
  REQUIRE(add);
  const auto welcomes = welcomes_for(*add, {bob.account, carol.account});
  const Bytes commit = mls::encode(add->commit);

  auto plan = plan_reset(kRoom, room.view.context().group_id, info_of(group), commit, alice.account, welcomes,
                         w.lookup, kNow);
  INFO((plan ? "" : plan.error().reason));
  REQUIRE(plan);
  CHECK(plan->next.context().group_id == fresh);
  CHECK(plan->next.epoch() == 1);
  CHECK(plan->next.members().size() == 3);
  CHECK(plan->joiners.size() == 2);
  CHECK(plan->roster.size() == 2);

  auto refused = [&](BytesView current, BytesView info, BytesView handshake, const AccountId& by) {
    auto r = plan_reset(kRoom, current, info, handshake, by, welcomes, w.lookup, kNow);
    REQUIRE_FALSE(r);
    return r.error();
  };
  // The same group id again is no reset; neither is the room's id.
  CHECK(refused(fresh, info_of(group), commit, alice.account).reason.find("new group id") != std::string::npos);
  auto same_id = start(alice, kRoom.v);
  CHECK(refused(room.view.context().group_id, info_of(same_id), commit, alice.account).reason.find("new group id") !=
        std::string::npos);
  // Someone else's new group, or one sent from another connection.
  CHECK(refused(room.view.context().group_id, info_of(group), commit, bob.account).reason.find("creator") !=
        std::string::npos);
  auto bobs = start(bob, fresh);
  CHECK(refused(room.view.context().group_id, info_of(bobs), commit, alice.account).code ==
        wire::ErrorCode::InvalidArgument);
  // A commit for another group than the GroupInfo's.
  CHECK(refused(room.view.context().group_id, info_of(start(alice, Bytes(32, 0x78))), commit, alice.account).reason.find(
            "another group") != std::string::npos);
  // Garbage.
  CHECK(refused(room.view.context().group_id, Bytes{1, 2}, commit, alice.account).code == wire::ErrorCode::InvalidArgument);
  CHECK(refused(room.view.context().group_id, info_of(group), Bytes{1, 2}, alice.account).code ==
        wire::ErrorCode::InvalidArgument);
}

TEST_CASE("room view: joiners of one commit share its Welcome, sent once, within kMaxWelcomeBytes", "[server][view]") {
  const AccountId a{Bytes(16, 1)};
  const AccountId b{Bytes(16, 2)};
  const AccountId c{Bytes(16, 3)};
  std::vector<wire::WelcomeFor> welcomes{{a, Bytes{1, 2, 3}}, {b, {}}, {c, Bytes{9}}, {a, {}}};
  REQUIRE(share_welcomes(welcomes));
  CHECK(welcomes[1].data == Bytes{1, 2, 3});
  CHECK(welcomes[2].data == Bytes{9});
  CHECK(welcomes[3].data == Bytes{9});
  std::vector<wire::WelcomeFor> none;
  CHECK(share_welcomes(none));

  std::vector<wire::WelcomeFor> headless{{a, {}}, {b, Bytes{1}}};
  auto first = share_welcomes(headless);
  REQUIRE_FALSE(first);
  CHECK(first.error().code == wire::ErrorCode::InvalidArgument);
  // A small frame must not turn into a huge bundle: the copies count.
  std::vector<wire::WelcomeFor> huge{{a, Bytes(kMaxWelcomeBytes / 2 + 1, 0x5a)}, {b, {}}};
  auto big = share_welcomes(huge);
  REQUIRE_FALSE(big);
  CHECK(big.error().reason.find("too large") != std::string::npos);
  CHECK(huge[1].data.empty());  // refused before the copy
}
