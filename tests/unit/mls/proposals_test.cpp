// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "common/mls/leaf_node.h"
#include "common/mls/proposals.h"
#include "tests/support/seeded_rng.h"

using namespace hearth;
using namespace hearth::mls;
using hearth::test::SeededRng;

namespace {

constexpr std::uint16_t kExtraExtension = 0xF001;
constexpr std::uint64_t kNow = 1'800'000'000;  // the packages below are valid for four weeks around it
const Lifetime kLifetime{kNow - 14 * 24 * 3600, kNow + 14 * 24 * 3600};

struct Person {
  crypto::SigningKey key;
  KeyPackageBundle bundle;
};

Person person(std::string_view identity, Rng& rng, std::vector<std::uint16_t> extensions = {kRolesExtensionType,
                                                                                              kExtraExtension}) {
  Bytes seed(32);
  rng.fill(seed);
  Person p;
  p.key = crypto::ed25519_from_seed(seed).value();
  KeyPackageOptions options;
  options.lifetime = kLifetime;
  options.extensions = std::move(extensions);
  p.bundle = create_key_package(basic_credential(as_bytes(identity)), p.key, options, rng);
  return p;
}

Proposal add_of(const Person& p) { return Proposal{Add{p.bundle.key_package}}; }
Proposal remove_of(std::uint32_t leaf) { return Proposal{Remove{leaf}}; }
Proposal psk_of(Bytes id, std::size_t nonce_size = kHashSize) {
  PreSharedKeyId psk;
  psk.psk_type = PskType::External;
  psk.psk_id = std::move(id);
  psk.psk_nonce = Bytes(nonce_size, 7);
  return Proposal{PreSharedKey{psk}};
}
Proposal gce_of(std::vector<Extension> extensions) { return Proposal{GroupContextExtensions{std::move(extensions)}}; }

ProposalInfo by(std::uint32_t sender, Proposal p) { return ProposalInfo{std::move(p), LeafIndex{sender}, std::nullopt}; }

// A four-member group: alice (0, facilitator), bob (1), carol (2), dave (3).
struct Fixture {
  SeededRng rng{11};
  std::vector<Person> people;
  PublicTree tree;
  GroupContext context;

  Fixture() {
    crypto::init();
    for (const char* name : {"alice", "bob", "carol", "dave"}) people.push_back(person(name, rng));
    tree = PublicTree::with_first_leaf(people[0].bundle.key_package.leaf_node);
    for (std::size_t i = 1; i < people.size(); ++i) {
      REQUIRE(tree.add_leaf(people[i].bundle.key_package.leaf_node).has_value());
    }
    context.group_id = to_bytes("room");
    context.epoch = 3;
    const Digest th = tree.tree_hash();
    context.tree_hash = Bytes(th.begin(), th.end());
    context.extensions = {roles_extension(Roles{{to_bytes("alice")}})};
  }

  // A signed Update leaf for `leaf` with a fresh encryption key.
  LeafNode update_leaf(std::uint32_t leaf, std::optional<std::uint32_t> signed_for = std::nullopt) {
    LeafNode node = people[leaf].bundle.key_package.leaf_node;
    node.leaf_node_source = LeafNodeSource::Update;
    node.lifetime = {};
    Bytes secret(32);
    rng.fill(secret);
    const auto pair = crypto::x25519_from_secret(secret).value();
    node.encryption_key = Bytes(pair.public_key.begin(), pair.public_key.end());
    sign_leaf_node(node, people[leaf].key, LeafBinding{context.group_id, LeafIndex{signed_for.value_or(leaf)}});
    return node;
  }

  MlsResult<void> validate(std::uint32_t committer, const std::vector<ProposalInfo>& list,
                           std::optional<std::uint64_t> now_s = kNow) const {
    return validate_proposals(list, LeafIndex{committer}, tree, context, now_s);
  }
};

AuthenticatedContent proposal_message(std::uint32_t sender, Proposal p, std::string_view aad = "") {
  AuthenticatedContent ac;
  ac.content.group_id = to_bytes("room");
  ac.content.epoch = 3;
  ac.content.sender = Sender{SenderType::Member, sender};
  ac.content.authenticated_data = to_bytes(aad);
  ac.content.content = std::move(p);
  ac.auth.signature = Bytes(64, 1);
  return ac;
}

}  // namespace

TEST_CASE("proposals: cache keys proposals by ProposalRef", "[mls][proposals]") {
  ProposalCache cache;
  const AuthenticatedContent msg = proposal_message(1, remove_of(2));
  auto ref = cache.add(msg);
  REQUIRE(ref.has_value());
  CHECK(*ref == make_proposal_ref(encode(msg)));
  REQUIRE(cache.find(*ref) != nullptr);
  CHECK(cache.find(*ref)->sender == LeafIndex{1});
  CHECK(cache.find(*ref)->proposal == remove_of(2));

  SECTION("a duplicate is ignored") {
    CHECK(cache.add(msg).value() == *ref);
    CHECK(cache.size() == 1);
  }
  SECTION("unknown ref, non-member sender, non-proposal content") {
    Digest other = *ref;
    other[0] ^= 1;
    CHECK(cache.find(other) == nullptr);
    CHECK(cache.find(BytesView(ref->data(), 5)) == nullptr);
    AuthenticatedContent external = proposal_message(1, remove_of(2));
    external.content.sender.sender_type = SenderType::External;
    CHECK(cache.add(external).error() == Error::Unsupported);
    AuthenticatedContent app = msg;
    app.content.content = ApplicationData{to_bytes("hi")};
    CHECK(cache.add(app).error() == Error::WrongWireFormat);
    CHECK(cache.size() == 1);
  }
  SECTION("kMaxProposalsPerEpoch is the bound") {
    for (std::size_t i = 1; i < kMaxProposalsPerEpoch; ++i) {
      REQUIRE(cache.add(proposal_message(1, remove_of(2), std::to_string(i))).has_value());
    }
    CHECK(cache.size() == kMaxProposalsPerEpoch);
    CHECK(cache.add(proposal_message(1, remove_of(2), "one more")).error() == Error::InvalidProposal);
    CHECK(cache.add(msg).has_value());  // a duplicate still answers its ref
    cache.clear();
    CHECK(cache.size() == 0);
  }
}

TEST_CASE("proposals: resolve keeps the commit's order and origins", "[mls][proposals]") {
  ProposalCache cache;
  const auto ref = cache.add(proposal_message(3, remove_of(3))).value();
  Commit commit;
  commit.proposals.push_back(ProposalOrRef{remove_of(1)});
  commit.proposals.push_back(ProposalOrRef{Bytes(ref.begin(), ref.end())});
  auto list = resolve_proposals(commit, LeafIndex{0}, cache);
  REQUIRE(list.has_value());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0] == by(0, remove_of(1)));
  CHECK((*list)[1].sender == LeafIndex{3});
  CHECK((*list)[1].ref == ref);

  SECTION("unknown reference") {
    Bytes bad(ref.begin(), ref.end());
    bad[31] ^= 1;
    commit.proposals.push_back(ProposalOrRef{bad});
    CHECK(resolve_proposals(commit, LeafIndex{0}, cache).error() == Error::UnknownProposal);
  }
  SECTION("too many") {
    commit.proposals.assign(kMaxProposalsPerEpoch, ProposalOrRef{remove_of(1)});
    CHECK(resolve_proposals(commit, LeafIndex{0}, cache).has_value());
    commit.proposals.push_back(ProposalOrRef{remove_of(1)});
    CHECK(resolve_proposals(commit, LeafIndex{0}, cache).error() == Error::InvalidProposal);
  }
}

TEST_CASE("proposals: a valid mixed list passes", "[mls][proposals]") {
  Fixture f;
  const Person erin = person("erin", f.rng);
  const std::vector<ProposalInfo> list{by(0, add_of(erin)), by(1, Proposal{Update{f.update_leaf(1)}}),
                                       by(0, remove_of(2)), by(0, psk_of(to_bytes("a"))),
                                       by(0, psk_of(to_bytes("b")))};
  CHECK(f.validate(0, list).has_value());
  CHECK(f.validate(0, {}).has_value());
}

TEST_CASE("proposals: the committer may not update or remove itself", "[mls][proposals]") {
  Fixture f;
  CHECK(f.validate(1, {by(1, Proposal{Update{f.update_leaf(1)}})}).error() == Error::InvalidProposal);
  CHECK(f.validate(1, {by(0, remove_of(1))}).error() == Error::InvalidProposal);
  CHECK(f.validate(0, {by(1, remove_of(1))}).has_value());
}

TEST_CASE("proposals: one Update or Remove per leaf", "[mls][proposals]") {
  Fixture f;
  CHECK(f.validate(0, {by(0, remove_of(2)), by(2, remove_of(2))}).error() == Error::InvalidProposal);
  CHECK(f.validate(0, {by(1, Proposal{Update{f.update_leaf(1)}}), by(1, Proposal{Update{f.update_leaf(1)}})})
            .error() == Error::InvalidProposal);
  CHECK(f.validate(0, {by(1, Proposal{Update{f.update_leaf(1)}}), by(0, remove_of(1))}).error() ==
        Error::InvalidProposal);
}

TEST_CASE("proposals: Remove of a blank leaf", "[mls][proposals]") {
  Fixture f;
  f.tree.remove_leaf(LeafIndex{2});
  CHECK(f.validate(0, {by(0, remove_of(2))}).error() == Error::InvalidProposal);
  CHECK(f.validate(0, {by(0, remove_of(17))}).error() == Error::InvalidProposal);
  CHECK(f.validate(0, {by(0, remove_of(0xffffffff))}).error() == Error::InvalidProposal);
}

TEST_CASE("proposals: Adds", "[mls][proposals]") {
  Fixture f;
  const Person erin = person("erin", f.rng);
  SECTION("two Adds with the same signature key") {
    Person twin = person("erin2", f.rng);
    twin.bundle = create_key_package(basic_credential(as_bytes("erin2")), erin.key,
                                     KeyPackageOptions{kLifetime, {kRolesExtensionType}, {}, {}},
                                     f.rng);
    CHECK(f.validate(0, {by(0, add_of(erin)), by(0, add_of(twin))}).error() == Error::InvalidProposal);
  }
  SECTION("two Adds with the same encryption key") {
    CHECK(f.validate(0, {by(0, add_of(erin)), by(0, add_of(erin))}).error() == Error::InvalidProposal);
  }
  SECTION("an invalid KeyPackage gives validate_key_package's error") {
    Proposal p = add_of(erin);
    std::get<Add>(p.body).key_package.signature[0] ^= 1;
    CHECK(f.validate(0, {by(0, p)}).error() == Error::InvalidSignature);
    Proposal q = add_of(erin);
    std::get<Add>(q.body).key_package.cipher_suite = 1;
    CHECK(f.validate(0, {by(0, q)}).error() == Error::UnsupportedCipherSuite);
  }
  SECTION("an expired KeyPackage, unless time is not checked") {
    const std::uint64_t later = kLifetime.not_after + 1;
    CHECK(f.validate(0, {by(0, add_of(erin))}, later).error() == Error::LifetimeExpired);
    CHECK(f.validate(0, {by(0, add_of(erin))}, std::nullopt).has_value());
  }
  SECTION("a client already in the group, unless removed in the same list") {
    const Proposal again = add_of(f.people[2]);  // carol's own package: her keys are in the tree
    CHECK(f.validate(0, {by(0, again)}).error() == Error::InvalidLeafNode);
    CHECK(f.validate(0, {by(0, again), by(0, remove_of(2))}).has_value());
  }
  SECTION("Adds are checked against the new extensions") {
    const Person old_client = person("frank", f.rng, {kRolesExtensionType});
    const std::vector<Extension> extended{f.context.extensions[0], Extension{kExtraExtension, Bytes{1}}};
    CHECK(f.validate(0, {by(0, add_of(old_client))}).has_value());
    CHECK(f.validate(0, {by(0, add_of(old_client)), by(0, gce_of(extended))}).error() == Error::InvalidLeafNode);
  }
}

TEST_CASE("proposals: invalid Update leaves", "[mls][proposals]") {
  Fixture f;
  SECTION("signed for another position") {
    CHECK(f.validate(0, {by(1, Proposal{Update{f.update_leaf(1, 2)}})}).error() == Error::InvalidSignature);
  }
  SECTION("wrong source") {
    LeafNode leaf = f.update_leaf(1);
    leaf.leaf_node_source = LeafNodeSource::Commit;
    sign_leaf_node(leaf, f.people[1].key, LeafBinding{f.context.group_id, LeafIndex{1}});
    CHECK(f.validate(0, {by(1, Proposal{Update{leaf}})}).error() == Error::InvalidLeafNode);
  }
  SECTION("the same encryption key") {
    LeafNode leaf = f.update_leaf(1);
    leaf.encryption_key = f.tree.leaf(LeafIndex{1})->encryption_key;
    sign_leaf_node(leaf, f.people[1].key, LeafBinding{f.context.group_id, LeafIndex{1}});
    CHECK(f.validate(0, {by(1, Proposal{Update{leaf}})}).error() == Error::InvalidLeafNode);
  }
  SECTION("another member's encryption key") {
    LeafNode leaf = f.update_leaf(1);
    leaf.encryption_key = f.tree.leaf(LeafIndex{3})->encryption_key;
    sign_leaf_node(leaf, f.people[1].key, LeafBinding{f.context.group_id, LeafIndex{1}});
    CHECK(f.validate(0, {by(1, Proposal{Update{leaf}})}).error() == Error::InvalidLeafNode);
  }
  SECTION("from a blank leaf") {
    const LeafNode leaf = f.update_leaf(2);
    f.tree.remove_leaf(LeafIndex{2});
    CHECK(f.validate(0, {by(2, Proposal{Update{leaf}})}).error() == Error::InvalidProposal);
  }
}

TEST_CASE("proposals: PreSharedKey rules", "[mls][proposals]") {
  Fixture f;
  CHECK(f.validate(0, {by(0, psk_of(to_bytes("a"))), by(1, psk_of(to_bytes("a")))}).error() ==
        Error::InvalidProposal);
  CHECK(f.validate(0, {by(0, psk_of(to_bytes("a"), 31))}).error() == Error::InvalidProposal);
  CHECK(f.validate(0, {by(0, psk_of(to_bytes("a"), 0))}).error() == Error::InvalidProposal);

  PreSharedKeyId resumption;
  resumption.psk_type = PskType::Resumption;
  resumption.psk_group_id = to_bytes("room");
  resumption.psk_epoch = 2;
  resumption.psk_nonce = Bytes(kHashSize, 1);
  CHECK(f.validate(0, {by(0, Proposal{PreSharedKey{resumption}})}).has_value());
  resumption.usage = ResumptionPskUsage::Reinit;
  CHECK(f.validate(0, {by(0, Proposal{PreSharedKey{resumption}})}).error() == Error::InvalidProposal);
  resumption.usage = ResumptionPskUsage::Branch;
  CHECK(f.validate(0, {by(0, Proposal{PreSharedKey{resumption}})}).error() == Error::InvalidProposal);
}

TEST_CASE("proposals: GroupContextExtensions rules", "[mls][proposals]") {
  Fixture f;
  const Extension roles = f.context.extensions[0];
  CHECK(f.validate(0, {by(0, gce_of({roles}))}).has_value());
  SECTION("more than one") {
    CHECK(f.validate(0, {by(0, gce_of({roles})), by(0, gce_of({roles}))}).error() == Error::InvalidProposal);
  }
  SECTION("an extension some member does not support") {
    CHECK(f.validate(0, {by(0, gce_of({roles, Extension{0xF0F0, {}}}))}).error() == Error::InvalidProposal);
    CHECK(f.validate(0, {by(0, gce_of({roles, Extension{kExtraExtension, {}}}))}).has_value());
  }
  SECTION("a required capability some member lacks") {
    Writer w;
    w.list(std::vector<std::uint16_t>{0xF0F0});
    w.list(std::vector<std::uint16_t>{});
    w.list(std::vector<std::uint16_t>{});
    CHECK(f.validate(0, {by(0, gce_of({roles, Extension{kExtRequiredCapabilities, w.take()}}))}).error() ==
          Error::InvalidProposal);
  }
  SECTION("a member lacking support may be removed in the same commit") {
    Fixture g;
    g.people.push_back(person("old", g.rng, {kRolesExtensionType}));
    REQUIRE(g.tree.add_leaf(g.people.back().bundle.key_package.leaf_node).value() == LeafIndex{4});
    const Extension extra{kExtraExtension, {}};
    CHECK(g.validate(0, {by(0, gce_of({roles, extra}))}).error() == Error::InvalidProposal);
    CHECK(g.validate(0, {by(0, gce_of({roles, extra})), by(0, remove_of(4))}).has_value());
  }
  SECTION("duplicate extension types, malformed roles") {
    CHECK(f.validate(0, {by(0, gce_of({roles, roles}))}).error() == Error::InvalidProposal);
    CHECK(f.validate(0, {by(0, gce_of({Extension{kRolesExtensionType, Bytes{1, 2, 3}}}))}).error() ==
          Error::InvalidProposal);
  }
}

TEST_CASE("proposals: ReInit, ExternalInit and too many", "[mls][proposals]") {
  Fixture f;
  CHECK(f.validate(0, {by(0, Proposal{ReInit{}})}).error() == Error::Unsupported);
  CHECK(f.validate(0, {by(0, Proposal{ExternalInit{}})}).error() == Error::Unsupported);
  std::vector<ProposalInfo> many;
  for (std::size_t i = 0; i <= kMaxProposalsPerEpoch; ++i) many.push_back(by(0, psk_of(to_bytes(std::to_string(i)))));
  CHECK(f.validate(0, many).error() == Error::InvalidProposal);
}

TEST_CASE("proposals: path_required and policy_view", "[mls][proposals]") {
  CHECK(path_required({}));
  const Fixture f;
  CHECK_FALSE(path_required(std::vector<ProposalInfo>{by(0, add_of(f.people[1])), by(0, psk_of(to_bytes("a")))}));
  CHECK(path_required(std::vector<ProposalInfo>{by(0, add_of(f.people[1])), by(0, remove_of(1))}));
  CHECK(path_required(std::vector<ProposalInfo>{by(1, Proposal{Update{}})}));
  CHECK(path_required(std::vector<ProposalInfo>{by(0, gce_of({}))}));
  CHECK(path_required(std::vector<ProposalInfo>{by(0, Proposal{ExternalInit{}})}));

  const auto view = policy_view(std::vector<ProposalInfo>{by(2, remove_of(3)), by(1, add_of(f.people[1]))});
  REQUIRE(view.size() == 2);
  CHECK(view[0].type == ProposalType::Remove);
  CHECK(view[0].proposer == LeafIndex{2});
  CHECK(view[0].removed == LeafIndex{3});
  CHECK(view[1].type == ProposalType::Add);
  CHECK(view[1].proposer == LeafIndex{1});
  CHECK_FALSE(view[1].removed.has_value());
}

TEST_CASE("proposals: apply in RFC order, Adds into the leftmost blank leaves", "[mls][proposals]") {
  Fixture f;
  const Person erin = person("erin", f.rng);
  const Person frank = person("frank", f.rng);
  const LeafNode bob_new = f.update_leaf(1);
  const Extension roles = roles_extension(Roles{{to_bytes("alice"), to_bytes("bob")}});
  // Adds listed first still go after the Removes: erin takes leaf 2, frank leaf 3.
  const std::vector<ProposalInfo> list{by(0, add_of(erin)),  by(0, add_of(frank)), by(0, remove_of(3)),
                                       by(0, remove_of(2)), by(1, Proposal{Update{bob_new}}),
                                       by(0, gce_of({roles})), by(0, psk_of(to_bytes("p")))};
  REQUIRE(f.validate(0, list).has_value());
  PublicTree tree = f.tree;
  auto applied = apply_proposals(tree, list);
  REQUIRE(applied.has_value());
  CHECK(applied->extensions == std::vector<Extension>{roles});
  CHECK(applied->updated == std::vector<LeafIndex>{LeafIndex{1}});
  REQUIRE(applied->removed.size() == 2);
  CHECK(applied->removed[0].first == LeafIndex{3});
  CHECK(applied->removed[0].second == basic_credential(as_bytes("dave")));
  CHECK(applied->removed[1].first == LeafIndex{2});
  REQUIRE(applied->added.size() == 2);
  CHECK(applied->added[0].leaf == LeafIndex{2});
  CHECK(applied->added[0].key_package_ref == erin.bundle.ref);
  CHECK(applied->added[1].leaf == LeafIndex{3});
  CHECK(applied->joiners() == std::vector<LeafIndex>{LeafIndex{2}, LeafIndex{3}});
  CHECK(applied->psks.size() == 1);
  CHECK(*tree.leaf(LeafIndex{1}) == bob_new);
  CHECK(*tree.leaf(LeafIndex{2}) == erin.bundle.key_package.leaf_node);
  CHECK(tree.n_leaves() == 4);
}

TEST_CASE("proposals: Removes truncate before Adds", "[mls][proposals]") {
  Fixture f;
  const Person erin = person("erin", f.rng);
  PublicTree tree = f.tree;
  const std::vector<ProposalInfo> removes{by(0, remove_of(2)), by(0, remove_of(3))};
  auto applied = apply_proposals(tree, removes);
  REQUIRE(applied.has_value());
  CHECK(tree.n_leaves() == 2);

  PublicTree tree2 = f.tree;
  const std::vector<ProposalInfo> with_add{by(0, remove_of(1)), by(0, remove_of(2)), by(0, remove_of(3)),
                                           by(0, add_of(erin))};
  REQUIRE(apply_proposals(tree2, with_add).has_value());
  CHECK(tree2.n_leaves() == 2);
  CHECK(*tree2.leaf(LeafIndex{1}) == erin.bundle.key_package.leaf_node);
}
