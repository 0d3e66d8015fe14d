// SPDX-License-Identifier: Apache-2.0
#pragma once
// The RFC 9420 wire structs outside message framing: credentials, leaf
// nodes, key packages, proposals, commits, Welcome, GroupInfo, GroupSecrets
// and the ratchet tree. Plain values with `write`/`read` for the codec;
// decoding checks only the encoding (enum values, lengths), never semantics.

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "common/mls/codec.h"
#include "common/mls/group_context.h"
#include "common/mls/key_schedule.h"
#include "common/mls/labeled_crypto.h"

namespace hearth::mls {

enum class CredentialType : std::uint16_t { Basic = 1, X509 = 2 };
enum class LeafNodeSource : std::uint8_t { KeyPackage = 1, Update = 2, Commit = 3 };
enum class ProposalType : std::uint16_t {
  Add = 1,
  Update = 2,
  Remove = 3,
  PreSharedKey = 4,
  ReInit = 5,
  ExternalInit = 6,
  GroupContextExtensions = 7,
};

struct Credential {
  CredentialType credential_type = CredentialType::Basic;
  Bytes identity;                  // Basic
  std::vector<Bytes> certificates;  // X509
  bool operator==(const Credential&) const = default;
};

struct Capabilities {
  std::vector<std::uint16_t> versions;
  std::vector<std::uint16_t> cipher_suites;
  std::vector<std::uint16_t> extensions;
  std::vector<std::uint16_t> proposals;
  std::vector<std::uint16_t> credentials;
  bool operator==(const Capabilities&) const = default;
};

struct Lifetime {
  std::uint64_t not_before = 0;
  std::uint64_t not_after = 0;
  bool operator==(const Lifetime&) const = default;
};

struct LeafNode {
  Bytes encryption_key;
  Bytes signature_key;
  Credential credential;
  Capabilities capabilities;
  LeafNodeSource leaf_node_source = LeafNodeSource::KeyPackage;
  Lifetime lifetime;  // KeyPackage
  Bytes parent_hash;  // Commit
  std::vector<Extension> extensions;
  Bytes signature;
  bool operator==(const LeafNode&) const = default;
};

struct KeyPackage {
  std::uint16_t version = kProtocolVersionMls10;
  std::uint16_t cipher_suite = kCipherSuite;
  Bytes init_key;
  LeafNode leaf_node;
  std::vector<Extension> extensions;
  Bytes signature;
  bool operator==(const KeyPackage&) const = default;
};

struct Add {
  KeyPackage key_package;
  bool operator==(const Add&) const = default;
};
struct Update {
  LeafNode leaf_node;
  bool operator==(const Update&) const = default;
};
struct Remove {
  std::uint32_t removed = 0;
  bool operator==(const Remove&) const = default;
};
struct PreSharedKey {
  PreSharedKeyId psk;
  bool operator==(const PreSharedKey&) const = default;
};
struct ReInit {
  Bytes group_id;
  std::uint16_t version = kProtocolVersionMls10;
  std::uint16_t cipher_suite = kCipherSuite;
  std::vector<Extension> extensions;
  bool operator==(const ReInit&) const = default;
};
struct ExternalInit {
  Bytes kem_output;
  bool operator==(const ExternalInit&) const = default;
};
struct GroupContextExtensions {
  std::vector<Extension> extensions;
  bool operator==(const GroupContextExtensions&) const = default;
};

struct Proposal {
  std::variant<Add, Update, Remove, PreSharedKey, ReInit, ExternalInit, GroupContextExtensions> body;
  [[nodiscard]] ProposalType type() const noexcept;
  bool operator==(const Proposal&) const = default;
};

/// ProposalOrRef: a proposal by value, or by reference (a ProposalRef hash).
struct ProposalOrRef {
  std::variant<Proposal, Bytes> value;
  bool operator==(const ProposalOrRef&) const = default;
};

struct UpdatePathNode {
  Bytes encryption_key;
  std::vector<HpkeCiphertext> encrypted_path_secret;
  bool operator==(const UpdatePathNode&) const = default;
};
struct UpdatePath {
  LeafNode leaf_node;
  std::vector<UpdatePathNode> nodes;
  bool operator==(const UpdatePath&) const = default;
};
struct Commit {
  std::vector<ProposalOrRef> proposals;
  std::optional<UpdatePath> path;
  bool operator==(const Commit&) const = default;
};

struct GroupInfo {
  GroupContext group_context;
  std::vector<Extension> extensions;
  Bytes confirmation_tag;
  std::uint32_t signer = 0;
  Bytes signature;
  bool operator==(const GroupInfo&) const = default;
};

struct GroupSecrets {
  Bytes joiner_secret;
  std::optional<Bytes> path_secret;
  std::vector<PreSharedKeyId> psks;
  bool operator==(const GroupSecrets&) const = default;
};

struct EncryptedGroupSecrets {
  Bytes new_member;  // KeyPackageRef
  HpkeCiphertext encrypted_group_secrets;
  bool operator==(const EncryptedGroupSecrets&) const = default;
};
struct Welcome {
  std::uint16_t cipher_suite = kCipherSuite;
  std::vector<EncryptedGroupSecrets> secrets;
  Bytes encrypted_group_info;
  bool operator==(const Welcome&) const = default;
};

struct ParentNode {
  Bytes encryption_key;
  Bytes parent_hash;
  std::vector<std::uint32_t> unmerged_leaves;
  bool operator==(const ParentNode&) const = default;
};
struct Node {
  std::variant<LeafNode, ParentNode> value;
  bool operator==(const Node&) const = default;
};
/// The ratchet_tree extension's content: optional<Node> nodes<V>.
struct RatchetTree {
  std::vector<std::optional<Node>> nodes;
  bool operator==(const RatchetTree&) const = default;
};

/// A LeafNode's fields before its signature (the start of LeafNodeTBS).
void write_leaf_node_content(Writer& w, const LeafNode& v);

#define HEARTH_MLS_CODEC(T)          \
  void write(Writer& w, const T& v); \
  void read(Reader& r, T& v);
HEARTH_MLS_CODEC(Credential)
HEARTH_MLS_CODEC(Capabilities)
HEARTH_MLS_CODEC(Lifetime)
HEARTH_MLS_CODEC(LeafNode)
HEARTH_MLS_CODEC(KeyPackage)
HEARTH_MLS_CODEC(Add)
HEARTH_MLS_CODEC(Update)
HEARTH_MLS_CODEC(Remove)
HEARTH_MLS_CODEC(PreSharedKey)
HEARTH_MLS_CODEC(ReInit)
HEARTH_MLS_CODEC(ExternalInit)
HEARTH_MLS_CODEC(GroupContextExtensions)
HEARTH_MLS_CODEC(Proposal)
HEARTH_MLS_CODEC(ProposalOrRef)
HEARTH_MLS_CODEC(UpdatePathNode)
HEARTH_MLS_CODEC(UpdatePath)
HEARTH_MLS_CODEC(Commit)
HEARTH_MLS_CODEC(GroupInfo)
HEARTH_MLS_CODEC(GroupSecrets)
HEARTH_MLS_CODEC(EncryptedGroupSecrets)
HEARTH_MLS_CODEC(Welcome)
HEARTH_MLS_CODEC(ParentNode)
HEARTH_MLS_CODEC(Node)
HEARTH_MLS_CODEC(RatchetTree)
#undef HEARTH_MLS_CODEC

}  // namespace hearth::mls
