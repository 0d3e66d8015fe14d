// SPDX-License-Identifier: Apache-2.0
#include "common/mls/leaf_node.h"

#include <algorithm>

#include "common/crypto/hpke.h"
#include "common/mls/labeled_crypto.h"

namespace hearth::mls {
namespace {

constexpr std::string_view kLeafNodeLabel = "LeafNodeTBS";
constexpr std::string_view kKeyPackageLabel = "KeyPackageTBS";

template <class T>
bool contains(const std::vector<T>& v, T x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

bool needs_binding(LeafNodeSource s) { return s == LeafNodeSource::Update || s == LeafNodeSource::Commit; }

// RequiredCapabilities (§11.1). nullopt when the extension is malformed.
struct RequiredCapabilities {
  std::vector<std::uint16_t> extension_types;
  std::vector<std::uint16_t> proposal_types;
  std::vector<std::uint16_t> credential_types;
};
std::optional<RequiredCapabilities> parse_required_capabilities(BytesView data) {
  Reader r(data);
  RequiredCapabilities rc;
  rc.extension_types = r.list<std::uint16_t>();
  rc.proposal_types = r.list<std::uint16_t>();
  rc.credential_types = r.list<std::uint16_t>();
  if (!r.finish()) return std::nullopt;
  return rc;
}

// Proposal types 1-7 are "default": every client implements them and they
// are never listed in capabilities (§7.2).
constexpr bool is_default_proposal(std::uint16_t type) noexcept { return type >= 1 && type <= 7; }

MlsResult<void> check_capabilities(const LeafNode& leaf, std::span<const Extension> group_extensions) {
  const Capabilities& caps = leaf.capabilities;
  if (!contains(caps.versions, kProtocolVersionMls10)) return fail(Error::InvalidLeafNode);
  if (!contains(caps.cipher_suites, kCipherSuite)) return fail(Error::InvalidLeafNode);
  for (const Extension& e : leaf.extensions) {
    if (!is_default_extension(e.extension_type) && !contains(caps.extensions, e.extension_type)) {
      return fail(Error::InvalidLeafNode);
    }
  }
  for (const Extension& e : group_extensions) {
    if (!is_default_extension(e.extension_type) && !contains(caps.extensions, e.extension_type)) {
      return fail(Error::InvalidLeafNode);
    }
    if (e.extension_type != kExtRequiredCapabilities) continue;
    const auto required = parse_required_capabilities(e.extension_data);
    if (!required) return fail(Error::InvalidLeafNode);
    for (const std::uint16_t t : required->extension_types) {
      if (!is_default_extension(t) && !contains(caps.extensions, t)) return fail(Error::InvalidLeafNode);
    }
    for (const std::uint16_t t : required->proposal_types) {
      if (!is_default_proposal(t) && !contains(caps.proposals, t)) return fail(Error::InvalidLeafNode);
    }
    for (const std::uint16_t t : required->credential_types) {
      if (!contains(caps.credentials, t)) return fail(Error::InvalidLeafNode);
    }
  }
  return {};
}

MlsResult<void> check_lifetime(const Lifetime& lifetime, std::uint64_t now_s) {
  if (lifetime.not_before > lifetime.not_after ||
      lifetime.not_after - lifetime.not_before > kMaxLeafLifetimeSeconds) {
    return fail(Error::LifetimeExpired);
  }
  // not_before may be a little in our future when the issuer's clock runs ahead.
  if (lifetime.not_before > now_s && lifetime.not_before - now_s > kLifetimeSkewSeconds) {
    return fail(Error::LifetimeExpired);
  }
  if (now_s > lifetime.not_after) return fail(Error::LifetimeExpired);
  return {};
}

}  // namespace

Credential basic_credential(BytesView identity) {
  Credential c;
  c.credential_type = CredentialType::Basic;
  c.identity.assign(identity.begin(), identity.end());
  return c;
}

Capabilities default_capabilities(std::span<const std::uint16_t> extensions) {
  Capabilities caps;
  caps.versions = {kProtocolVersionMls10};
  caps.cipher_suites = {kCipherSuite};
  caps.credentials = {static_cast<std::uint16_t>(CredentialType::Basic)};
  for (const std::uint16_t e : extensions) {
    if (!is_default_extension(e) && !contains(caps.extensions, e)) caps.extensions.push_back(e);
  }
  return caps;
}

Bytes leaf_node_tbs(const LeafNode& leaf, const std::optional<LeafBinding>& binding) {
  Writer w;
  write_leaf_node_content(w, leaf);
  if (needs_binding(leaf.leaf_node_source) && binding) {
    w.opaque(binding->group_id);
    w.u32(binding->leaf.v);
  }
  return w.take();
}

void sign_leaf_node(LeafNode& leaf, const crypto::SigningKey& key, const std::optional<LeafBinding>& binding) {
  leaf.signature = sign_with_label(key, kLeafNodeLabel, leaf_node_tbs(leaf, binding));
}

MlsResult<void> verify_leaf_node_signature(const LeafNode& leaf, const std::optional<LeafBinding>& binding) {
  // Without its binding an Update or Commit leaf's TBS is not the signed one.
  if (needs_binding(leaf.leaf_node_source) && !binding) return fail(Error::InvalidSignature);
  if (leaf.signature_key.size() != crypto::kEd25519PublicKeySize) return fail(Error::InvalidSignature);
  auto ok = verify_with_label(leaf.signature_key, kLeafNodeLabel, leaf_node_tbs(leaf, binding), leaf.signature);
  if (!ok) return fail(Error::InvalidSignature);
  return {};
}

MlsResult<void> validate_leaf_node(const LeafNode& leaf, const LeafContext& context) {
  if (leaf.encryption_key.size() != crypto::hpke::kPublicKeySize ||
      leaf.signature_key.size() != crypto::kEd25519PublicKeySize) {
    return fail(Error::InvalidLeafNode);
  }
  if (leaf.leaf_node_source != context.expected_source) return fail(Error::InvalidLeafNode);
  if (needs_binding(leaf.leaf_node_source) && !context.binding) return fail(Error::InvalidLeafNode);
  if (leaf.credential.credential_type != CredentialType::Basic) return fail(Error::Unsupported);
  if (!contains(leaf.capabilities.credentials, static_cast<std::uint16_t>(CredentialType::Basic))) {
    return fail(Error::InvalidLeafNode);
  }
  if (auto caps = check_capabilities(leaf, context.group_extensions); !caps) return caps;
  if (leaf.leaf_node_source == LeafNodeSource::KeyPackage && context.now_s) {
    if (auto life = check_lifetime(leaf.lifetime, *context.now_s); !life) return life;
  }
  return verify_leaf_node_signature(leaf, context.binding);
}

// ---- KeyPackages ----

Bytes key_package_tbs(const KeyPackage& kp) {
  Writer w;
  w.u16(kp.version);
  w.u16(kp.cipher_suite);
  w.opaque(kp.init_key);
  write(w, kp.leaf_node);
  w.list(kp.extensions);
  return w.take();
}

KeyPackageBundle create_key_package(const Credential& credential, const crypto::SigningKey& key,
                                    const KeyPackageOptions& options, Rng& rng) {
  // Each key pair from its own 32 fresh bytes (RFC 9180 DeriveKeyPair).
  auto fresh_pair = [&rng] {
    crypto::Secret<crypto::kX25519KeySize> ikm;
    rng.fill(ikm.mut());
    return crypto::hpke::derive_key_pair(ikm.view());
  };
  KeyPackageBundle bundle;
  bundle.init_key = fresh_pair();
  bundle.encryption_key = fresh_pair();

  LeafNode& leaf = bundle.key_package.leaf_node;
  leaf.encryption_key.assign(bundle.encryption_key.public_key.begin(), bundle.encryption_key.public_key.end());
  leaf.signature_key.assign(key.public_key.begin(), key.public_key.end());
  leaf.credential = credential;
  leaf.capabilities = default_capabilities(options.extensions);
  leaf.leaf_node_source = LeafNodeSource::KeyPackage;
  leaf.lifetime = options.lifetime;
  leaf.extensions = options.leaf_extensions;
  sign_leaf_node(leaf, key, std::nullopt);

  KeyPackage& kp = bundle.key_package;
  kp.version = kProtocolVersionMls10;
  kp.cipher_suite = kCipherSuite;
  kp.init_key.assign(bundle.init_key.public_key.begin(), bundle.init_key.public_key.end());
  kp.extensions = options.key_package_extensions;
  kp.signature = sign_with_label(key, kKeyPackageLabel, key_package_tbs(kp));
  bundle.ref = key_package_ref(kp);
  return bundle;
}

MlsResult<void> validate_key_package(const KeyPackage& kp, std::span<const Extension> group_extensions,
                                     std::optional<std::uint64_t> now_s) {
  if (kp.version != kProtocolVersionMls10) return fail(Error::UnsupportedVersion);
  if (!is_supported_cipher_suite(kp.cipher_suite)) return fail(Error::UnsupportedCipherSuite);
  if (kp.init_key.size() != crypto::hpke::kPublicKeySize) return fail(Error::InvalidKeyPackage);
  if (kp.init_key == kp.leaf_node.encryption_key) return fail(Error::InvalidKeyPackage);
  LeafContext context;
  context.expected_source = LeafNodeSource::KeyPackage;
  context.group_extensions = group_extensions;
  context.now_s = now_s;
  if (auto leaf = validate_leaf_node(kp.leaf_node, context); !leaf) return leaf;
  // The leaf's signature key verified the leaf; it must also sign the package.
  auto sig = verify_with_label(kp.leaf_node.signature_key, kKeyPackageLabel, key_package_tbs(kp), kp.signature);
  if (!sig) return fail(Error::InvalidSignature);
  return {};
}

Digest key_package_ref(const KeyPackage& kp) { return make_key_package_ref(encode(kp)); }

}  // namespace hearth::mls
