// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <functional>

#include "common/mls/framing.h"
#include "common/mls/leaf_node.h"
#include "common/mls/public_group.h"
#include "common/mls/transcript.h"
#include "common/mls/treekem.h"
#include "common/mls/welcome.h"
#include "tests/support/seeded_rng.h"

using namespace hearth;
using namespace hearth::mls;
using hearth::test::SeededRng;

namespace {

struct Person {
  crypto::SigningKey key;
  KeyPackageBundle bundle;
};

Person person(std::string_view identity, Rng& rng) {
  Bytes seed(32);
  rng.fill(seed);
  Person p;
  p.key = crypto::ed25519_from_seed(seed).value();
  KeyPackageOptions options;
  options.lifetime = Lifetime{1'700'000'000, 1'700'000'000 + 28 * 24 * 3600};
  options.extensions = {kRolesExtensionType};
  p.bundle = create_key_package(basic_credential(as_bytes(identity)), p.key, options, rng);
  return p;
}

const Bytes kTag(kHashSize, 0xCC);  // made up: only members can check it

// What a committer's client does up to signing (the secrets are not needed
// by the public view, so they are dropped).
struct CommitPlan {
  std::uint32_t committer = 0;
  std::vector<ProposalOrRef> proposals;
  bool with_path = true;
  // Applied to the committer's new leaf before signing it (and the chain).
  std::function<void(PublicTree&, PendingPath&)> tamper_path;
};

struct Room {
  SeededRng rng{5};
  std::vector<Person> people;
  PublicGroup group;

  // alice (0, facilitator), bob (1), carol (2), dave (3).
  Room() {
    crypto::init();
    for (const char* name : {"alice", "bob", "carol", "dave"}) people.push_back(person(name, rng));
    PublicTree tree = PublicTree::with_first_leaf(people[0].bundle.key_package.leaf_node);
    for (std::size_t i = 1; i < people.size(); ++i) {
      REQUIRE(tree.add_leaf(people[i].bundle.key_package.leaf_node).has_value());
    }
    group = PublicGroup::create(to_bytes("room"), tree, {roles_extension(Roles{{to_bytes("alice")}})},
                                RolePolicy::Hearth)
                .value();
  }

  AuthenticatedContent commit(const CommitPlan& plan) {
    Commit commit;
    commit.proposals = plan.proposals;
    const LeafIndex committer{plan.committer};
    if (plan.with_path) {
      auto list = resolve_proposals(commit, committer, group.proposals()).value();
      PublicTree tree = group.tree();
      const AppliedProposals applied = apply_proposals(tree, list).value();
      GroupContext provisional = group.context();
      provisional.epoch += 1;
      if (applied.extensions) provisional.extensions = *applied.extensions;
      const LeafNode& old = *group.tree().leaf(committer);
      const LeafTemplate tpl{old.credential, old.capabilities, old.extensions};
      auto pending =
          prepare_update_path(tree, committer, tpl, people[plan.committer].key, group.context().group_id, rng);
      REQUIRE(pending.has_value());
      if (plan.tamper_path) plan.tamper_path(tree, *pending);
      const Digest th = tree.tree_hash();
      provisional.tree_hash = Bytes(th.begin(), th.end());
      const auto joiners = applied.joiners();
      auto path = encrypt_update_path(*pending, tree, joiners, encode(provisional), rng);
      REQUIRE(path.has_value());
      commit.path = std::move(*path);
    }
    FramedContent fc;
    fc.group_id = group.context().group_id;
    fc.epoch = group.epoch();
    fc.sender = Sender{SenderType::Member, plan.committer};
    fc.content = std::move(commit);
    return sign_content(WireFormat::PublicMessage, std::move(fc), group.context(), people[plan.committer].key, kTag);
  }

  AuthenticatedContent proposal(std::uint32_t sender, Proposal p) {
    FramedContent fc;
    fc.group_id = group.context().group_id;
    fc.epoch = group.epoch();
    fc.sender = Sender{SenderType::Member, sender};
    fc.content = std::move(p);
    return sign_content(WireFormat::PublicMessage, std::move(fc), group.context(), people[sender].key, std::nullopt);
  }
};

PublicMessage to_public(const AuthenticatedContent& ac) {
  return PublicMessage{ac.content, ac.auth, Bytes(kHashSize, 0)};  // the relay never checks the tag
}

ProposalOrRef value(Proposal p) { return ProposalOrRef{std::move(p)}; }
ProposalOrRef by_ref(const Digest& d) { return ProposalOrRef{Bytes(d.begin(), d.end())}; }

// handle() must fail with `e` and leave the group as it was.
void refused(Room& room, const AuthenticatedContent& ac, Error e) {
  const PublicGroup before = room.group;
  auto r = room.group.handle(to_public(ac), std::nullopt);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == e);
  CHECK(room.group == before);
}

}  // namespace

TEST_CASE("public group: create", "[mls][public_group]") {
  Room room;
  const PublicGroup& g = room.group;
  CHECK(g.epoch() == 0);
  const Digest th = g.tree().tree_hash();
  CHECK(g.context().tree_hash == Bytes(th.begin(), th.end()));
  CHECK(g.context().confirmed_transcript_hash.empty());
  CHECK(g.interim_transcript_hash().empty());
  CHECK(g.roles() == Roles{{to_bytes("alice")}});
  REQUIRE(g.members().size() == 4);
  CHECK(g.members()[2].credential == basic_credential(as_bytes("carol")));
  CHECK(g.signer_key(Sender{SenderType::Member, 3}).value() == room.people[3].bundle.key_package.leaf_node.signature_key);
  CHECK(g.signer_key(Sender{SenderType::Member, 4}).error() == Error::SenderOutOfRange);
  CHECK(g.signer_key(Sender{SenderType::External, 0}).error() == Error::SenderOutOfRange);

  auto with_tag = PublicGroup::create(to_bytes("room"), g.tree(), g.context().extensions, RolePolicy::Hearth, kTag);
  REQUIRE(with_tag.has_value());
  const Digest interim = interim_transcript_hash(Bytes{}, kTag);
  CHECK(with_tag->interim_transcript_hash().size() == kHashSize);
  CHECK(std::equal(interim.begin(), interim.end(), with_tag->interim_transcript_hash().begin()));

  CHECK(PublicGroup::create(to_bytes("x"), PublicTree{}, {}, RolePolicy::Hearth).error() == Error::InvalidTree);
  const std::vector<Extension> bad{Extension{kRolesExtensionType, Bytes{9}}};
  CHECK(PublicGroup::create(to_bytes("x"), g.tree(), bad, RolePolicy::Hearth).error() == Error::InvalidValue);
}

TEST_CASE("public group: a facilitator's Add commit without path", "[mls][public_group]") {
  Room room;
  const Person erin = person("erin", room.rng);
  const AuthenticatedContent ac = room.commit({0, {value(Proposal{Add{erin.bundle.key_package}})}, false, {}});
  const Bytes interim_before(room.group.interim_transcript_hash().begin(), room.group.interim_transcript_hash().end());
  auto update = room.group.handle(to_public(ac), std::nullopt);
  REQUIRE(update.has_value());
  CHECK(update->content_type == ContentType::Commit);
  CHECK(update->sender == LeafIndex{0});
  CHECK(update->epoch == 1);
  REQUIRE(update->added.size() == 1);
  CHECK(update->added[0].leaf == LeafIndex{4});
  CHECK(update->added[0].key_package_ref == erin.bundle.ref);
  CHECK(update->removed.empty());

  const PublicGroup& g = room.group;
  CHECK(g.epoch() == 1);
  CHECK(g.tree().n_leaves() == 8);
  CHECK(*g.tree().leaf(LeafIndex{4}) == erin.bundle.key_package.leaf_node);
  const Digest th = g.tree().tree_hash();
  CHECK(g.context().tree_hash == Bytes(th.begin(), th.end()));
  const Digest confirmed = confirmed_transcript_hash(interim_before, ac).value();
  CHECK(g.context().confirmed_transcript_hash == Bytes(confirmed.begin(), confirmed.end()));
  const Digest interim = interim_transcript_hash(confirmed, kTag);
  CHECK(std::equal(interim.begin(), interim.end(), g.interim_transcript_hash().begin(),
                   g.interim_transcript_hash().end()));
}

TEST_CASE("public group: a Remove commit with path, and a path-only update", "[mls][public_group]") {
  Room room;
  auto removed = room.group.handle(to_public(room.commit({0, {value(Proposal{Remove{1}})}, true, {}})), std::nullopt);
  REQUIRE(removed.has_value());
  REQUIRE(removed->removed.size() == 1);
  CHECK(removed->removed[0].first == LeafIndex{1});
  CHECK(removed->removed[0].second == basic_credential(as_bytes("bob")));
  CHECK(room.group.tree().leaf(LeafIndex{1}) == nullptr);
  CHECK(room.group.tree().leaf(LeafIndex{0})->leaf_node_source == LeafNodeSource::Commit);

  // carol refreshes her keys (any member may commit).
  const Bytes carol_key_before = room.group.tree().leaf(LeafIndex{2})->encryption_key;
  auto refreshed = room.group.handle(to_public(room.commit({2, {}, true, {}})), std::nullopt);
  REQUIRE(refreshed.has_value());
  CHECK(room.group.epoch() == 2);
  CHECK(room.group.tree().leaf(LeafIndex{2})->encryption_key != carol_key_before);
  CHECK(room.group.tree().verify_parent_hashes().has_value());

  // dave leaves: his own Remove proposal, committed by carol.
  auto p = room.group.handle(to_public(room.proposal(3, Proposal{Remove{3}})), std::nullopt);
  REQUIRE(p.has_value());
  CHECK(p->content_type == ContentType::Proposal);
  REQUIRE(p->proposal_ref.has_value());
  CHECK(room.group.proposals().size() == 1);
  auto left = room.group.handle(to_public(room.commit({2, {by_ref(*p->proposal_ref)}, true, {}})), std::nullopt);
  REQUIRE(left.has_value());
  CHECK(room.group.proposals().size() == 0);
  CHECK(room.group.tree().n_leaves() == 4);  // leaf 3 gone; carol at 2 keeps the size
  CHECK(room.group.members().size() == 2);
}

TEST_CASE("public group: an Update proposal committed by reference", "[mls][public_group]") {
  Room room;
  LeafNode leaf = room.people[1].bundle.key_package.leaf_node;
  leaf.leaf_node_source = LeafNodeSource::Update;
  leaf.lifetime = {};
  const auto fresh = crypto::x25519_generate();
  leaf.encryption_key = Bytes(fresh.public_key.begin(), fresh.public_key.end());
  sign_leaf_node(leaf, room.people[1].key, LeafBinding{to_bytes("room"), LeafIndex{1}});
  auto p = room.group.handle(to_public(room.proposal(1, Proposal{Update{leaf}})), std::nullopt);
  REQUIRE(p.has_value());

  SECTION("without a path the commit is InvalidCommit") {
    refused(room, room.commit({3, {by_ref(*p->proposal_ref)}, false, {}}), Error::InvalidCommit);
  }
  SECTION("with a path it applies") {
    auto c = room.group.handle(to_public(room.commit({3, {by_ref(*p->proposal_ref)}, true, {}})), std::nullopt);
    REQUIRE(c.has_value());
    CHECK(*room.group.tree().leaf(LeafIndex{1}) == leaf);
  }
  SECTION("the committer cannot commit its own Update") {
    refused(room, room.commit({1, {by_ref(*p->proposal_ref)}, true, {}}), Error::InvalidProposal);
  }
}

TEST_CASE("public group: refused commits leave the group unchanged", "[mls][public_group]") {
  Room room;
  const Person erin = person("erin", room.rng);
  const Proposal add_erin{Add{erin.bundle.key_package}};

  SECTION("forged signature") {
    AuthenticatedContent ac = room.commit({0, {value(add_erin)}, false, {}});
    ac.auth.signature[5] ^= 1;
    refused(room, ac, Error::InvalidSignature);
  }
  SECTION("signed by another member's key") {
    AuthenticatedContent ac = room.commit({0, {value(add_erin)}, false, {}});
    ac = sign_content(WireFormat::PublicMessage, ac.content, room.group.context(), room.people[1].key, kTag);
    refused(room, ac, Error::InvalidSignature);
  }
  SECTION("wrong epoch and wrong group") {
    AuthenticatedContent ac = room.commit({0, {value(add_erin)}, false, {}});
    ac.content.epoch = 1;
    refused(room, ac, Error::WrongEpoch);
    ac.content.epoch = 0;
    ac.content.group_id = to_bytes("other");
    refused(room, ac, Error::WrongGroup);
  }
  SECTION("a member's Add") {
    refused(room, room.commit({1, {value(add_erin)}, true, {}}), Error::PolicyViolation);
    refused(room, room.proposal(1, add_erin), Error::PolicyViolation);
  }
  SECTION("a member removing someone else") {
    refused(room, room.commit({1, {value(Proposal{Remove{2}})}, true, {}}), Error::PolicyViolation);
  }
  SECTION("removing the last facilitator") {
    auto p = room.group.handle(to_public(room.proposal(0, Proposal{Remove{0}})), std::nullopt);
    REQUIRE(p.has_value());
    refused(room, room.commit({1, {by_ref(*p->proposal_ref)}, true, {}}), Error::PolicyViolation);
  }
  SECTION("a member changing the extensions") {
    const Proposal gce{GroupContextExtensions{{roles_extension(Roles{{to_bytes("bob")}})}}};
    refused(room, room.commit({1, {value(gce)}, true, {}}), Error::PolicyViolation);
    // The facilitator may hand the role over.
    auto ok = room.group.handle(to_public(room.commit({0, {value(gce)}, true, {}})), std::nullopt);
    REQUIRE(ok.has_value());
    CHECK(room.group.roles() == Roles{{to_bytes("bob")}});
    CHECK(room.group.context().extensions == std::get<GroupContextExtensions>(gce.body).extensions);
  }
  SECTION("a path-required commit without path") {
    refused(room, room.commit({0, {value(Proposal{Remove{1}})}, false, {}}), Error::InvalidCommit);
    refused(room, room.commit({0, {}, false, {}}), Error::InvalidCommit);
  }
  SECTION("a wrong parent hash") {
    CommitPlan plan{2, {}, true, {}};
    plan.tamper_path = [&](PublicTree&, PendingPath& pending) {
      pending.leaf.parent_hash[0] ^= 1;
      sign_leaf_node(pending.leaf, room.people[2].key, LeafBinding{to_bytes("room"), LeafIndex{2}});
    };
    refused(room, room.commit(plan), Error::InvalidParentHash);
  }
  SECTION("a path leaf signed for another position") {
    CommitPlan plan{2, {}, true, {}};
    plan.tamper_path = [&](PublicTree&, PendingPath& pending) {
      sign_leaf_node(pending.leaf, room.people[2].key, LeafBinding{to_bytes("room"), LeafIndex{3}});
    };
    refused(room, room.commit(plan), Error::InvalidSignature);
  }
  SECTION("a path leaf claiming a facilitator's identity") {
    CommitPlan plan{2, {}, true, {}};
    plan.tamper_path = [&](PublicTree&, PendingPath& pending) {
      pending.leaf.credential = basic_credential(as_bytes("alice"));
      sign_leaf_node(pending.leaf, room.people[2].key, LeafBinding{to_bytes("room"), LeafIndex{2}});
    };
    refused(room, room.commit(plan), Error::PolicyViolation);
  }
  SECTION("a path whose leaf reuses a member's encryption key") {
    CommitPlan plan{2, {}, true, {}};
    plan.tamper_path = [&](PublicTree&, PendingPath& pending) {
      pending.leaf.encryption_key = room.people[3].bundle.key_package.leaf_node.encryption_key;
      sign_leaf_node(pending.leaf, room.people[2].key, LeafBinding{to_bytes("room"), LeafIndex{2}});
    };
    refused(room, room.commit(plan), Error::InvalidLeafNode);
  }
  SECTION("a path whose parent key is already in the tree") {
    AuthenticatedContent ac = room.commit({2, {}, true, {}});
    auto& path = *std::get<Commit>(ac.content.content).path;
    path.nodes[0].encryption_key = room.people[3].bundle.key_package.leaf_node.encryption_key;
    ac = sign_content(WireFormat::PublicMessage, ac.content, room.group.context(), room.people[2].key, kTag);
    refused(room, ac, Error::InvalidCommit);
  }
  SECTION("a path with one node too many") {
    AuthenticatedContent ac = room.commit({2, {}, true, {}});
    auto& path = *std::get<Commit>(ac.content.content).path;
    path.nodes.push_back(path.nodes.back());
    path.nodes.back().encryption_key[0] ^= 1;
    ac = sign_content(WireFormat::PublicMessage, ac.content, room.group.context(), room.people[2].key, kTag);
    refused(room, ac, Error::InvalidCommit);
  }
  SECTION("an unknown proposal reference") {
    refused(room, room.commit({0, {ProposalOrRef{Bytes(kHashSize, 1)}}, false, {}}), Error::UnknownProposal);
  }
  SECTION("a sender outside the tree, an external sender, an application message") {
    AuthenticatedContent ac = room.commit({0, {value(add_erin)}, false, {}});
    ac.content.sender.index = 9;
    refused(room, ac, Error::SenderOutOfRange);
    ac.content.sender = Sender{SenderType::External, 0};
    refused(room, ac, Error::Unsupported);
    AuthenticatedContent app = room.proposal(0, add_erin);
    app.content.content = ApplicationData{to_bytes("hi")};
    refused(room, app, Error::WrongWireFormat);
  }
  SECTION("a commit without a confirmation tag") {
    AuthenticatedContent ac = room.commit({0, {value(add_erin)}, false, {}});
    ac.auth.confirmation_tag = Bytes(3, 0);
    CHECK(room.group.apply_commit(ac, std::nullopt).error() == Error::InvalidConfirmationTag);
    ac.auth.confirmation_tag.reset();
    CHECK(room.group.apply_commit(ac, std::nullopt).error() == Error::InvalidConfirmationTag);
  }
}

TEST_CASE("public group: proposals through handle", "[mls][public_group]") {
  Room room;
  const Person erin = person("erin", room.rng);
  auto p = room.group.handle(to_public(room.proposal(0, Proposal{Add{erin.bundle.key_package}})), std::nullopt);
  REQUIRE(p.has_value());
  CHECK(room.group.proposals().size() == 1);
  CHECK(p->epoch == 0);

  AuthenticatedContent forged = room.proposal(0, Proposal{Remove{2}});
  forged.auth.signature[0] ^= 1;
  refused(room, forged, Error::InvalidSignature);
  refused(room, room.proposal(0, Proposal{ReInit{}}), Error::Unsupported);
  CHECK(room.group.add_proposal(room.proposal(0, Proposal{ExternalInit{}})).error() == Error::Unsupported);

  // bob commits alice's Add by reference: the proposer is what counts.
  auto c = room.group.handle(to_public(room.commit({1, {by_ref(*p->proposal_ref)}, false, {}})), std::nullopt);
  REQUIRE(c.has_value());
  REQUIRE(c->added.size() == 1);
  CHECK(c->added[0].key_package_ref == erin.bundle.ref);
  // A proposal of the previous epoch is stale.
  CHECK(room.group.proposals().size() == 0);
}

TEST_CASE("public group: from a GroupInfo", "[mls][public_group]") {
  Room room;
  room.people.push_back(person("erin", room.rng));
  const Person& erin = room.people[4];
  REQUIRE(room.group.handle(to_public(room.commit({0, {value(Proposal{Add{erin.bundle.key_package}})}, true, {}})),
                            std::nullopt)
              .has_value());
  REQUIRE(room.group.handle(to_public(room.commit({4, {}, true, {}})), std::nullopt).has_value());

  GroupInfo info;
  info.group_context = room.group.context();
  info.confirmation_tag = kTag;
  info.signer = 4;
  sign_group_info(info, erin.key);
  const RatchetTree wire = room.group.tree().to_wire();

  auto joined = PublicGroup::from_group_info(info, wire, RolePolicy::Hearth, std::nullopt);
  REQUIRE(joined.has_value());
  CHECK(*joined == room.group);

  SECTION("tampered signature, wrong signer, blank signer") {
    GroupInfo bad = info;
    bad.signature[0] ^= 1;
    CHECK(PublicGroup::from_group_info(bad, wire, RolePolicy::Hearth, std::nullopt).error() ==
          Error::InvalidSignature);
    GroupInfo other = info;
    other.signer = 2;
    CHECK(PublicGroup::from_group_info(other, wire, RolePolicy::Hearth, std::nullopt).error() ==
          Error::InvalidSignature);
    GroupInfo blank = info;
    blank.signer = 7;
    sign_group_info(blank, erin.key);
    CHECK(PublicGroup::from_group_info(blank, wire, RolePolicy::Hearth, std::nullopt).error() ==
          Error::SenderOutOfRange);
  }
  SECTION("a tree that does not match the context") {
    GroupInfo bad = info;
    bad.group_context.tree_hash[0] ^= 1;
    sign_group_info(bad, erin.key);
    CHECK(PublicGroup::from_group_info(bad, wire, RolePolicy::Hearth, std::nullopt).error() ==
          Error::TreeHashMismatch);
  }
  SECTION("the public view follows the next commit like the original") {
    const AuthenticatedContent next = room.commit({1, {}, true, {}});
    REQUIRE(room.group.handle(to_public(next), std::nullopt).has_value());
    REQUIRE(joined->handle(to_public(next), std::nullopt).has_value());
    CHECK(*joined == room.group);
  }
}

TEST_CASE("public group: AllowAll lets a member add", "[mls][public_group]") {
  Room room;
  room.group = PublicGroup::create(to_bytes("room"), room.group.tree(), room.group.context().extensions,
                                   RolePolicy::AllowAll)
                   .value();
  const Person erin = person("erin", room.rng);
  CHECK(room.group.handle(to_public(room.commit({1, {value(Proposal{Add{erin.bundle.key_package}})}, false, {}})),
                          std::nullopt)
            .has_value());
}

TEST_CASE("public group: a commit at 200 members keeps the tree hash cache", "[mls][public_group]") {
  Room room;
  for (int i = 4; i < 200; ++i) {
    room.people.push_back(person("member-" + std::to_string(i), room.rng));
  }
  PublicTree tree = room.group.tree();
  for (std::size_t i = 4; i < room.people.size(); ++i) {
    REQUIRE(tree.add_leaf(room.people[i].bundle.key_package.leaf_node).has_value());
  }
  room.group =
      PublicGroup::create(to_bytes("room"), tree, room.group.context().extensions, RolePolicy::Hearth).value();
  REQUIRE(room.group.tree().n_leaves() == 256);
  // Every hash computed once at creation; a commit then changes one path, so
  // the new epoch's tree hash recomputes O(log n) nodes and the adopted tree
  // has every hash cached again (the relay never hashes the whole tree).
  CHECK(room.group.tree().cached_hash_count() == room.group.tree().width());
  REQUIRE(room.group.handle(to_public(room.commit({150, {}, true, {}})), std::nullopt).has_value());
  CHECK(room.group.tree().cached_hash_count() == room.group.tree().width());
  REQUIRE(room.group.handle(to_public(room.commit({0, {value(Proposal{Remove{77}})}, true, {}})), std::nullopt)
              .has_value());
  CHECK(room.group.tree().cached_hash_count() == room.group.tree().width());
  CHECK(room.group.members().size() == 199);
}

TEST_CASE("public group: every flipped byte of a re-signed commit is refused or harmless", "[mls][public_group]") {
  Room room;
  const Person erin = person("erin", room.rng);
  const AuthenticatedContent ac =
      room.commit({0, {value(Proposal{Add{erin.bundle.key_package}}), value(Proposal{Remove{2}})}, true, {}});
  const Bytes wire = encode(to_public(ac));
  std::size_t refused_count = 0;
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < wire.size(); ++i) {
    Bytes flipped = wire;
    flipped[i] ^= 0x01;
    auto message = decode<PublicMessage>(flipped);
    if (!message) continue;
    // Re-signed as the (possibly changed) sender would, so the flip reaches
    // the checks behind the signature.
    const std::uint32_t signer = message->content.sender.index;
    if (signer < room.people.size() && message->content.content.index() == 2) {
      AuthenticatedContent content{WireFormat::PublicMessage, message->content, message->auth};
      content = sign_content(WireFormat::PublicMessage, content.content, room.group.context(), room.people[signer].key,
                             message->auth.confirmation_tag);
      message->auth = content.auth;
    }
    PublicGroup group = room.group;
    auto r = group.handle(*message, std::nullopt);
    if (r) {
      ++accepted;
      CHECK(group.epoch() == 1);
    } else {
      ++refused_count;
      CHECK(group == room.group);
    }
  }
  // Most flips hit keys, signatures, hashes or lengths; flips inside HPKE
  // ciphertexts or the tag's value are only for members to notice.
  CHECK(refused_count > accepted);
}
