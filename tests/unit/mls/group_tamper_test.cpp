// SPDX-License-Identifier: Apache-2.0
// Commits, proposals and Welcomes that must be refused, and must leave every
// state unchanged (epoch, epoch authenticator, tree hash; the relay's
// PublicGroup compares equal), after which the next valid message still
// works.
//
// The room: A and B facilitate, C and D do not; all joined through one
// Welcome, so the test recomputes that epoch's secrets from B's init key
// (EpochKeys) and can re-sign and re-tag a tampered PublicMessage with the
// sender's key and the membership key: the tamper then reaches the check
// behind the signature and the membership tag. "Rogue" twins of B and C
// joined from the same Welcome with RolePolicy::AllowAll produce commits the
// Hearth policy forbids, fully valid otherwise.
#include <catch2/catch.hpp>

#include <algorithm>

#include "common/crypto/hpke.h"
#include "common/mls/framing.h"
#include "common/mls/welcome.h"
#include "tests/unit/mls/group_fixture.h"

using namespace hearth;
using namespace hearth::mls;
using namespace hearth::mls::testing;

namespace {

struct Snapshot {
  std::uint64_t epoch = 0;
  Bytes authenticator;
  Digest tree_hash{};
  GroupContext context;
  bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(const GroupState& s) {
  return Snapshot{s.epoch(), Bytes(s.epoch_authenticator().begin(), s.epoch_authenticator().end()),
                  s.tree().tree_hash(), s.context()};
}

MlsMessage wrap(PublicMessage pm) {
  MlsMessage m;
  m.body = std::move(pm);
  return m;
}

void flip(Bytes& b, std::size_t at = 0) {
  REQUIRE(b.size() > at);
  b[at] ^= 0x01;
}

struct Party {
  std::string name;
  Identity id;
  std::optional<GroupState> state;
};

class TamperRoom {
 public:
  TamperRoom() : rng_(0x7a3be5) {
    crypto::init();
    a_ = Party{"A", make_identity("A", rng_), std::nullopt};
    b_ = Party{"B", make_identity("B", rng_), std::nullopt};
    c_ = Party{"C", make_identity("C", rng_), std::nullopt};
    d_ = Party{"D", make_identity("D", rng_), std::nullopt};

    const auto own = make_key_package(a_.id, rng_);
    auto created = GroupState::create(to_bytes("tamper room"), own, a_.id.signing_key(),
                                      room_extensions({a_.id.name, b_.id.name}), RolePolicy::Hearth, rng_);
    INFO("create: " << outcome(created));
    REQUIRE(created.has_value());
    a_.state = std::move(*created);
    auto ds = DeliveryService::start(*a_.state);
    REQUIRE(ds.has_value());
    ds_ = std::move(*ds);

    const auto kb = make_key_package(b_.id, rng_);
    const auto kc = make_key_package(c_.id, rng_);
    const auto kd = make_key_package(d_.id, rng_);
    auto pc = a_.state->add({kb.key_package, kc.key_package, kd.key_package}, rng_, test_env());
    INFO("add: " << outcome(pc));
    REQUIRE(pc.has_value());
    REQUIRE(pc->welcome.has_value());
    auto relayed = ds_->submit(pc->commit, 0);
    INFO("relay: " << outcome(relayed));
    REQUIRE(relayed.has_value());
    first_commit_ = pc->commit;
    a_.state = std::move(pc->next);
    const MlsMessage welcome = over_the_wire(*pc->welcome);
    auto join = [&](Party& p, const KeyPackageBundle& kp, RolePolicy policy) {
      auto s = join_room(welcome, kp, p.id, std::nullopt, policy);
      INFO("join of " << p.name << ": " << outcome(s));
      REQUIRE(s.has_value());
      return std::move(*s);
    };
    b_.state = join(b_, kb, RolePolicy::Hearth);
    c_.state = join(c_, kc, RolePolicy::Hearth);
    d_.state = join(d_, kd, RolePolicy::Hearth);
    rogue_b_ = Party{"B (AllowAll)", Identity{b_.id.name, b_.id.credential, b_.id.signing_key()}, std::nullopt};
    rogue_b_.state = join(rogue_b_, kb, RolePolicy::AllowAll);
    rogue_c_ = Party{"C (AllowAll)", Identity{c_.id.name, c_.id.credential, c_.id.signing_key()}, std::nullopt};
    rogue_c_.state = join(rogue_c_, kc, RolePolicy::AllowAll);

    auto keys = epoch_keys_from_welcome(std::get<Welcome>(welcome.body), kb);
    INFO("epoch keys: " << outcome(keys));
    REQUIRE(keys.has_value());
    keys_.emplace(std::move(*keys));
    REQUIRE(keys_->context == a_.state->context());
    require_agreement();
  }

  Party& a() { return a_; }
  Party& b() { return b_; }
  Party& c() { return c_; }
  Party& d() { return d_; }
  Party& rogue_b() { return rogue_b_; }
  Party& rogue_c() { return rogue_c_; }
  SeededRng& rng() { return rng_; }
  DeliveryService& ds() { return *ds_; }
  const EpochKeys& keys() const { return *keys_; }
  const MlsMessage& first_commit() const { return first_commit_; }

  /// The honest members (not the rogue twins).
  std::vector<Party*> members() { return {&a_, &b_, &c_, &d_}; }

  /// Re-computes the membership tag of a (tampered) PublicMessage.
  MlsMessage retag(const PublicMessage& pm) const {
    const AuthenticatedContent content{WireFormat::PublicMessage, pm.content, pm.auth};
    auto out = protect_public(content, keys_->secrets.membership_key.view(), keys_->context);
    INFO("protect_public: " << outcome(out));
    REQUIRE(out.has_value());
    return wrap(std::move(*out));
  }
  /// Re-signs the content with `signer`'s key (keeping the confirmation tag), then re-tags.
  MlsMessage resign(const PublicMessage& pm, const Identity& signer) const {
    const auto content = sign_content(WireFormat::PublicMessage, pm.content, keys_->context, signer.key,
                                      pm.auth.confirmation_tag);
    auto out = protect_public(content, keys_->secrets.membership_key.view(), keys_->context);
    REQUIRE(out.has_value());
    return wrap(std::move(*out));
  }
  /// A standalone proposal from `sender`, signed and tagged as its state would.
  MlsMessage craft_proposal(const Party& sender, Proposal proposal) const {
    FramedContent fc;
    fc.group_id = keys_->context.group_id;
    fc.epoch = keys_->context.epoch;
    fc.sender = Sender{SenderType::Member, sender.state->own_leaf().v};
    fc.content = std::move(proposal);
    PublicMessage pm;
    pm.content = std::move(fc);
    return resign(pm, sender.id);
  }

  /// Every honest member but `sender_leaf`'s owner refuses `m` with
  /// `member_error` and stays as it was; the relay refuses it with
  /// `relay_error` (when given) and its view compares equal to before.
  void expect_refused(const MlsMessage& m, LeafIndex sender_leaf, Error member_error,
                      std::optional<Error> relay_error, const GroupEnv& env = test_env()) {
    const MlsMessage wire = over_the_wire(m);
    for (Party* p : members()) {
      if (p->state->own_leaf() == sender_leaf) continue;
      INFO("member " << p->name);
      const Snapshot before = snapshot(*p->state);
      auto r = p->state->handle(wire, env);
      CHECK(outcome(r) == to_string(member_error));
      CHECK(snapshot(*p->state) == before);
    }
    if (relay_error) {
      INFO("relay");
      const auto* pm = std::get_if<PublicMessage>(&wire.body);
      REQUIRE(pm != nullptr);
      PublicGroup view = ds_->view();
      auto r = view.handle(*pm, kTestNow);
      CHECK(outcome(r) == to_string(*relay_error));
      CHECK(view == ds_->view());
    }
  }

  /// A handshake message everyone accepts: the relay orders it, the sender
  /// adopts `sender_next`, everyone else handles it.
  void deliver(Party& sender, const MlsMessage& m, GroupState sender_next) {
    auto relayed = ds_->submit(m, 0);
    INFO("relay: " << outcome(relayed));
    REQUIRE(relayed.has_value());
    const MlsMessage wire = over_the_wire(m);
    for (Party* p : members()) {
      if (p == &sender || p->state->own_leaf() == sender.state->own_leaf()) continue;
      auto t = p->state->handle(wire, test_env());
      INFO("member " << p->name << ": " << outcome(t));
      REQUIRE(t.has_value());
      p->state = std::move(t->next);
    }
    sender.state = std::move(sender_next);
    rogue_b_.state.reset();  // the twins do not follow
    rogue_c_.state.reset();
  }

  /// A fresh self-update commit by `p`, delivered: the group still works.
  void next_commit_works(Party& p) {
    const std::uint64_t epoch = p.state->epoch();
    auto pc = p.state->update(rng_, test_env());
    INFO("valid commit after the tampered ones: " << outcome(pc));
    REQUIRE(pc.has_value());
    deliver(p, pc->commit, std::move(pc->next));
    CHECK(a_.state->epoch() == epoch + 1);
    require_agreement();
  }

  /// Everyone agrees with everyone and the relay, and reads everyone.
  void require_agreement() {
    const Snapshot ref = snapshot(*a_.state);
    for (Party* p : members()) {
      INFO("member " << p->name);
      CHECK(snapshot(*p->state) == ref);
      CHECK(p->state->members() == ds_->view().members());
    }
    CHECK(ds_->view().context() == a_.state->context());
    for (Party* s : members()) {
      const Bytes data = to_bytes("hello from " + s->name);
      auto m = s->state->protect(data, {}, rng_);
      REQUIRE(m.has_value());
      for (Party* r : members()) {
        if (r == s) continue;
        auto got = r->state->unprotect(*m);
        INFO(r->name << " reads " << s->name << ": " << outcome(got));
        REQUIRE(got.has_value());
        CHECK(got->data == data);
      }
    }
  }

 private:
  SeededRng rng_;
  Party a_, b_, c_, d_, rogue_b_, rogue_c_;
  std::optional<DeliveryService> ds_;
  std::optional<EpochKeys> keys_;
  MlsMessage first_commit_;
};

/// C's valid self-update commit (with a path), not delivered.
PendingCommit c_update(TamperRoom& room) {
  auto pc = room.c().state->update(room.rng(), test_env());
  INFO("C's update: " << outcome(pc));
  REQUIRE(pc.has_value());
  return std::move(*pc);
}

}  // namespace

TEST_CASE("group tamper: the room's secrets recomputed from the Welcome re-tag a valid commit", "[mls][group_tamper]") {
  // The premise of the re-signing tests: retag() and resign() of an
  // untouched commit give a message everyone accepts.
  TamperRoom room;
  auto pc = c_update(room);
  const PublicMessage& pm = public_message(pc.commit);
  const MlsMessage retagged = room.retag(pm);
  CHECK(public_message(retagged).membership_tag == pm.membership_tag);
  const MlsMessage resigned = room.resign(pm, room.c().id);
  auto at_a = room.a().state->handle(resigned, test_env());
  CHECK(outcome(at_a) == "ok");
  room.deliver(room.c(), resigned, std::move(pc.next));
  room.require_agreement();
}

TEST_CASE("group tamper: bad signature on a commit", "[mls][group_tamper]") {
  TamperRoom room;
  auto pc = c_update(room);
  const LeafIndex c_leaf = room.c().state->own_leaf();
  PublicMessage pm = public_message(pc.commit);
  flip(pm.auth.signature, 5);
  // Untagged: the membership tag fails first at members; the relay checks the signature.
  room.expect_refused(wrap(pm), c_leaf, Error::InvalidMembershipTag, Error::InvalidSignature);
  // Re-tagged: the signature itself is what fails.
  room.expect_refused(room.retag(pm), c_leaf, Error::InvalidSignature, Error::InvalidSignature);
  // Signed by another member's key.
  room.expect_refused(room.resign(public_message(pc.commit), room.d().id), c_leaf, Error::InvalidSignature,
                      Error::InvalidSignature);
  // The path's leaf signature broken, the content re-signed around it.
  PublicMessage bad_leaf = public_message(pc.commit);
  auto& commit = std::get<Commit>(bad_leaf.content.content);
  REQUIRE(commit.path.has_value());
  flip(commit.path->leaf_node.signature, 3);
  room.expect_refused(room.resign(bad_leaf, room.c().id), c_leaf, Error::InvalidSignature, Error::InvalidSignature);
  room.deliver(room.c(), pc.commit, std::move(pc.next));
  room.require_agreement();
  room.next_commit_works(room.a());
}

TEST_CASE("group tamper: bad confirmation tag with a valid signature and membership tag", "[mls][group_tamper]") {
  TamperRoom room;
  auto pc = c_update(room);
  const LeafIndex c_leaf = room.c().state->own_leaf();
  PublicMessage pm = public_message(pc.commit);
  REQUIRE(pm.auth.confirmation_tag.has_value());
  flip(*pm.auth.confirmation_tag, 7);
  // The signature does not cover the confirmation tag; the membership tag
  // does, and is recomputed. Only members can check the confirmation tag
  // (the relay has no epoch secrets), so the relay is not asked.
  room.expect_refused(room.retag(pm), c_leaf, Error::InvalidConfirmationTag, std::nullopt);
  PublicMessage missing = public_message(pc.commit);
  missing.auth.confirmation_tag.reset();
  // A commit without a confirmation tag does not even encode as one; as a
  // value it is refused by members and the relay.
  for (Party* p : room.members()) {
    if (p->state->own_leaf() == c_leaf) continue;
    auto r = p->state->handle(wrap(missing), test_env());
    CHECK_FALSE(r.has_value());
  }
  room.deliver(room.c(), pc.commit, std::move(pc.next));
  room.next_commit_works(room.d());
}

TEST_CASE("group tamper: wrong parent hash in the path, re-signed", "[mls][group_tamper]") {
  TamperRoom room;
  auto pc = c_update(room);
  const LeafIndex c_leaf = room.c().state->own_leaf();
  {
    // The leaf claims another parent hash; leaf and content re-signed with C's key.
    PublicMessage pm = public_message(pc.commit);
    auto& commit = std::get<Commit>(pm.content.content);
    REQUIRE(commit.path.has_value());
    REQUIRE_FALSE(commit.path->leaf_node.parent_hash.empty());
    flip(commit.path->leaf_node.parent_hash, 0);
    sign_leaf_node(commit.path->leaf_node, room.c().id.key, LeafBinding{room.keys().context.group_id, c_leaf});
    room.expect_refused(room.resign(pm, room.c().id), c_leaf, Error::InvalidParentHash, Error::InvalidParentHash);
  }
  {
    // A parent node's public key replaced: the leaf's parent hash no longer
    // matches the chain (the leaf's own signature stays valid).
    PublicMessage pm = public_message(pc.commit);
    auto& commit = std::get<Commit>(pm.content.content);
    REQUIRE_FALSE(commit.path->nodes.empty());
    const auto other = crypto::hpke::derive_key_pair(Bytes(32, 0x42));
    commit.path->nodes.back().encryption_key = Bytes(other.public_key.begin(), other.public_key.end());
    room.expect_refused(room.resign(pm, room.c().id), c_leaf, Error::InvalidParentHash, Error::InvalidParentHash);
  }
  room.deliver(room.c(), pc.commit, std::move(pc.next));
  room.next_commit_works(room.b());
}

TEST_CASE("group tamper: wrong epoch, wrong group, replayed and own commits", "[mls][group_tamper]") {
  TamperRoom room;
  auto pc = c_update(room);
  const LeafIndex c_leaf = room.c().state->own_leaf();
  for (const std::uint64_t epoch : {room.keys().context.epoch + 1, room.keys().context.epoch - 1, std::uint64_t{0x7fff}}) {
    INFO("epoch " << epoch);
    PublicMessage pm = public_message(pc.commit);
    pm.content.epoch = epoch;
    room.expect_refused(room.resign(pm, room.c().id), c_leaf, Error::WrongEpoch, Error::WrongEpoch);
  }
  {
    PublicMessage pm = public_message(pc.commit);
    pm.content.group_id = to_bytes("another room");
    room.expect_refused(room.resign(pm, room.c().id), c_leaf, Error::WrongGroup, Error::WrongGroup);
  }
  // The epoch-0 commit that added B, C and D, replayed in epoch 1.
  room.expect_refused(room.first_commit(), LeafIndex{0}, Error::WrongEpoch, Error::WrongEpoch);
  // C's own commit handed back to C's current state.
  {
    const Snapshot before = snapshot(*room.c().state);
    auto own = room.c().state->handle(pc.commit, test_env());
    CHECK(outcome(own) == to_string(Error::InvalidCommit));
    CHECK(snapshot(*room.c().state) == before);
  }
  room.deliver(room.c(), pc.commit, std::move(pc.next));
  // The same commit again after it was applied: a past epoch now.
  room.expect_refused(pc.commit, c_leaf, Error::WrongEpoch, Error::WrongEpoch);
  room.next_commit_works(room.a());
}

TEST_CASE("group tamper: Add and Remove proposed by a non-facilitator", "[mls][group_tamper]") {
  TamperRoom room;
  Party& c = room.c();
  const LeafIndex c_leaf = c.state->own_leaf();
  const Identity stranger = make_identity("stranger", room.rng());
  const auto kp = make_key_package(stranger, room.rng());

  // C's own (Hearth) state refuses to make them.
  CHECK(outcome(c.state->add({kp.key_package}, room.rng(), test_env())) == to_string(Error::PolicyViolation));
  CHECK(outcome(c.state->remove({room.d().state->own_leaf()}, room.rng(), test_env())) ==
        to_string(Error::PolicyViolation));
  CHECK(outcome(c.state->propose_add(kp.key_package, test_env())) == to_string(Error::PolicyViolation));

  // C's AllowAll twin makes them; members and the relay refuse them.
  GroupState& rogue = *room.rogue_c().state;
  auto add = rogue.add({kp.key_package}, room.rng(), test_env());
  INFO("rogue add: " << outcome(add));
  REQUIRE(add.has_value());
  room.expect_refused(add->commit, c_leaf, Error::PolicyViolation, Error::PolicyViolation);
  auto remove = rogue.remove({room.d().state->own_leaf()}, room.rng(), test_env());
  INFO("rogue remove: " << outcome(remove));
  REQUIRE(remove.has_value());
  room.expect_refused(remove->commit, c_leaf, Error::PolicyViolation, Error::PolicyViolation);
  // A standalone Add / Remove proposal from C, refused when it arrives.
  room.expect_refused(room.craft_proposal(c, Proposal{Add{kp.key_package}}), c_leaf, Error::PolicyViolation,
                      Error::PolicyViolation);
  room.expect_refused(room.craft_proposal(c, Proposal{Remove{room.d().state->own_leaf().v}}), c_leaf,
                      Error::PolicyViolation, Error::PolicyViolation);
  auto proposed = rogue.propose_add(kp.key_package, test_env());
  INFO("rogue proposal: " << outcome(proposed));
  REQUIRE(proposed.has_value());
  REQUIRE(proposed->message.has_value());
  room.expect_refused(*proposed->message, c_leaf, Error::PolicyViolation, Error::PolicyViolation);
  // A non-facilitator granting itself the role.
  Roles roles = c.state->roles();
  roles.facilitators.push_back(c.id.name);
  CommitOptions options;
  options.proposals.push_back(Proposal{GroupContextExtensions{{roles_extension(std::move(roles))}}});
  auto promote = rogue.commit(options, room.rng(), test_env());
  REQUIRE(promote.has_value());
  room.expect_refused(promote->commit, c_leaf, Error::PolicyViolation, Error::PolicyViolation);

  // A facilitator's Add still works, and a non-facilitator may leave.
  Party& a = room.a();
  auto ok = a.state->add({kp.key_package}, room.rng(), test_env());
  REQUIRE(ok.has_value());
  room.deliver(a, ok->commit, std::move(ok->next));
  room.next_commit_works(room.d());
}

TEST_CASE("group tamper: removing the last facilitator", "[mls][group_tamper]") {
  TamperRoom room;
  Party& a = room.a();
  Party& b = room.b();
  const LeafIndex c_leaf = room.c().state->own_leaf();
  // Both facilitators propose to leave (each may remove itself); C commits both.
  for (Party* leaver : {&a, &b}) {
    auto t = leaver->state->propose_remove(leaver->state->own_leaf());
    INFO(leaver->name << " proposes to leave: " << outcome(t));
    REQUIRE(t.has_value());
    REQUIRE(t->message.has_value());
    const MlsMessage m = over_the_wire(*t->message);
    auto relayed = room.ds().submit(m, 0);
    INFO("relay caches a self-removal: " << outcome(relayed));
    REQUIRE(relayed.has_value());
    leaver->state = std::move(t->next);
    for (Party* p : {&room.a(), &room.b(), &room.c(), &room.d(), &room.rogue_c()}) {
      if (p == leaver) continue;
      auto handled = p->state->handle(m, test_env());
      INFO(p->name << " caches a self-removal: " << outcome(handled));
      REQUIRE(handled.has_value());
      p->state = std::move(handled->next);
    }
  }
  // C's Hearth state will not commit them.
  CHECK(outcome(room.c().state->commit(CommitOptions{}, room.rng(), test_env())) ==
        to_string(Error::PolicyViolation));
  // Its AllowAll twin does; nobody accepts it.
  auto both = room.rogue_c().state->commit(CommitOptions{}, room.rng(), test_env());
  INFO("rogue commit: " << outcome(both));
  REQUIRE(both.has_value());
  room.expect_refused(both->commit, c_leaf, Error::PolicyViolation, Error::PolicyViolation);

  // B's AllowAll twin (a facilitator) removes A and drops itself from the
  // roles in one commit: no facilitator left.
  CommitOptions options;
  options.commit_cached = false;
  options.proposals.push_back(Proposal{Remove{a.state->own_leaf().v}});
  options.proposals.push_back(Proposal{GroupContextExtensions{{roles_extension(Roles{{a.id.name}})}}});
  auto twin_b = room.rogue_b().state->commit(options, room.rng(), test_env());
  INFO("rogue B commit: " << outcome(twin_b));
  REQUIRE(twin_b.has_value());
  room.expect_refused(twin_b->commit, b.state->own_leaf(), Error::PolicyViolation, Error::PolicyViolation);
  // The same by B's Hearth state: refused locally. An empty roles list too.
  CHECK(outcome(b.state->commit(options, room.rng(), test_env())) == to_string(Error::PolicyViolation));
  CommitOptions empty_roles;
  empty_roles.commit_cached = false;
  empty_roles.proposals.push_back(Proposal{GroupContextExtensions{{roles_extension(Roles{})}}});
  CHECK(outcome(b.state->commit(empty_roles, room.rng(), test_env())) == to_string(Error::PolicyViolation));

  // Only A leaving is fine: B still facilitates.
  CommitOptions only_a;
  only_a.commit_cached = false;
  only_a.proposals.push_back(Proposal{Remove{a.state->own_leaf().v}});
  auto fine = room.d().state->commit(only_a, room.rng(), test_env());
  CHECK(outcome(fine) == to_string(Error::PolicyViolation));  // D may not remove A: not a facilitator
  auto by_b = b.state->commit(only_a, room.rng(), test_env());
  INFO("B removes A: " << outcome(by_b));
  REQUIRE(by_b.has_value());
  room.deliver(b, by_b->commit, std::move(by_b->next));
  CHECK(a.state->is_removed());
  CHECK(b.state->members().size() == 3);
}

TEST_CASE("group tamper: forged and misdirected Welcomes", "[mls][group_tamper]") {
  TamperRoom room;
  Party& a = room.a();
  const Identity e = make_identity("E", room.rng());
  const auto ke = make_key_package(e, room.rng());
  const Identity f = make_identity("F", room.rng());
  const auto kf = make_key_package(f, room.rng());
  auto pc = a.state->add({ke.key_package}, room.rng(), test_env());
  REQUIRE(pc.has_value());
  REQUIRE(pc->welcome.has_value());
  const Welcome& welcome = std::get<Welcome>(pc->welcome->body);
  auto keys = epoch_keys_from_welcome(welcome, ke);
  INFO("epoch keys: " << outcome(keys));
  REQUIRE(keys.has_value());

  // Re-encrypts a modified GroupInfo for E with the real joiner secret.
  auto rewelcome = [&](const GroupInfo& info) {
    std::optional<crypto::SecretBytes> path_secret;
    if (keys->group_secrets.path_secret) path_secret = crypto::SecretBytes(*keys->group_secrets.path_secret);
    WelcomeJoiner joiner{&ke.key_package, std::move(path_secret)};
    auto w = create_welcome(info, keys->group_secrets.joiner_secret, zero_secret(), {}, {&joiner, 1}, room.rng());
    REQUIRE(w.has_value());
    MlsMessage m;
    m.body = std::move(*w);
    return m;
  };
  auto expect_join = [&](const MlsMessage& w, const KeyPackageBundle& kp, const Identity& id, Error expected) {
    auto joined = join_room(w, kp, id);
    CHECK(outcome(joined) == to_string(expected));
  };

  // The premise: the untouched GroupInfo re-encrypted joins.
  {
    auto joined = join_room(rewelcome(keys->group_info), ke, e);
    CHECK(outcome(joined) == "ok");
  }
  {
    GroupInfo info = keys->group_info;
    flip(info.signature, 9);
    expect_join(rewelcome(info), ke, e, Error::InvalidSignature);
  }
  {
    // Signed by the joiner itself instead of the signer leaf's key.
    GroupInfo info = keys->group_info;
    sign_group_info(info, e.key);
    expect_join(rewelcome(info), ke, e, Error::InvalidSignature);
  }
  {
    // Another signer index (D's leaf) with A's signature.
    GroupInfo info = keys->group_info;
    info.signer = room.d().state->own_leaf().v;
    expect_join(rewelcome(info), ke, e, Error::InvalidSignature);
  }
  {
    // Properly signed by A (the test owns its key) but with a wrong
    // confirmation tag: the joiner's key schedule disagrees.
    GroupInfo info = keys->group_info;
    flip(info.confirmation_tag, 2);
    sign_group_info(info, a.id.key);
    expect_join(rewelcome(info), ke, e, Error::InvalidConfirmationTag);
  }
  {
    // Properly signed, but the context's tree hash is not the tree's.
    GroupInfo info = keys->group_info;
    flip(info.group_context.tree_hash, 4);
    sign_group_info(info, a.id.key);
    auto joined = join_room(rewelcome(info), ke, e);
    CHECK_FALSE(joined.has_value());
  }
  // The encrypted GroupInfo garbled: DecryptFailed.
  {
    Welcome w = welcome;
    flip(w.encrypted_group_info, 11);
    MlsMessage m;
    m.body = w;
    expect_join(m, ke, e, Error::DecryptFailed);
  }
  // For another KeyPackage: F has none in it.
  expect_join(*pc->welcome, kf, f, Error::InvalidWelcome);
  // E's KeyPackage but another init key (the bundle of a different package
  // with E's reference would not open).
  {
    KeyPackageBundle wrong_key = make_key_package(e, room.rng());
    wrong_key.key_package = ke.key_package;
    wrong_key.ref = ke.ref;
    auto joined = join_room(*pc->welcome, wrong_key, e);
    CHECK_FALSE(joined.has_value());
  }
  // The tree out of band: none at all (the Welcome has none either), or a
  // stale one (before the commit).
  {
    CommitOptions no_tree;
    no_tree.proposals.push_back(Proposal{Add{kf.key_package}});
    no_tree.ratchet_tree_in_welcome = false;
    auto bare = a.state->commit(no_tree, room.rng(), test_env());
    REQUIRE(bare.has_value());
    REQUIRE(bare->welcome.has_value());
    CHECK(outcome(join_room(*bare->welcome, kf, f)) == to_string(Error::InvalidWelcome));
    const RatchetTree stale = a.state->tree().to_wire();
    CHECK(outcome(join_room(*bare->welcome, kf, f, stale)) == to_string(Error::TreeHashMismatch));
    const RatchetTree fresh = bare->next.tree().to_wire();
    CHECK(outcome(join_room(*bare->welcome, kf, f, fresh)) == "ok");
  }
  // The relay refuses a GroupInfo with a forged signature too.
  {
    GroupInfo info = a.state->group_info(true);
    const RatchetTree tree = a.state->tree().to_wire();
    flip(info.signature, 1);
    auto view = PublicGroup::from_group_info(info, tree, RolePolicy::Hearth, kTestNow);
    CHECK(outcome(view) == to_string(Error::InvalidSignature));
  }

  // The real Welcome still works once the commit is accepted.
  room.deliver(a, pc->commit, std::move(pc->next));
  auto joined = join_room(*pc->welcome, ke, e);
  INFO("E joins: " << outcome(joined));
  REQUIRE(joined.has_value());
  CHECK(joined->epoch() == a.state->epoch());
  CHECK(Bytes(joined->epoch_authenticator().begin(), joined->epoch_authenticator().end()) ==
        Bytes(a.state->epoch_authenticator().begin(), a.state->epoch_authenticator().end()));
  CHECK(joined->members() == room.ds().view().members());
}

TEST_CASE("group tamper: truncated and garbled messages", "[mls][group_tamper]") {
  TamperRoom room;
  auto pc = c_update(room);
  const LeafIndex c_leaf = room.c().state->own_leaf();
  const Bytes wire = encode(pc.commit);
  // Every truncation is a decode error.
  for (std::size_t n = 0; n < wire.size(); n += (n < 64 ? 1 : 13)) {
    auto m = decode<MlsMessage>(BytesView(wire.data(), n));
    INFO("prefix of " << n << " of " << wire.size() << " bytes");
    CHECK_FALSE(m.has_value());
  }
  // A trailing byte too.
  {
    Bytes longer = wire;
    longer.push_back(0);
    CHECK(outcome(decode<MlsMessage>(longer)) == to_string(Error::TrailingBytes));
  }
  // A flipped bit anywhere: a decode error, or every member and the relay refuse it.
  std::size_t decoded = 0;
  for (std::size_t at = 0; at < wire.size(); at += 17) {
    Bytes garbled = wire;
    garbled[at] ^= 0x10;
    auto m = decode<MlsMessage>(garbled);
    if (!m) continue;
    ++decoded;
    INFO("bit flipped at byte " << at);
    for (Party* p : room.members()) {
      if (p->state->own_leaf() == c_leaf) continue;
      const Snapshot before = snapshot(*p->state);
      CHECK_FALSE(p->state->handle(*m, test_env()).has_value());
      CHECK(snapshot(*p->state) == before);
    }
  }
  CHECK(decoded > 0);
  // An application message garbled: DecryptFailed or another error, never data.
  auto app = room.d().state->protect(to_bytes("x"), {}, room.rng());
  REQUIRE(app.has_value());
  Bytes app_wire = encode(*app);
  for (std::size_t at = 0; at < app_wire.size(); at += 7) {
    Bytes garbled = app_wire;
    garbled[at] ^= 0x04;
    auto m = decode<MlsMessage>(garbled);
    if (!m) continue;
    INFO("application message bit flipped at byte " << at);
    CHECK_FALSE(room.a().state->unprotect(*m).has_value());
  }
  // A truncated Welcome.
  const Identity e = make_identity("E", room.rng());
  const auto ke = make_key_package(e, room.rng());
  auto add = room.a().state->add({ke.key_package}, room.rng(), test_env());
  REQUIRE(add.has_value());
  const Bytes welcome_wire = encode(*add->welcome);
  for (std::size_t n = 0; n < welcome_wire.size(); n += 31) {
    CHECK_FALSE(decode<MlsMessage>(BytesView(welcome_wire.data(), n)).has_value());
  }
  room.deliver(room.c(), pc.commit, std::move(pc.next));
  room.next_commit_works(room.a());
}

TEST_CASE("group tamper: invalid proposal lists and paths behind valid signatures", "[mls][group_tamper]") {
  TamperRoom room;
  auto pc = c_update(room);
  const LeafIndex c_leaf = room.c().state->own_leaf();
  auto with_proposals = [&](std::vector<ProposalOrRef> extra) {
    PublicMessage pm = public_message(pc.commit);
    auto& commit = std::get<Commit>(pm.content.content);
    for (auto& p : extra) commit.proposals.push_back(std::move(p));
    return room.resign(pm, room.c().id);
  };
  const std::uint32_t d_leaf = room.d().state->own_leaf().v;
  // A reference to a proposal nobody sent.
  room.expect_refused(with_proposals({ProposalOrRef{Bytes(32, 0xab)}}), c_leaf, Error::UnknownProposal,
                      Error::UnknownProposal);
  // The same leaf removed twice (by a non-facilitator, so the policy is not
  // what fails: §12.2 comes first or the policy does; both refuse).
  {
    auto m = with_proposals({ProposalOrRef{Proposal{Remove{d_leaf}}}, ProposalOrRef{Proposal{Remove{d_leaf}}}});
    for (Party* p : room.members()) {
      if (p->state->own_leaf() == c_leaf) continue;
      const Snapshot before = snapshot(*p->state);
      CHECK_FALSE(p->state->handle(m, test_env()).has_value());
      CHECK(snapshot(*p->state) == before);
    }
  }
  // A Remove of a leaf outside the tree.
  room.expect_refused(with_proposals({ProposalOrRef{Proposal{Remove{1000}}}}), c_leaf, Error::InvalidProposal,
                      Error::InvalidProposal);
  // An Update of the committer inline (§12.2: not allowed).
  {
    LeafNode leaf = *room.c().state->tree().leaf(c_leaf);
    const auto fresh = crypto::hpke::derive_key_pair(Bytes(32, 0x31));
    leaf.encryption_key = Bytes(fresh.public_key.begin(), fresh.public_key.end());
    leaf.leaf_node_source = LeafNodeSource::Update;
    leaf.lifetime = Lifetime{};
    leaf.parent_hash.clear();
    sign_leaf_node(leaf, room.c().id.key, LeafBinding{room.keys().context.group_id, c_leaf});
    room.expect_refused(with_proposals({ProposalOrRef{Proposal{Update{leaf}}}}), c_leaf, Error::InvalidProposal,
                        Error::InvalidProposal);
  }
  // ReInit and ExternalInit: Unsupported.
  room.expect_refused(with_proposals({ProposalOrRef{Proposal{ReInit{to_bytes("x"), kProtocolVersionMls10,
                                                                    kCipherSuite, {}}}}}),
                      c_leaf, Error::Unsupported, Error::Unsupported);
  // A path one node short.
  {
    PublicMessage pm = public_message(pc.commit);
    auto& commit = std::get<Commit>(pm.content.content);
    REQUIRE(commit.path.has_value());
    commit.path->nodes.pop_back();
    room.expect_refused(room.resign(pm, room.c().id), c_leaf, Error::InvalidCommit, Error::InvalidCommit);
  }
  // A path-less commit with nothing in it (an empty commit needs a path).
  {
    PublicMessage pm = public_message(pc.commit);
    std::get<Commit>(pm.content.content).path.reset();
    room.expect_refused(room.resign(pm, room.c().id), c_leaf, Error::InvalidCommit, Error::InvalidCommit);
  }
  // The path's leaf with another signature key (a different identity's key
  // claimed for C's leaf), signed with that key.
  {
    PublicMessage pm = public_message(pc.commit);
    auto& commit = std::get<Commit>(pm.content.content);
    const Identity mallory = make_identity("mallory", room.rng());
    commit.path->leaf_node.signature_key = mallory.public_key();
    sign_leaf_node(commit.path->leaf_node, mallory.key, LeafBinding{room.keys().context.group_id, c_leaf});
    auto m = room.resign(pm, room.c().id);
    for (Party* p : room.members()) {
      if (p->state->own_leaf() == c_leaf) continue;
      CHECK_FALSE(p->state->handle(m, test_env()).has_value());
    }
  }
  room.deliver(room.c(), pc.commit, std::move(pc.next));
  room.next_commit_works(room.a());
}

TEST_CASE("group tamper: encrypted commits garbled", "[mls][group_tamper]") {
  TamperRoom room;
  CommitOptions options;
  options.encrypt = true;
  auto pc = room.c().state->commit(options, room.rng(), test_env());
  INFO("encrypted commit: " << outcome(pc));
  REQUIRE(pc.has_value());
  const auto* pm = std::get_if<PrivateMessage>(&pc->commit.body);
  REQUIRE(pm != nullptr);
  CHECK(pm->content_type == ContentType::Commit);
  const LeafIndex c_leaf = room.c().state->own_leaf();
  for (const std::size_t at : {std::size_t{0}, pm->ciphertext.size() / 2, pm->ciphertext.size() - 1}) {
    PrivateMessage bad = *pm;
    flip(bad.ciphertext, at);
    MlsMessage m;
    m.body = bad;
    room.expect_refused(m, c_leaf, Error::DecryptFailed, std::nullopt);
  }
  {
    PrivateMessage bad = *pm;
    flip(bad.encrypted_sender_data, 1);
    MlsMessage m;
    m.body = bad;
    room.expect_refused(m, c_leaf, Error::DecryptFailed, std::nullopt);
  }
  {
    PrivateMessage bad = *pm;
    bad.authenticated_data = to_bytes("extra");
    MlsMessage m;
    m.body = bad;
    room.expect_refused(m, c_leaf, Error::DecryptFailed, std::nullopt);
  }
  // The relay cannot follow an encrypted commit (Hearth sends commits as
  // PublicMessages): the delivery service refuses the wire format.
  CHECK(outcome(room.ds().submit(pc->commit, 0)) == to_string(Error::WrongWireFormat));
  // The untouched one works for every member.
  for (Party* p : room.members()) {
    if (p->state->own_leaf() == c_leaf) continue;
    auto t = p->state->handle(pc->commit, test_env());
    INFO(p->name << ": " << outcome(t));
    REQUIRE(t.has_value());
    CHECK(t->next.epoch() == pc->next.epoch());
    CHECK(t->next.tree().tree_hash() == pc->next.tree().tree_hash());
    CHECK(Bytes(t->next.epoch_authenticator().begin(), t->next.epoch_authenticator().end()) ==
          Bytes(pc->next.epoch_authenticator().begin(), pc->next.epoch_authenticator().end()));
  }
}

TEST_CASE("group tamper: a PSK the receiver lacks or holds with another value", "[mls][group_tamper]") {
  TamperRoom room;
  Party& c = room.c();
  const LeafIndex c_leaf = c.state->own_leaf();
  TestPsks committer_psks;
  committer_psks.add(to_bytes("shared psk"), Bytes(32, 0x5a));
  PreSharedKeyId id;
  id.psk_type = PskType::External;
  id.psk_id = to_bytes("shared psk");
  id.psk_nonce = Bytes(kHashSize, 0x11);
  CommitOptions options;
  options.proposals.push_back(Proposal{PreSharedKey{id}});
  // The committer itself needs the PSK.
  CHECK(outcome(c.state->commit(options, room.rng(), test_env())) == to_string(Error::UnknownPsk));
  auto pc = c.state->commit(options, room.rng(), test_env(&committer_psks));
  INFO("PSK commit: " << outcome(pc));
  REQUIRE(pc.has_value());
  // Receivers without it: UnknownPsk. With another value: the key schedule
  // differs, so the confirmation tag does not verify. The relay cannot tell.
  room.expect_refused(pc->commit, c_leaf, Error::UnknownPsk, std::nullopt);
  TestPsks wrong;
  wrong.add(to_bytes("shared psk"), Bytes(32, 0x5b));
  room.expect_refused(pc->commit, c_leaf, Error::InvalidConfirmationTag, std::nullopt, test_env(&wrong));
  // With the right value everyone follows, and agrees.
  auto relayed = room.ds().submit(pc->commit, 0);
  REQUIRE(relayed.has_value());
  for (Party* p : room.members()) {
    if (p == &c) continue;
    auto t = p->state->handle(pc->commit, test_env(&committer_psks));
    INFO(p->name << ": " << outcome(t));
    REQUIRE(t.has_value());
    p->state = std::move(t->next);
  }
  c.state = std::move(pc->next);
  room.require_agreement();
  room.next_commit_works(room.d());
}

TEST_CASE("group tamper: an Add of a KeyPackage expired by the receiver's clock", "[mls][group_tamper]") {
  TamperRoom room;
  Party& a = room.a();
  const Identity e = make_identity("E", room.rng());
  const auto ke = make_key_package(e, room.rng());
  auto pc = a.state->add({ke.key_package}, room.rng(), test_env());
  REQUIRE(pc.has_value());
  // Receivers whose clock is past the package's not_after refuse the commit.
  GroupEnv later = test_env();
  later.now_s = kTestNow + kDefaultKeyPackageLifetimeSeconds + 7 * 24 * 3600;
  room.expect_refused(pc->commit, a.state->own_leaf(), Error::LifetimeExpired, std::nullopt, later);
  // The committer refuses to add it with that clock, and a package not yet valid.
  CHECK(outcome(a.state->add({ke.key_package}, room.rng(), later)) == to_string(Error::LifetimeExpired));
  GroupEnv earlier = test_env();
  earlier.now_s = kTestNow - 3 * 24 * 3600;
  CHECK(outcome(a.state->add({ke.key_package}, room.rng(), earlier)) == to_string(Error::LifetimeExpired));
  room.deliver(a, pc->commit, std::move(pc->next));
  room.next_commit_works(room.c());
}

TEST_CASE("group tamper: what only members can check (the relay accepts, members refuse)", "[mls][group_tamper]") {
  // A member can send a commit whose secret parts are wrong: the relay,
  // holding no secret, orders it as the epoch's commit, and every other
  // member refuses it. Documented here so the consequence (members stuck
  // behind the relay's epoch until the room recovers) stays visible.
  TamperRoom room;
  auto pc = c_update(room);
  const LeafIndex c_leaf = room.c().state->own_leaf();
  const auto relay_accepts = [&](const MlsMessage& m) {
    PublicGroup view = room.ds().view();
    auto r = view.handle(public_message(m), kTestNow);
    INFO("relay: " << outcome(r));
    CHECK(r.has_value());
  };
  {
    // Garbled HPKE ciphertexts of the path secrets.
    PublicMessage pm = public_message(pc.commit);
    auto& commit = std::get<Commit>(pm.content.content);
    for (auto& node : commit.path->nodes) {
      for (auto& ct : node.encrypted_path_secret) flip(ct.ciphertext, 0);
    }
    const MlsMessage m = room.resign(pm, room.c().id);
    relay_accepts(m);
    room.expect_refused(m, c_leaf, Error::DecryptFailed, std::nullopt);
  }
  {
    // A wrong confirmation tag.
    PublicMessage pm = public_message(pc.commit);
    flip(*pm.auth.confirmation_tag, 0);
    const MlsMessage m = room.retag(pm);
    relay_accepts(m);
    room.expect_refused(m, c_leaf, Error::InvalidConfirmationTag, std::nullopt);
  }
  room.deliver(room.c(), pc.commit, std::move(pc.next));
  room.next_commit_works(room.b());
}
