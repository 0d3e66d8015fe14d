// SPDX-License-Identifier: Apache-2.0
#include "common/mls/wire.h"

namespace hearth::mls {

void write(Writer& w, const Credential& v) {
  w.u16(static_cast<std::uint16_t>(v.credential_type));
  switch (v.credential_type) {
    case CredentialType::Basic: w.opaque(v.identity); break;
    case CredentialType::X509: w.list(v.certificates); break;
  }
}

void read(Reader& r, Credential& v) {
  switch (r.u16()) {
    case 1:
      v.credential_type = CredentialType::Basic;
      v.identity = r.opaque_bytes();
      break;
    case 2:
      v.credential_type = CredentialType::X509;
      v.certificates = r.list<Bytes>();
      break;
    default: r.set_error(Error::InvalidValue); break;
  }
}

void write(Writer& w, const Capabilities& v) {
  w.list(v.versions);
  w.list(v.cipher_suites);
  w.list(v.extensions);
  w.list(v.proposals);
  w.list(v.credentials);
}

void read(Reader& r, Capabilities& v) {
  v.versions = r.list<std::uint16_t>();
  v.cipher_suites = r.list<std::uint16_t>();
  v.extensions = r.list<std::uint16_t>();
  v.proposals = r.list<std::uint16_t>();
  v.credentials = r.list<std::uint16_t>();
}

void write(Writer& w, const Lifetime& v) {
  w.u64(v.not_before);
  w.u64(v.not_after);
}

void read(Reader& r, Lifetime& v) {
  v.not_before = r.u64();
  v.not_after = r.u64();
}

void write_leaf_node_content(Writer& w, const LeafNode& v) {
  w.opaque(v.encryption_key);
  w.opaque(v.signature_key);
  write(w, v.credential);
  write(w, v.capabilities);
  w.u8(static_cast<std::uint8_t>(v.leaf_node_source));
  switch (v.leaf_node_source) {
    case LeafNodeSource::KeyPackage: write(w, v.lifetime); break;
    case LeafNodeSource::Update: break;
    case LeafNodeSource::Commit: w.opaque(v.parent_hash); break;
  }
  w.list(v.extensions);
}

void write(Writer& w, const LeafNode& v) {
  write_leaf_node_content(w, v);
  w.opaque(v.signature);
}

void read(Reader& r, LeafNode& v) {
  v.encryption_key = r.opaque_bytes();
  v.signature_key = r.opaque_bytes();
  read(r, v.credential);
  read(r, v.capabilities);
  switch (r.u8()) {
    case 1:
      v.leaf_node_source = LeafNodeSource::KeyPackage;
      read(r, v.lifetime);
      break;
    case 2: v.leaf_node_source = LeafNodeSource::Update; break;
    case 3:
      v.leaf_node_source = LeafNodeSource::Commit;
      v.parent_hash = r.opaque_bytes();
      break;
    default: r.set_error(Error::InvalidValue); return;
  }
  v.extensions = r.list<Extension>();
  v.signature = r.opaque_bytes();
}

void write(Writer& w, const KeyPackage& v) {
  w.u16(v.version);
  w.u16(v.cipher_suite);
  w.opaque(v.init_key);
  write(w, v.leaf_node);
  w.list(v.extensions);
  w.opaque(v.signature);
}

void read(Reader& r, KeyPackage& v) {
  v.version = r.u16();
  v.cipher_suite = r.u16();
  v.init_key = r.opaque_bytes();
  read(r, v.leaf_node);
  v.extensions = r.list<Extension>();
  v.signature = r.opaque_bytes();
}

void write(Writer& w, const Add& v) { write(w, v.key_package); }
void read(Reader& r, Add& v) { read(r, v.key_package); }
void write(Writer& w, const Update& v) { write(w, v.leaf_node); }
void read(Reader& r, Update& v) { read(r, v.leaf_node); }
void write(Writer& w, const Remove& v) { w.u32(v.removed); }
void read(Reader& r, Remove& v) { v.removed = r.u32(); }
void write(Writer& w, const PreSharedKey& v) { write(w, v.psk); }
void read(Reader& r, PreSharedKey& v) { read(r, v.psk); }

void write(Writer& w, const ReInit& v) {
  w.opaque(v.group_id);
  w.u16(v.version);
  w.u16(v.cipher_suite);
  w.list(v.extensions);
}

void read(Reader& r, ReInit& v) {
  v.group_id = r.opaque_bytes();
  v.version = r.u16();
  v.cipher_suite = r.u16();
  v.extensions = r.list<Extension>();
}

void write(Writer& w, const ExternalInit& v) { w.opaque(v.kem_output); }
void read(Reader& r, ExternalInit& v) { v.kem_output = r.opaque_bytes(); }
void write(Writer& w, const GroupContextExtensions& v) { w.list(v.extensions); }
void read(Reader& r, GroupContextExtensions& v) { v.extensions = r.list<Extension>(); }

ProposalType Proposal::type() const noexcept {
  // The variant's alternatives are in ProposalType order, starting at 1.
  return static_cast<ProposalType>(body.index() + 1);
}

void write(Writer& w, const Proposal& v) {
  w.u16(static_cast<std::uint16_t>(v.type()));
  std::visit([&](const auto& body) { write(w, body); }, v.body);
}

namespace {
template <class T>
void read_body(Reader& r, Proposal& v) {
  T body{};
  read(r, body);
  v.body = std::move(body);
}
}  // namespace

void read(Reader& r, Proposal& v) {
  switch (r.u16()) {
    case 1: read_body<Add>(r, v); break;
    case 2: read_body<Update>(r, v); break;
    case 3: read_body<Remove>(r, v); break;
    case 4: read_body<PreSharedKey>(r, v); break;
    case 5: read_body<ReInit>(r, v); break;
    case 6: read_body<ExternalInit>(r, v); break;
    case 7: read_body<GroupContextExtensions>(r, v); break;
    default: r.set_error(Error::InvalidValue); break;
  }
}

void write(Writer& w, const ProposalOrRef& v) {
  if (const auto* p = std::get_if<Proposal>(&v.value)) {
    w.u8(1);
    write(w, *p);
  } else {
    w.u8(2);
    w.opaque(std::get<Bytes>(v.value));
  }
}

void read(Reader& r, ProposalOrRef& v) {
  switch (r.u8()) {
    case 1: {
      Proposal p;
      read(r, p);
      v.value = std::move(p);
      break;
    }
    case 2: v.value = r.opaque_bytes(); break;
    default: r.set_error(Error::InvalidValue); break;
  }
}

void write(Writer& w, const UpdatePathNode& v) {
  w.opaque(v.encryption_key);
  w.list(v.encrypted_path_secret);
}

void read(Reader& r, UpdatePathNode& v) {
  v.encryption_key = r.opaque_bytes();
  v.encrypted_path_secret = r.list<HpkeCiphertext>();
}

void write(Writer& w, const UpdatePath& v) {
  write(w, v.leaf_node);
  w.list(v.nodes);
}

void read(Reader& r, UpdatePath& v) {
  read(r, v.leaf_node);
  v.nodes = r.list<UpdatePathNode>();
}

void write(Writer& w, const Commit& v) {
  w.list(v.proposals);
  w.optional(v.path);
}

void read(Reader& r, Commit& v) {
  v.proposals = r.list<ProposalOrRef>();
  v.path = r.optional<UpdatePath>();
}

void write(Writer& w, const GroupInfo& v) {
  write(w, v.group_context);
  w.list(v.extensions);
  w.opaque(v.confirmation_tag);
  w.u32(v.signer);
  w.opaque(v.signature);
}

void read(Reader& r, GroupInfo& v) {
  read(r, v.group_context);
  v.extensions = r.list<Extension>();
  v.confirmation_tag = r.opaque_bytes();
  v.signer = r.u32();
  v.signature = r.opaque_bytes();
}

void write(Writer& w, const GroupSecrets& v) {
  w.opaque(v.joiner_secret);
  w.optional(v.path_secret);
  w.list(v.psks);
}

void read(Reader& r, GroupSecrets& v) {
  v.joiner_secret = r.opaque_bytes();
  v.path_secret = r.optional<Bytes>();
  v.psks = r.list<PreSharedKeyId>();
}

void write(Writer& w, const EncryptedGroupSecrets& v) {
  w.opaque(v.new_member);
  write(w, v.encrypted_group_secrets);
}

void read(Reader& r, EncryptedGroupSecrets& v) {
  v.new_member = r.opaque_bytes();
  read(r, v.encrypted_group_secrets);
}

void write(Writer& w, const Welcome& v) {
  w.u16(v.cipher_suite);
  w.list(v.secrets);
  w.opaque(v.encrypted_group_info);
}

void read(Reader& r, Welcome& v) {
  v.cipher_suite = r.u16();
  v.secrets = r.list<EncryptedGroupSecrets>();
  v.encrypted_group_info = r.opaque_bytes();
}

void write(Writer& w, const ParentNode& v) {
  w.opaque(v.encryption_key);
  w.opaque(v.parent_hash);
  w.list(v.unmerged_leaves);
}

void read(Reader& r, ParentNode& v) {
  v.encryption_key = r.opaque_bytes();
  v.parent_hash = r.opaque_bytes();
  v.unmerged_leaves = r.list<std::uint32_t>();
}

void write(Writer& w, const Node& v) {
  if (const auto* leaf = std::get_if<LeafNode>(&v.value)) {
    w.u8(1);
    write(w, *leaf);
  } else {
    w.u8(2);
    write(w, std::get<ParentNode>(v.value));
  }
}

void read(Reader& r, Node& v) {
  switch (r.u8()) {
    case 1: {
      LeafNode leaf;
      read(r, leaf);
      v.value = std::move(leaf);
      break;
    }
    case 2: {
      ParentNode parent;
      read(r, parent);
      v.value = std::move(parent);
      break;
    }
    default: r.set_error(Error::InvalidValue); break;
  }
}

void write(Writer& w, const RatchetTree& v) { w.list(v.nodes); }
void read(Reader& r, RatchetTree& v) { v.nodes = r.list<std::optional<Node>>(); }

}  // namespace hearth::mls
