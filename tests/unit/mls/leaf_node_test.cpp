// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "common/mls/leaf_node.h"
#include "tests/support/seeded_rng.h"

using namespace hearth;
using namespace hearth::mls;
using hearth::test::SeededRng;

namespace {

constexpr std::uint64_t kNow = 1'800'000'000;
constexpr std::uint16_t kRolesExt = 0xff01;

crypto::SigningKey signer(std::uint8_t seed) { return std::move(*crypto::ed25519_from_seed(Bytes(32, seed))); }

KeyPackageOptions options() {
  KeyPackageOptions o;
  o.lifetime = {kNow - 10, kNow + kDefaultKeyPackageLifetimeSeconds};
  o.extensions = {kRolesExt};
  return o;
}

KeyPackageBundle bundle(std::uint8_t seed) {
  SeededRng rng(seed);
  const auto key = signer(seed);
  return create_key_package(basic_credential(to_bytes("member")), key, options(), rng);
}

// Re-signs a package after a deliberate change, so only that change is tested.
void resign(KeyPackage& kp, const crypto::SigningKey& key) {
  sign_leaf_node(kp.leaf_node, key, std::nullopt);
  kp.signature = sign_with_label(key, "KeyPackageTBS", key_package_tbs(kp));
}

LeafContext context_for(LeafNodeSource source, std::optional<LeafBinding> binding) {
  LeafContext c;
  c.expected_source = source;
  c.binding = binding;
  c.now_s = kNow;
  return c;
}

}  // namespace

TEST_CASE("key package: created, valid, ref, round trip", "[mls][leaf_node]") {
  crypto::init();
  const auto b = bundle(1);
  CHECK(validate_key_package(b.key_package, {}, kNow));
  CHECK(b.ref == key_package_ref(b.key_package));
  CHECK(b.ref == make_key_package_ref(encode(b.key_package)));
  CHECK(BytesView(b.key_package.init_key).size() == 32);
  CHECK(b.key_package.init_key != b.key_package.leaf_node.encryption_key);
  CHECK(std::equal(b.init_key.public_key.begin(), b.init_key.public_key.end(), b.key_package.init_key.begin()));
  const auto back = decode<KeyPackage>(encode(b.key_package));
  REQUIRE(back);
  CHECK(*back == b.key_package);
  // Another Rng gives other keys.
  const auto c = bundle(2);
  CHECK(c.key_package.init_key != b.key_package.init_key);
  // Capabilities: mls10, suite 3, Basic, the roles extension; no default types listed.
  const auto& caps = b.key_package.leaf_node.capabilities;
  CHECK(caps.versions == std::vector<std::uint16_t>{kProtocolVersionMls10});
  CHECK(caps.cipher_suites == std::vector<std::uint16_t>{kCipherSuite});
  CHECK(caps.credentials == std::vector<std::uint16_t>{1});
  CHECK(caps.extensions == std::vector<std::uint16_t>{kRolesExt});
  const std::vector<std::uint16_t> with_default{kExtRatchetTree, kRolesExt};
  CHECK(default_capabilities(with_default).extensions == std::vector<std::uint16_t>{kRolesExt});
}

TEST_CASE("key package: tamper", "[mls][leaf_node]") {
  crypto::init();
  const auto key = signer(1);
  const auto good = bundle(1).key_package;

  auto kp = good;
  kp.signature[5] ^= 1;
  CHECK(validate_key_package(kp, {}, kNow).error() == Error::InvalidSignature);

  kp = good;
  kp.init_key[0] ^= 1;  // signed content changed, signature not redone
  CHECK(validate_key_package(kp, {}, kNow).error() == Error::InvalidSignature);

  kp = good;
  kp.leaf_node.signature[0] ^= 1;
  CHECK(validate_key_package(kp, {}, kNow).error() == Error::InvalidSignature);

  kp = good;
  kp.version = 2;
  resign(kp, key);
  CHECK(validate_key_package(kp, {}, kNow).error() == Error::UnsupportedVersion);

  kp = good;
  kp.cipher_suite = 1;
  resign(kp, key);
  CHECK(validate_key_package(kp, {}, kNow).error() == Error::UnsupportedCipherSuite);

  kp = good;
  kp.init_key = kp.leaf_node.encryption_key;
  resign(kp, key);
  CHECK(validate_key_package(kp, {}, kNow).error() == Error::InvalidKeyPackage);

  kp = good;
  kp.leaf_node.leaf_node_source = LeafNodeSource::Update;
  sign_leaf_node(kp.leaf_node, key, LeafBinding{to_bytes("g"), LeafIndex{0}});
  kp.signature = sign_with_label(key, "KeyPackageTBS", key_package_tbs(kp));
  CHECK(validate_key_package(kp, {}, kNow).error() == Error::InvalidLeafNode);

  // Signed by another key than the leaf's.
  kp = good;
  resign(kp, signer(9));
  CHECK(validate_key_package(kp, {}, kNow).error() == Error::InvalidSignature);
}

TEST_CASE("leaf node: lifetime and the skip switch", "[mls][leaf_node]") {
  crypto::init();
  const auto kp = bundle(1).key_package;
  const Lifetime life = kp.leaf_node.lifetime;
  CHECK(validate_key_package(kp, {}, life.not_after));
  CHECK(validate_key_package(kp, {}, life.not_after + 1).error() == Error::LifetimeExpired);
  CHECK(validate_key_package(kp, {}, life.not_before));
  // not_before a little ahead of our clock is tolerated, far ahead is not.
  CHECK(validate_key_package(kp, {}, life.not_before - kLifetimeSkewSeconds));
  CHECK(validate_key_package(kp, {}, life.not_before - kLifetimeSkewSeconds - 1).error() == Error::LifetimeExpired);
  CHECK(validate_key_package(kp, {}, std::nullopt));
  CHECK(validate_key_package(kp, {}, 0).error() == Error::LifetimeExpired);
  CHECK(validate_key_package(kp, {}, std::nullopt));  // skip switch: expired or not, unchecked

  // The span is bounded, and must not be inverted.
  auto with_lifetime = [](Lifetime l) {
    SeededRng rng(7);
    auto o = options();
    o.lifetime = l;
    return create_key_package(basic_credential(to_bytes("m")), signer(7), o, rng).key_package;
  };
  CHECK(validate_key_package(with_lifetime({kNow, kNow + kMaxLeafLifetimeSeconds}), {}, kNow));
  CHECK(validate_key_package(with_lifetime({kNow, kNow + kMaxLeafLifetimeSeconds + 1}), {}, kNow).error() ==
        Error::LifetimeExpired);
  CHECK(validate_key_package(with_lifetime({0, ~std::uint64_t{0}}), {}, kNow).error() == Error::LifetimeExpired);
  CHECK(validate_key_package(with_lifetime({kNow + 10, kNow}), {}, kNow + 5).error() == Error::LifetimeExpired);
  CHECK(validate_key_package(with_lifetime({0, ~std::uint64_t{0}}), {}, std::nullopt));
}

TEST_CASE("leaf node: binding, source, credential, capabilities, key sizes", "[mls][leaf_node]") {
  crypto::init();
  const auto key = signer(3);
  LeafNode leaf = bundle(3).key_package.leaf_node;
  leaf.leaf_node_source = LeafNodeSource::Update;
  const Bytes group = to_bytes("group-1");
  const LeafBinding binding{group, LeafIndex{4}};
  sign_leaf_node(leaf, key, binding);

  CHECK(validate_leaf_node(leaf, context_for(LeafNodeSource::Update, binding)));
  // The binding is signed: another group or another position fails.
  const Bytes other_group = to_bytes("group-2");
  CHECK(verify_leaf_node_signature(leaf, LeafBinding{other_group, LeafIndex{4}}).error() == Error::InvalidSignature);
  CHECK(verify_leaf_node_signature(leaf, LeafBinding{group, LeafIndex{5}}).error() == Error::InvalidSignature);
  CHECK(verify_leaf_node_signature(leaf, std::nullopt).error() == Error::InvalidSignature);
  CHECK(validate_leaf_node(leaf, context_for(LeafNodeSource::Update, std::nullopt)).error() == Error::InvalidLeafNode);
  CHECK(validate_leaf_node(leaf, context_for(LeafNodeSource::Commit, binding)).error() == Error::InvalidLeafNode);
  // TBS: the content then group_id<V> and uint32 leaf_index.
  const Bytes tbs = leaf_node_tbs(leaf, binding);
  const Bytes tail{7, 'g', 'r', 'o', 'u', 'p', '-', '1', 0, 0, 0, 4};
  REQUIRE(tbs.size() > tail.size());
  CHECK(Bytes(tbs.end() - static_cast<std::ptrdiff_t>(tail.size()), tbs.end()) == tail);
  // A KeyPackage leaf has no binding.
  CHECK(leaf_node_tbs(bundle(3).key_package.leaf_node, binding) ==
        leaf_node_tbs(bundle(3).key_package.leaf_node, std::nullopt));

  auto resigned = [&](LeafNode l) {
    sign_leaf_node(l, key, binding);
    return validate_leaf_node(l, context_for(LeafNodeSource::Update, binding));
  };
  LeafNode x = leaf;
  x.credential.credential_type = CredentialType::X509;
  x.credential.certificates = {to_bytes("cert")};
  CHECK(resigned(x).error() == Error::Unsupported);
  x = leaf;
  x.capabilities.credentials = {2};
  CHECK(resigned(x).error() == Error::InvalidLeafNode);
  x = leaf;
  x.capabilities.cipher_suites = {1};
  CHECK(resigned(x).error() == Error::InvalidLeafNode);
  x = leaf;
  x.capabilities.versions = {};
  CHECK(resigned(x).error() == Error::InvalidLeafNode);
  x = leaf;
  x.extensions = {Extension{0xff02, {}}};  // not in its capabilities
  CHECK(resigned(x).error() == Error::InvalidLeafNode);
  x = leaf;
  x.extensions = {Extension{kRolesExt, {}}, Extension{kExtApplicationId, to_bytes("app")}};
  CHECK(resigned(x));
  x = leaf;
  x.encryption_key.pop_back();
  CHECK(resigned(x).error() == Error::InvalidLeafNode);
  x = leaf;
  x.signature_key.push_back(0);
  CHECK(resigned(x).error() == Error::InvalidLeafNode);
  x = leaf;
  x.signature[0] ^= 1;
  CHECK(validate_leaf_node(x, context_for(LeafNodeSource::Update, binding)).error() == Error::InvalidSignature);
}

TEST_CASE("leaf node: group extensions and required capabilities", "[mls][leaf_node]") {
  crypto::init();
  const auto kp = bundle(4).key_package;
  const std::vector<Extension> roles{Extension{kRolesExt, to_bytes("r")}};
  const std::vector<Extension> unknown{Extension{0xff09, {}}};
  const std::vector<Extension> default_only{Extension{kExtExternalSenders, {}}};
  CHECK(validate_key_package(kp, roles, kNow));
  CHECK(validate_key_package(kp, default_only, kNow));
  CHECK(validate_key_package(kp, unknown, kNow).error() == Error::InvalidLeafNode);

  auto required = [](std::vector<std::uint16_t> ext, std::vector<std::uint16_t> prop,
                     std::vector<std::uint16_t> cred) {
    Writer w;
    w.list(ext);
    w.list(prop);
    w.list(cred);
    return std::vector<Extension>{Extension{kExtRequiredCapabilities, w.take()}};
  };
  CHECK(validate_key_package(kp, required({kRolesExt}, {1, 3}, {1}), kNow));
  CHECK(validate_key_package(kp, required({kExtApplicationId}, {}, {}), kNow));
  CHECK(validate_key_package(kp, required({0xff09}, {}, {}), kNow).error() == Error::InvalidLeafNode);
  CHECK(validate_key_package(kp, required({}, {0x0a0a}, {}), kNow).error() == Error::InvalidLeafNode);
  CHECK(validate_key_package(kp, required({}, {}, {2}), kNow).error() == Error::InvalidLeafNode);
  const std::vector<Extension> malformed{Extension{kExtRequiredCapabilities, Bytes{1}}};
  CHECK(validate_key_package(kp, malformed, kNow).error() == Error::InvalidLeafNode);
}
