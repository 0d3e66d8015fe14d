// SPDX-License-Identifier: Apache-2.0
// GroupState: creation, joining, reading, proposals, receiving and
// application messages. Commits are in group_state_commit.cpp.
#include "common/mls/group_state.h"

#include <algorithm>
#include <utility>

#include "common/crypto/hpke.h"
#include "common/mls/group_state_internal.h"
#include "common/mls/transcript.h"
#include "common/mls/welcome.h"

namespace hearth::mls {

using state_detail::Data;
using state_detail::PastView;

namespace {

bool same_bytes(BytesView a, BytesView b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

SignerKeyLookup lookup_in(const PublicGroup& g) {
  return [&g](const Sender& s) { return g.signer_key(s); };
}

// A signed PublicMessage with `content` from this member, for the current epoch.
MlsResult<MlsMessage> public_message(const Data& d, Content content) {
  FramedContent fc;
  fc.group_id = d.context().group_id;
  fc.epoch = d.context().epoch;
  fc.sender = Sender{SenderType::Member, d.own.v};
  fc.content = std::move(content);
  const AuthenticatedContent ac =
      sign_content(WireFormat::PublicMessage, std::move(fc), d.context(), d.signing_key, std::nullopt);
  auto pm = protect_public(ac, d.secrets.membership_key.view(), d.context());
  if (!pm) return fail(pm.error());
  return MlsMessage{kProtocolVersionMls10, std::move(*pm)};
}

struct Proposed {
  Data next;
  MlsMessage message;
  Digest ref{};
};

// Signs `proposal`, and caches it in a copy of the state (the proposer's
// cache must hold its own proposals, to commit them by reference).
MlsResult<Proposed> make_proposal(const Data& cur, Proposal proposal) {
  if (cur.removed) return fail(Error::Removed);
  auto message = public_message(cur, Content{std::move(proposal)});
  if (!message) return fail(message.error());
  const auto& pm = std::get<PublicMessage>(message->body);
  const AuthenticatedContent ac{WireFormat::PublicMessage, pm.content, pm.auth};
  auto group = std::make_shared<PublicGroup>(*cur.group);
  auto ref = group->add_proposal(ac);
  if (!ref) return fail(ref.error());
  Data next = cur.clone();
  next.group = std::move(group);
  return Proposed{std::move(next), std::move(*message), *ref};
}

// The sender leaf of a PrivateMessage (its SenderData, RFC 9420 §6.3.2),
// nullopt when it does not open with `sender_data_secret`.
std::optional<LeafIndex> private_sender(const PrivateMessage& m, BytesView sender_data_secret) {
  Writer aad;  // SenderDataAAD
  aad.opaque(m.group_id);
  aad.u64(m.epoch);
  aad.u8(static_cast<std::uint8_t>(m.content_type));
  const SenderDataKey key = sender_data_key(sender_data_secret, m.ciphertext);
  auto plain = crypto::aead_open(key.key.view(), key.nonce, aad.bytes(), m.encrypted_sender_data);
  if (!plain || plain->size() < 4) return std::nullopt;
  return LeafIndex{get_u32(*plain)};
}

// Our own commit coming back from the relay, before or after we adopted
// it: the caller has PendingCommit::next, and processing the commit again
// would fork the state. Only the header (or the sender data) is looked at:
// the message is refused either way.
bool own_commit_echo(const Data& d, const MlsMessage& message) {
  const GroupContext& ctx = d.context();
  if (const auto* pub = std::get_if<PublicMessage>(&message.body)) {
    const FramedContent& c = pub->content;
    return std::holds_alternative<Commit>(c.content) && c.sender.sender_type == SenderType::Member &&
           c.sender.index == d.own.v && (c.epoch == ctx.epoch || c.epoch + 1 == ctx.epoch) &&
           same_bytes(c.group_id, ctx.group_id);
  }
  const auto* priv = std::get_if<PrivateMessage>(&message.body);
  if (priv == nullptr || priv->content_type != ContentType::Commit || !same_bytes(priv->group_id, ctx.group_id)) {
    return false;
  }
  BytesView secret;
  if (priv->epoch == ctx.epoch) {
    secret = d.secrets.sender_data_secret.view();
  } else if (priv->epoch + 1 == ctx.epoch && !d.past.empty()) {
    secret = d.past.front().sender_data_secret.view();
  } else {
    return false;
  }
  return private_sender(*priv, secret) == d.own;
}

// Opens an application PrivateMessage of the current or a retained epoch.
MlsResult<ApplicationMessage> open_application(Data& d, const PrivateMessage& pm) {
  if (pm.content_type != ContentType::Application) return fail(Error::WrongWireFormat);
  if (!same_bytes(pm.group_id, d.context().group_id)) return fail(Error::WrongGroup);
  // The current epoch reads the live group; a past one its slim view.
  const GroupContext* context = nullptr;
  std::shared_ptr<const PastView> past_view;
  SecretTree* tree = nullptr;
  BytesView sender_data_secret;
  if (pm.epoch == d.context().epoch) {
    context = &d.context();
    tree = &*d.secret_tree;
    sender_data_secret = d.secrets.sender_data_secret.view();
  } else {
    for (auto& past : d.past) {
      if (past.view->epoch() != pm.epoch) continue;
      past_view = past.view;
      context = &past.view->context;
      tree = &past.secret_tree;
      sender_data_secret = past.sender_data_secret.view();
      break;
    }
  }
  if (context == nullptr) return fail(Error::WrongEpoch);
  // One lookup for both the signature check and the event's credential.
  const auto member = [&](const Sender& s) -> std::optional<Member> {
    if (s.sender_type != SenderType::Member) return std::nullopt;
    if (past_view) {
      const Member* m = past_view->member(LeafIndex{s.index});
      return m != nullptr ? std::optional<Member>(*m) : std::nullopt;
    }
    const LeafNode* leaf = d.group->tree().leaf(LeafIndex{s.index});
    if (leaf == nullptr) return std::nullopt;
    return Member{LeafIndex{s.index}, leaf->credential, leaf->signature_key};
  };
  const SignerKeyLookup signer = [&](const Sender& s) -> MlsResult<Bytes> {
    auto m = member(s);
    if (!m) return fail(Error::SenderOutOfRange);
    return std::move(m->signature_key);
  };
  auto ac = unprotect_private(pm, *tree, sender_data_secret, *context, signer);
  if (!ac) return fail(ac.error());
  auto sender = member(ac->content.sender);
  if (!sender) return fail(Error::SenderOutOfRange);  // the signature check already needed it
  ApplicationMessage out;
  out.sender = sender->leaf;
  out.credential = std::move(sender->credential);
  out.epoch = pm.epoch;
  out.data = std::move(std::get<ApplicationData>(ac->content.content).data);
  out.authenticated_data = std::move(ac->content.authenticated_data);
  return out;
}

// Resolves the PSKs a Welcome names (§12.4.3.1).
MlsResult<crypto::SecretBytes> welcome_psk_secret(const GroupSecrets& secrets, const GroupEnv& env) {
  if (secrets.psks.size() > kMaxWelcomePsks) return fail(Error::InvalidWelcome);
  std::vector<PskInput> inputs;
  inputs.reserve(secrets.psks.size());
  for (const PreSharedKeyId& id : secrets.psks) {
    std::optional<crypto::SecretBytes> psk;
    if (id.psk_type == PskType::External) {
      if (env.psks != nullptr) psk = env.psks->external(id.psk_id);
    } else {
      // Re-initialisation and branching are not implemented.
      if (id.usage != ResumptionPskUsage::Application) return fail(Error::Unsupported);
      if (env.psks != nullptr) psk = env.psks->resumption(id.psk_group_id, id.psk_epoch);
    }
    if (!psk) return fail(Error::UnknownPsk);
    inputs.push_back(PskInput{id, std::move(*psk)});
  }
  return psk_secret(inputs);
}

// The ratchet tree of a Welcome: its GroupInfo's extension, else `given`.
MlsResult<RatchetTree> welcome_tree(const GroupInfo& info, const std::optional<RatchetTree>& given) {
  for (const Extension& ext : info.extensions) {
    if (ext.extension_type != kExtRatchetTree) continue;
    return decode<RatchetTree>(ext.extension_data);
  }
  if (!given) return fail(Error::InvalidWelcome);
  return *given;
}

// The epoch's secret tree from its encryption secret; the secrets only the
// derivation needed are wiped.
MlsResult<void> start_epoch(Data& d, EpochSecrets secrets) {
  auto tree = SecretTree::create(secrets.encryption_secret.clone(), d.group->tree().n_leaves());
  if (!tree) return fail(tree.error());
  secrets.joiner_secret.clear();
  secrets.welcome_secret.clear();
  secrets.epoch_secret.clear();
  secrets.encryption_secret.clear();
  d.secrets = std::move(secrets);
  d.secret_tree = std::move(*tree);
  return {};
}

}  // namespace

namespace state_detail {

MlsResult<void> start_epoch_secrets(Data& d, EpochSecrets secrets) { return start_epoch(d, std::move(secrets)); }

}  // namespace state_detail

GroupState::GroupState(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GroupState::GroupState(GroupState&&) noexcept = default;
GroupState& GroupState::operator=(GroupState&&) noexcept = default;
GroupState::~GroupState() = default;

MlsResult<GroupState> GroupState::create(Bytes group_id, const KeyPackageBundle& own, crypto::SigningKey signing_key,
                                         std::vector<Extension> extensions, RolePolicy policy, Rng& rng) {
  const LeafNode& leaf = own.key_package.leaf_node;
  if (!same_bytes(signing_key.public_key, leaf.signature_key)) return fail(Error::InvalidLeafNode);
  if (!same_bytes(own.encryption_key.public_key, leaf.encryption_key)) return fail(Error::InvalidLeafNode);
  LeafContext leaf_context;
  leaf_context.expected_source = LeafNodeSource::KeyPackage;
  leaf_context.group_extensions = extensions;
  if (auto ok = validate_leaf_node(leaf, leaf_context); !ok) return fail(ok.error());

  auto created = PublicGroup::create(group_id, PublicTree::with_first_leaf(leaf), extensions, policy);
  if (!created) return fail(created.error());
  // §11: a fresh random epoch secret. The key schedule is entered at the
  // joiner secret so epoch 0 derives exactly as every later one does.
  crypto::SecretBytes joiner(kHashSize);
  rng.fill(joiner.mut());
  EpochSecrets secrets = derive_epoch_secrets_from_joiner(joiner.view(), zero_secret(), encode(created->context()));
  const Digest tag = confirmation_tag(secrets.confirmation_key.view(), {});

  // The interim transcript hash of epoch 0 is H("" || confirmation_tag), as a
  // joiner or the relay computes it from this epoch's GroupInfo; taking the
  // public view from our own signed GroupInfo makes them agree by construction.
  GroupInfo info;
  info.group_context = created->context();
  info.confirmation_tag = Bytes(tag.begin(), tag.end());
  info.signer = 0;
  sign_group_info(info, signing_key);
  auto group = PublicGroup::from_group_info(info, created->tree().to_wire(), policy, std::nullopt);
  if (!group) return fail(group.error());

  Data d;
  d.group = std::make_shared<const PublicGroup>(std::move(*group));
  d.own = LeafIndex{0};
  d.signing_key = std::move(signing_key);
  d.private_tree = PrivateTree(d.own, own.encryption_key.secret.clone());
  d.confirmation_tag = info.confirmation_tag;
  if (auto ok = start_epoch(d, std::move(secrets)); !ok) return fail(ok.error());
  return GroupState(std::make_unique<Impl>(Impl{std::move(d)}));
}

MlsResult<GroupState> GroupState::join(const Welcome& welcome, const KeyPackageBundle& own,
                                       crypto::SigningKey signing_key, const std::optional<RatchetTree>& tree,
                                       RolePolicy policy, const GroupEnv& env) {
  const KeyPackage& kp = own.key_package;
  if (!same_bytes(signing_key.public_key, kp.leaf_node.signature_key)) return fail(Error::InvalidKeyPackage);
  if (welcome.cipher_suite != kp.cipher_suite) return fail(Error::UnsupportedCipherSuite);
  const Digest ref = make_key_package_ref(encode(kp));
  auto secrets = decrypt_group_secrets(welcome, ref, own.init_key.secret.view());
  if (!secrets) return fail(secrets.error());
  auto psk = welcome_psk_secret(*secrets, env);
  if (!psk) return fail(psk.error());
  const crypto::SecretBytes ws = welcome_secret(secrets->joiner_secret, psk->view());
  auto info = decrypt_group_info(welcome, ws.view());
  if (!info) return fail(info.error());
  if (info->group_context.cipher_suite != kp.cipher_suite) return fail(Error::UnsupportedCipherSuite);
  if (info->group_context.version != kp.version) return fail(Error::UnsupportedVersion);

  auto wire_tree = welcome_tree(*info, tree);
  if (!wire_tree) return fail(wire_tree.error());
  // Signature (signer's leaf), full tree validation, roles. Lifetimes of
  // the leaves already in the tree are not checked (RFC 9420 §7.3 only
  // recommends it for received trees): a member who never commits keeps
  // its KeyPackage leaf, and its expiry must not make the room unjoinable.
  // KeyPackages entering the group are checked against env.now_s when added.
  auto group = PublicGroup::from_group_info(*info, *wire_tree, policy, std::nullopt);
  if (!group) return fail(group.error());
  const auto mine = group->tree().find_leaf([&](const LeafNode& l) { return l == kp.leaf_node; });
  if (!mine) return fail(Error::InvalidWelcome);

  Data d;
  d.own = *mine;
  d.private_tree = PrivateTree(d.own, own.encryption_key.secret.clone());
  if (secrets->path_secret) {
    const NodeIndex start = common_ancestor(to_node(d.own), to_node(LeafIndex{info->signer}));
    auto implanted = d.private_tree.implant(group->tree(), start, crypto::SecretBytes(*secrets->path_secret));
    if (!implanted) return fail(implanted.error());
  }
  if (auto ok = d.private_tree.check_consistent(group->tree()); !ok) return fail(ok.error());

  EpochSecrets epoch =
      derive_epoch_secrets_from_joiner(secrets->joiner_secret, psk->view(), encode(group->context()));
  if (auto ok = verify_confirmation_tag(epoch.confirmation_key.view(), group->context().confirmed_transcript_hash,
                                        info->confirmation_tag);
      !ok) {
    return fail(ok.error());
  }
  d.group = std::make_shared<const PublicGroup>(std::move(*group));
  d.signing_key = std::move(signing_key);
  d.confirmation_tag = info->confirmation_tag;
  if (auto ok = start_epoch(d, std::move(epoch)); !ok) return fail(ok.error());
  return GroupState(std::make_unique<Impl>(Impl{std::move(d)}));
}

GroupState GroupState::clone() const { return GroupState(std::make_unique<Impl>(Impl{impl_->d.clone()})); }

const GroupContext& GroupState::context() const noexcept { return impl_->d.context(); }
std::uint64_t GroupState::epoch() const noexcept { return impl_->d.context().epoch; }
BytesView GroupState::group_id() const noexcept { return impl_->d.context().group_id; }
LeafIndex GroupState::own_leaf() const noexcept { return impl_->d.own; }
const PublicGroup& GroupState::public_group() const noexcept { return *impl_->d.group; }
const PublicTree& GroupState::tree() const noexcept { return impl_->d.group->tree(); }
const Roles& GroupState::roles() const noexcept { return impl_->d.group->roles(); }
std::vector<Member> GroupState::members() const { return impl_->d.group->members(); }
bool GroupState::is_removed() const noexcept { return impl_->d.removed; }
BytesView GroupState::epoch_authenticator() const noexcept { return impl_->d.secrets.epoch_authenticator.view(); }

MlsResult<crypto::SecretBytes> GroupState::export_secret(BytesView label, BytesView context,
                                                         std::size_t length) const {
  if (impl_->d.removed) return fail(Error::Removed);
  return mls_exporter(impl_->d.secrets.exporter_secret.view(), label, context, length);
}

GroupInfo GroupState::group_info(bool with_tree) const {
  const Data& d = impl_->d;
  GroupInfo info;
  info.group_context = d.context();
  if (with_tree) info.extensions.push_back(Extension{kExtRatchetTree, encode(d.group->tree().to_wire())});
  info.confirmation_tag = d.confirmation_tag;
  info.signer = d.own.v;
  sign_group_info(info, d.signing_key);
  return info;
}

std::optional<crypto::SecretBytes> GroupState::resumption_psk(std::uint64_t epoch_number) const {
  const Data& d = impl_->d;
  if (epoch_number == d.context().epoch && !d.secrets.resumption_psk.empty()) {
    return d.secrets.resumption_psk.clone();
  }
  for (const auto& past : d.past) {
    if (past.view->epoch() == epoch_number) return past.resumption_psk.clone();
  }
  return std::nullopt;
}

// ---- proposals ----

namespace {
Transition proposal_transition(GroupState next, Proposed& p, ProposalType type, LeafIndex own) {
  Transition t{std::move(next), {}, std::move(p.message)};
  t.events.emplace_back(ProposalReceived{p.ref, type, own});
  return t;
}
}  // namespace

MlsResult<Transition> GroupState::propose_add(const KeyPackage& kp, const GroupEnv& env) const {
  // Refused early rather than when committed.
  if (auto ok = validate_key_package(kp, impl_->d.context().extensions, env.now_s); !ok) return fail(ok.error());
  auto p = make_proposal(impl_->d, Proposal{Add{kp}});
  if (!p) return fail(p.error());
  GroupState next(std::make_unique<Impl>(Impl{std::move(p->next)}));
  return proposal_transition(std::move(next), *p, ProposalType::Add, impl_->d.own);
}

MlsResult<Transition> GroupState::propose_remove(LeafIndex leaf) const {
  if (tree().leaf(leaf) == nullptr) return fail(Error::InvalidProposal);
  auto p = make_proposal(impl_->d, Proposal{Remove{leaf.v}});
  if (!p) return fail(p.error());
  GroupState next(std::make_unique<Impl>(Impl{std::move(p->next)}));
  return proposal_transition(std::move(next), *p, ProposalType::Remove, impl_->d.own);
}

MlsResult<Transition> GroupState::propose_update(Rng& rng) const {
  const Data& d = impl_->d;
  if (d.removed) return fail(Error::Removed);
  const LeafNode* current = d.group->tree().leaf(d.own);
  if (current == nullptr) return fail(Error::Removed);
  crypto::Secret<crypto::hpke::kSecretKeySize> ikm;
  rng.fill(ikm.mut());
  crypto::X25519KeyPair key = crypto::hpke::derive_key_pair(ikm.view());
  LeafNode leaf = *current;
  leaf.encryption_key = Bytes(key.public_key.begin(), key.public_key.end());
  leaf.leaf_node_source = LeafNodeSource::Update;
  leaf.lifetime = Lifetime{};
  leaf.parent_hash.clear();
  sign_leaf_node(leaf, d.signing_key, LeafBinding{d.context().group_id, d.own});
  auto p = make_proposal(d, Proposal{Update{std::move(leaf)}});
  if (!p) return fail(p.error());
  p->next.pending_updates.push_back(state_detail::PendingUpdate{p->ref, std::move(key.secret)});
  GroupState next(std::make_unique<Impl>(Impl{std::move(p->next)}));
  return proposal_transition(std::move(next), *p, ProposalType::Update, d.own);
}

MlsResult<Transition> GroupState::propose_extensions(std::vector<Extension> extensions) const {
  auto p = make_proposal(impl_->d, Proposal{GroupContextExtensions{std::move(extensions)}});
  if (!p) return fail(p.error());
  GroupState next(std::make_unique<Impl>(Impl{std::move(p->next)}));
  return proposal_transition(std::move(next), *p, ProposalType::GroupContextExtensions, impl_->d.own);
}

// ---- receiving ----

MlsResult<Transition> GroupState::handle(const MlsMessage& message, const GroupEnv& env) const {
  if (impl_->d.removed) return fail(Error::Removed);
  if (own_commit_echo(impl_->d, message)) return fail(Error::InvalidCommit);
  Data d = impl_->d.clone();
  std::vector<GroupEvent> events;
  AuthenticatedContent ac;
  if (const auto* pub = std::get_if<PublicMessage>(&message.body)) {
    if (pub->content.sender.sender_type != SenderType::Member) return fail(Error::Unsupported);
    auto opened = unprotect_public(*pub, d.secrets.membership_key.view(), d.context(), lookup_in(*d.group));
    if (!opened) return fail(opened.error());
    ac = std::move(*opened);
  } else if (const auto* priv = std::get_if<PrivateMessage>(&message.body)) {
    if (priv->content_type == ContentType::Application) {
      auto app = open_application(d, *priv);
      if (!app) return fail(app.error());
      events.emplace_back(std::move(*app));
      return Transition{GroupState(std::make_unique<Impl>(Impl{std::move(d)})), std::move(events), std::nullopt};
    }
    auto opened = unprotect_private(*priv, *d.secret_tree, d.secrets.sender_data_secret.view(), d.context(),
                                    lookup_in(*d.group));
    if (!opened) return fail(opened.error());
    ac = std::move(*opened);
  } else {
    return fail(Error::WrongWireFormat);
  }

  switch (content_type(ac.content.content)) {
    case ContentType::Application:
      // A PublicMessage cannot carry one (unprotect_public refuses it).
      return fail(Error::WrongWireFormat);
    case ContentType::Proposal: {
      auto group = std::make_shared<PublicGroup>(*d.group);
      auto ref = group->add_proposal(ac);
      if (!ref) return fail(ref.error());
      d.group = std::move(group);
      const auto& proposal = std::get<Proposal>(ac.content.content);
      events.emplace_back(ProposalReceived{*ref, proposal.type(), LeafIndex{ac.content.sender.index}});
      break;
    }
    case ContentType::Commit: {
      auto commit_events = state_detail::process_commit(d, ac, env);
      if (!commit_events) return fail(commit_events.error());
      events = std::move(*commit_events);
      break;
    }
  }
  return Transition{GroupState(std::make_unique<Impl>(Impl{std::move(d)})), std::move(events), std::nullopt};
}

// ---- application messages ----

MlsResult<MlsMessage> GroupState::protect(BytesView data, BytesView authenticated_data, Rng& rng,
                                          std::size_t padding_block) {
  Data& d = impl_->d;
  if (d.removed) return fail(Error::Removed);
  FramedContent fc;
  fc.group_id = d.context().group_id;
  fc.epoch = d.context().epoch;
  fc.sender = Sender{SenderType::Member, d.own.v};
  fc.authenticated_data = Bytes(authenticated_data.begin(), authenticated_data.end());
  fc.content = ApplicationData{Bytes(data.begin(), data.end())};
  const AuthenticatedContent ac =
      sign_content(WireFormat::PrivateMessage, std::move(fc), d.context(), d.signing_key, std::nullopt);
  auto pm = protect_private(ac, *d.secret_tree, d.secrets.sender_data_secret.view(), padding_block, rng);
  if (!pm) return fail(pm.error());
  return MlsMessage{kProtocolVersionMls10, std::move(*pm)};
}

MlsResult<ApplicationMessage> GroupState::unprotect(const MlsMessage& message) {
  const auto* pm = std::get_if<PrivateMessage>(&message.body);
  if (pm == nullptr) return fail(Error::WrongWireFormat);
  // A removed member still opens what was sent before its removal.
  return open_application(impl_->d, *pm);
}

std::size_t GroupState::memory_estimate() const {
  const Data& d = impl_->d;
  // The tree dominates: count its encoded size, the heap it takes is about
  // twice that (vectors per leaf field, the hash cache). Past epochs keep a
  // context, the members' keys and credentials, and their secret trees.
  std::size_t total = sizeof(Impl) + 2 * encode(d.group->tree().to_wire()).size();
  for (const auto& past : d.past) {
    total += sizeof(past) + encode(past.view->context).size() + 4 * kHashSize;
    for (const Member& m : past.view->members) {
      total += sizeof(Member) + m.signature_key.size() + m.credential.identity.size();
    }
  }
  total += d.private_tree.size() * crypto::kX25519KeySize;
  return total;
}

}  // namespace hearth::mls
