// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "common/mls/roles.h"

using namespace hearth;
using namespace hearth::mls;

namespace {

// Leaves only need a credential (and distinct keys) for the policy.
LeafNode leaf_for(std::string_view identity) {
  LeafNode leaf;
  leaf.credential.credential_type = CredentialType::Basic;
  leaf.credential.identity = to_bytes(identity);
  leaf.encryption_key = to_bytes(std::string("enc-") + std::string(identity));
  leaf.signature_key = to_bytes(std::string("sig-") + std::string(identity));
  return leaf;
}

// Leaves 0 = "alice" (facilitator), 1 = "bob", 2 = "carol", 3 = "dave" (facilitator).
PublicTree sample_tree() {
  PublicTree tree = PublicTree::with_first_leaf(leaf_for("alice"));
  for (const char* name : {"bob", "carol", "dave"}) REQUIRE(tree.add_leaf(leaf_for(name)).has_value());
  return tree;
}

Roles sample_roles() { return Roles{{to_bytes("alice"), to_bytes("dave")}}; }

Extension raw_roles(const std::vector<Bytes>& identities) {
  Writer w;
  w.list(identities);
  return Extension{kRolesExtensionType, w.take()};
}

PolicyProposal add_by(std::uint32_t proposer) { return PolicyProposal{ProposalType::Add, LeafIndex{proposer}, {}}; }
PolicyProposal remove_by(std::uint32_t proposer, std::uint32_t removed) {
  return PolicyProposal{ProposalType::Remove, LeafIndex{proposer}, LeafIndex{removed}};
}
PolicyProposal gce_by(std::uint32_t proposer) {
  return PolicyProposal{ProposalType::GroupContextExtensions, LeafIndex{proposer}, {}};
}

// Runs the Hearth policy for a commit by `committer` with `proposals`;
// tree_after is tree_before with the Removes applied.
MlsResult<void> hearth_commit(std::uint32_t committer, std::vector<PolicyProposal> proposals,
                              const Roles& roles_before, const Roles& roles_after,
                              RolePolicy policy = RolePolicy::Hearth) {
  const PublicTree before = sample_tree();
  PublicTree after = before;
  for (const auto& p : proposals) {
    if (p.removed) after.remove_leaf(*p.removed);
  }
  const PolicyInput input{before, roles_before, LeafIndex{committer}, proposals, after, roles_after};
  return check_commit_policy(policy, input);
}

}  // namespace

TEST_CASE("roles: extension round trip, sorted and deduplicated", "[mls][roles]") {
  const Extension ext = roles_extension(Roles{{to_bytes("zoe"), to_bytes("amy"), to_bytes("zoe")}});
  CHECK(ext.extension_type == kRolesExtensionType);
  const std::vector<Extension> list{Extension{kExtApplicationId, Bytes{1}}, ext};
  auto roles = roles_from_extensions(list);
  REQUIRE(roles.has_value());
  CHECK(roles->facilitators == std::vector<Bytes>{to_bytes("amy"), to_bytes("zoe")});
  CHECK(roles_extension(*roles) == ext);

  auto decoded = decode<Roles>(encode(*roles));
  REQUIRE(decoded.has_value());
  CHECK(*decoded == *roles);
}

TEST_CASE("roles: absent extension means no facilitator", "[mls][roles]") {
  auto roles = roles_from_extensions(std::vector<Extension>{Extension{kExtApplicationId, Bytes{1}}});
  REQUIRE(roles.has_value());
  CHECK(roles->facilitators.empty());
}

TEST_CASE("roles: malformed extensions are InvalidValue", "[mls][roles]") {
  SECTION("unsorted") {
    const std::vector<Extension> list{raw_roles({to_bytes("b"), to_bytes("a")})};
    CHECK(roles_from_extensions(list).error() == Error::InvalidValue);
  }
  SECTION("duplicate") {
    const std::vector<Extension> list{raw_roles({to_bytes("a"), to_bytes("a")})};
    CHECK(roles_from_extensions(list).error() == Error::InvalidValue);
  }
  SECTION("truncated and trailing bytes") {
    Extension ext = raw_roles({to_bytes("a"), to_bytes("b")});
    Extension cut = ext;
    cut.extension_data.pop_back();
    CHECK(roles_from_extensions(std::vector<Extension>{cut}).error() == Error::InvalidValue);
    Extension longer = ext;
    longer.extension_data.push_back(0);
    CHECK(roles_from_extensions(std::vector<Extension>{longer}).error() == Error::InvalidValue);
  }
  SECTION("two roles extensions") {
    const std::vector<Extension> list{raw_roles({to_bytes("a")}), raw_roles({to_bytes("b")})};
    CHECK(roles_from_extensions(list).error() == Error::InvalidValue);
  }
  SECTION("kMaxFacilitators is the bound") {
    std::vector<Bytes> ids;
    for (std::size_t i = 0; i < kMaxFacilitators; ++i) {
      ids.push_back(Bytes{static_cast<std::uint8_t>(i / 256), static_cast<std::uint8_t>(i % 256)});
    }
    CHECK(roles_from_extensions(std::vector<Extension>{raw_roles(ids)}).has_value());
    ids.push_back(Bytes{0xff, 0xff});
    CHECK(roles_from_extensions(std::vector<Extension>{raw_roles(ids)}).error() == Error::InvalidValue);
    CHECK(decode<Roles>(raw_roles(ids).extension_data).error() == Error::InvalidValue);
  }
}

TEST_CASE("roles: is_facilitator needs an occupied Basic leaf with a listed identity", "[mls][roles]") {
  PublicTree tree = sample_tree();
  const Roles roles = sample_roles();
  CHECK(is_facilitator(tree, roles, LeafIndex{0}));
  CHECK_FALSE(is_facilitator(tree, roles, LeafIndex{1}));
  CHECK(is_facilitator(tree, roles, LeafIndex{3}));
  CHECK_FALSE(is_facilitator(tree, roles, LeafIndex{99}));
  tree.remove_leaf(LeafIndex{0});
  CHECK_FALSE(is_facilitator(tree, roles, LeafIndex{0}));
  LeafNode x509 = leaf_for("alice");
  x509.credential.credential_type = CredentialType::X509;
  tree.set_leaf(LeafIndex{0}, x509);
  CHECK_FALSE(is_facilitator(tree, roles, LeafIndex{0}));
}

TEST_CASE("roles: Hearth commit policy, rule by rule", "[mls][roles]") {
  const Roles roles = sample_roles();
  SECTION("any member may commit with no proposals") {
    CHECK(hearth_commit(1, {}, roles, roles).has_value());
  }
  SECTION("a facilitator may add, a member may not") {
    CHECK(hearth_commit(1, {add_by(0)}, roles, roles).has_value());  // committed by a member, proposed by alice
    CHECK(hearth_commit(0, {add_by(1)}, roles, roles).error() == Error::PolicyViolation);
    CHECK(hearth_commit(1, {add_by(1)}, roles, roles).error() == Error::PolicyViolation);
  }
  SECTION("a member may remove itself, not someone else") {
    CHECK(hearth_commit(0, {remove_by(2, 2)}, roles, roles).has_value());
    CHECK(hearth_commit(1, {remove_by(2, 2)}, roles, roles).has_value());
    CHECK(hearth_commit(1, {remove_by(1, 2)}, roles, roles).error() == Error::PolicyViolation);
    CHECK(hearth_commit(0, {remove_by(0, 2)}, roles, roles).has_value());
  }
  SECTION("the last facilitator cannot be removed") {
    CHECK(hearth_commit(1, {remove_by(0, 3)}, roles, roles).has_value());  // alice stays
    CHECK(hearth_commit(1, {remove_by(0, 3), remove_by(0, 0)}, roles, roles).error() == Error::PolicyViolation);
    CHECK(hearth_commit(1, {remove_by(3, 3), remove_by(0, 0)}, roles, roles).error() == Error::PolicyViolation);
  }
  SECTION("changing the extensions needs a facilitator") {
    CHECK(hearth_commit(0, {gce_by(0)}, roles, roles).has_value());
    CHECK(hearth_commit(0, {gce_by(2)}, roles, roles).error() == Error::PolicyViolation);
  }
  SECTION("new roles count after, old roles before") {
    const Roles only_bob{{to_bytes("bob")}};
    // alice hands the role to bob: allowed, bob is a facilitator afterwards.
    CHECK(hearth_commit(0, {gce_by(0)}, roles, only_bob).has_value());
    // A list naming nobody in the group leaves the room without facilitator.
    const Roles nobody{{to_bytes("mallory")}};
    CHECK(hearth_commit(0, {gce_by(0)}, roles, nobody).error() == Error::PolicyViolation);
    // bob is not a facilitator yet in the commit that names him.
    CHECK(hearth_commit(0, {add_by(1)}, roles, only_bob).error() == Error::PolicyViolation);
  }
  SECTION("empty roles freeze a Hearth group") {
    CHECK(hearth_commit(0, {}, Roles{}, Roles{}).error() == Error::PolicyViolation);
  }
  SECTION("ReInit and ExternalInit are refused") {
    CHECK(hearth_commit(0, {PolicyProposal{ProposalType::ReInit, LeafIndex{0}, {}}}, roles, roles).error() ==
          Error::PolicyViolation);
    CHECK(hearth_commit(0, {PolicyProposal{ProposalType::ExternalInit, LeafIndex{0}, {}}}, roles, roles).error() ==
          Error::PolicyViolation);
  }
  SECTION("Updates and PSKs are anyone's") {
    CHECK(hearth_commit(0, {PolicyProposal{ProposalType::Update, LeafIndex{2}, {}}}, roles, roles).has_value());
    CHECK(hearth_commit(2, {PolicyProposal{ProposalType::PreSharedKey, LeafIndex{2}, {}}}, roles, roles)
              .has_value());
  }
}

TEST_CASE("roles: a staying leaf keeps its credential", "[mls][roles]") {
  const Roles roles = sample_roles();
  const PublicTree before = sample_tree();
  // bob's commit path (or Update) claims alice's identity.
  PublicTree after = before;
  LeafNode forged = leaf_for("alice");
  forged.encryption_key = to_bytes("enc-new");
  forged.signature_key = to_bytes("sig-new");
  after.set_leaf(LeafIndex{1}, forged);

  const PolicyInput by_path{before, roles, LeafIndex{1}, {}, after, roles};
  CHECK(check_commit_policy(RolePolicy::Hearth, by_path).error() == Error::PolicyViolation);
  const std::vector<PolicyProposal> update{PolicyProposal{ProposalType::Update, LeafIndex{1}, {}}};
  const PolicyInput by_update{before, roles, LeafIndex{0}, update, after, roles};
  CHECK(check_commit_policy(RolePolicy::Hearth, by_update).error() == Error::PolicyViolation);
  CHECK(check_commit_policy(RolePolicy::AllowAll, by_update).has_value());

  // New keys with the same credential are fine.
  PublicTree refreshed = before;
  LeafNode fresh = leaf_for("bob");
  fresh.encryption_key = to_bytes("enc-new");
  refreshed.set_leaf(LeafIndex{1}, fresh);
  const PolicyInput ok{before, roles, LeafIndex{1}, {}, refreshed, roles};
  CHECK(check_commit_policy(RolePolicy::Hearth, ok).has_value());
}

TEST_CASE("roles: AllowAll allows everything", "[mls][roles]") {
  const Roles roles = sample_roles();
  CHECK(hearth_commit(1, {add_by(1), gce_by(2), remove_by(1, 2)}, roles, roles, RolePolicy::AllowAll).has_value());
  CHECK(hearth_commit(1, {remove_by(1, 0), remove_by(1, 3)}, roles, roles, RolePolicy::AllowAll).has_value());
  CHECK(hearth_commit(0, {}, Roles{}, Roles{}, RolePolicy::AllowAll).has_value());
  const PublicTree tree = sample_tree();
  CHECK(check_proposal_policy(RolePolicy::AllowAll, tree, roles, add_by(2)).has_value());
}

TEST_CASE("roles: proposal policy on arrival", "[mls][roles]") {
  const PublicTree tree = sample_tree();
  const Roles roles = sample_roles();
  CHECK(check_proposal_policy(RolePolicy::Hearth, tree, roles, add_by(0)).has_value());
  CHECK(check_proposal_policy(RolePolicy::Hearth, tree, roles, add_by(1)).error() == Error::PolicyViolation);
  CHECK(check_proposal_policy(RolePolicy::Hearth, tree, roles, remove_by(2, 2)).has_value());
  CHECK(check_proposal_policy(RolePolicy::Hearth, tree, roles, remove_by(2, 1)).error() == Error::PolicyViolation);
  CHECK(check_proposal_policy(RolePolicy::Hearth, tree, roles, remove_by(3, 1)).has_value());
  CHECK(check_proposal_policy(RolePolicy::Hearth, tree, roles, gce_by(1)).error() == Error::PolicyViolation);
  // A proposer outside the tree is nobody's facilitator.
  CHECK(check_proposal_policy(RolePolicy::Hearth, tree, roles, add_by(40)).error() == Error::PolicyViolation);
}
