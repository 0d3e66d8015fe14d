// SPDX-License-Identifier: Apache-2.0
// GroupState commits: creating one (§12.4) and processing a received one
// (§12.4.2). Both go through PublicGroup::apply_commit, so a committer runs
// exactly the checks its receivers and the relay run, and cannot produce a
// commit they would refuse.
#include <algorithm>
#include <set>
#include <utility>

#include "common/mls/group_state.h"
#include "common/mls/group_state_internal.h"
#include "common/mls/transcript.h"
#include "common/mls/welcome.h"

namespace hearth::mls {
namespace state_detail {

EpochSecrets clone_secrets(const EpochSecrets& s) {
  EpochSecrets out;
  out.joiner_secret = s.joiner_secret.clone();
  out.welcome_secret = s.welcome_secret.clone();
  out.epoch_secret = s.epoch_secret.clone();
  out.sender_data_secret = s.sender_data_secret.clone();
  out.encryption_secret = s.encryption_secret.clone();
  out.exporter_secret = s.exporter_secret.clone();
  out.external_secret = s.external_secret.clone();
  out.confirmation_key = s.confirmation_key.clone();
  out.membership_key = s.membership_key.clone();
  out.resumption_psk = s.resumption_psk.clone();
  out.epoch_authenticator = s.epoch_authenticator.clone();
  out.init_secret = s.init_secret.clone();
  return out;
}

std::shared_ptr<const PastView> PastView::of(const PublicGroup& group) {
  auto view = std::make_shared<PastView>();
  view->context = group.context();
  view->members = group.members();
  return view;
}

const Member* PastView::member(LeafIndex leaf) const noexcept {
  const auto it = std::lower_bound(members.begin(), members.end(), leaf,
                                   [](const Member& m, LeafIndex l) { return m.leaf < l; });
  return it != members.end() && it->leaf == leaf ? &*it : nullptr;
}

PastEpoch PastEpoch::clone() const {
  return PastEpoch{view, secret_tree.clone(), sender_data_secret.clone(), resumption_psk.clone()};
}

Data Data::clone() const {
  Data out;
  out.group = group;
  out.own = own;
  out.signing_key = crypto::SigningKey{signing_key.secret.clone(), signing_key.public_key};
  out.private_tree = private_tree.clone();
  out.secrets = clone_secrets(secrets);
  if (secret_tree) out.secret_tree = secret_tree->clone();
  out.confirmation_tag = confirmation_tag;
  for (const auto& u : pending_updates) out.pending_updates.push_back(PendingUpdate{u.ref, u.key.clone()});
  for (const auto& p : past) out.past.push_back(p.clone());
  out.removed = removed;
  return out;
}

MlsResult<crypto::SecretBytes> resolve_psk_secret(const Data& d, std::span<const PreSharedKeyId> ids,
                                                  const GroupEnv& env) {
  std::vector<PskInput> inputs;
  inputs.reserve(ids.size());
  for (const PreSharedKeyId& id : ids) {
    std::optional<crypto::SecretBytes> psk;
    if (id.psk_type == PskType::External) {
      if (env.psks != nullptr) psk = env.psks->external(id.psk_id);
    } else {
      if (id.usage != ResumptionPskUsage::Application) return fail(Error::Unsupported);
      const bool ours = std::equal(id.psk_group_id.begin(), id.psk_group_id.end(), d.context().group_id.begin(),
                                   d.context().group_id.end());
      if (ours && id.psk_epoch == d.context().epoch) {
        psk = d.secrets.resumption_psk.clone();
      } else if (ours) {
        for (const auto& past : d.past) {
          if (past.view->epoch() == id.psk_epoch) psk = past.resumption_psk.clone();
        }
      }
      if (!psk && env.psks != nullptr) psk = env.psks->resumption(id.psk_group_id, id.psk_epoch);
    }
    if (!psk) return fail(Error::UnknownPsk);
    inputs.push_back(PskInput{id, std::move(*psk)});
  }
  return psk_secret(inputs);
}

std::vector<GroupEvent> commit_events(const PublicGroup& before, const PublicCommit& commit) {
  std::vector<GroupEvent> events;
  for (const auto& [leaf, credential] : commit.applied.removed) events.emplace_back(MemberRemoved{leaf, credential});
  for (const auto& added : commit.applied.added) {
    const LeafNode* leaf = commit.tree.leaf(added.leaf);
    events.emplace_back(MemberAdded{added.leaf, leaf != nullptr ? leaf->credential : Credential{}});
  }
  for (const LeafIndex leaf : commit.applied.updated) events.emplace_back(MemberUpdated{leaf});
  if (commit.roles != before.roles()) events.emplace_back(RolesChanged{commit.roles});
  events.emplace_back(EpochChanged{commit.context.epoch});
  return events;
}

MlsResult<void> adopt_commit(Data& d, PublicCommit commit, PrivateTree private_tree, EpochSecrets secrets,
                             Bytes confirmation_tag_value) {
  d.past.push_front(PastEpoch{PastView::of(*d.group), std::move(*d.secret_tree), std::move(d.secrets.sender_data_secret),
                              std::move(d.secrets.resumption_psk)});
  d.secret_tree.reset();
  while (d.past.size() > kMaxPastEpochs) d.past.pop_back();
  auto group = std::make_shared<PublicGroup>(*d.group);
  group->advance(std::move(commit));
  d.group = std::move(group);
  d.private_tree = std::move(private_tree);
  d.private_tree.prune(d.group->tree());
  d.pending_updates.clear();
  d.confirmation_tag = std::move(confirmation_tag_value);
  return start_epoch_secrets(d, std::move(secrets));
}

MlsResult<std::vector<GroupEvent>> process_commit(Data& d, const AuthenticatedContent& commit,
                                                  const GroupEnv& env) {
  // Our own commit comes back from the relay: the caller adopted (or
  // dropped) PendingCommit::next; processing it again would fork the state.
  if (commit.content.sender.sender_type == SenderType::Member && commit.content.sender.index == d.own.v) {
    return fail(Error::InvalidCommit);
  }
  if (!commit.auth.confirmation_tag) return fail(Error::InvalidConfirmationTag);
  auto pc = d.group->apply_commit(commit, env.now_s);
  if (!pc) return fail(pc.error());
  const bool self_removed = std::any_of(pc->applied.removed.begin(), pc->applied.removed.end(),
                                        [&](const auto& r) { return r.first == d.own; });
  if (self_removed) {
    // Final: no key of the new epoch reaches us. The last epoch's secret
    // tree stays, so messages sent before the removal still open.
    d.removed = true;
    d.private_tree = PrivateTree();
    d.pending_updates.clear();
    std::vector<GroupEvent> events;
    events.emplace_back(SelfRemoved{});
    return events;
  }

  PrivateTree keys = d.private_tree.clone();
  // A committed Update of ours: the leaf now carries the key we kept for it.
  for (const ProposalInfo& p : pc->proposals) {
    if (p.proposal.type() != ProposalType::Update || p.sender != d.own) continue;
    const auto it = std::find_if(d.pending_updates.begin(), d.pending_updates.end(),
                                 [&](const PendingUpdate& u) { return p.ref && u.ref == *p.ref; });
    if (it == d.pending_updates.end()) return fail(Error::InvalidCommit);
    keys.set_key(to_node(d.own), it->key.clone());
  }
  keys.prune(pc->tree);

  crypto::SecretBytes commit_secret(zero_secret());
  if (pc->path) {
    auto decrypted = decrypt_update_path(pc->tree, keys, pc->committer, *pc->path, pc->applied.joiners(),
                                         encode(pc->provisional_context));
    if (!decrypted) return fail(decrypted.error());
    commit_secret = std::move(decrypted->commit_secret);
    keys = std::move(decrypted->private_tree);
  }
  auto psk = resolve_psk_secret(d, pc->applied.psks, env);
  if (!psk) return fail(psk.error());
  EpochSecrets secrets =
      derive_epoch_secrets(d.secrets.init_secret.view(), commit_secret.view(), psk->view(), encode(pc->context));
  if (auto ok = verify_confirmation_tag(secrets.confirmation_key.view(), pc->context.confirmed_transcript_hash,
                                        *commit.auth.confirmation_tag);
      !ok) {
    return fail(ok.error());
  }
  std::vector<GroupEvent> events = commit_events(*d.group, *pc);
  if (auto ok = adopt_commit(d, std::move(*pc), std::move(keys), std::move(secrets), *commit.auth.confirmation_tag);
      !ok) {
    return fail(ok.error());
  }
  return events;
}

}  // namespace state_detail

namespace {

using state_detail::Data;

Bytes to_vec(const Digest& d) { return Bytes(d.begin(), d.end()); }

// The cached proposals a commit takes by reference: all of them except those
// that would make the list invalid (§12.2), which the committer must leave
// out rather than fail: its own Update (its path replaces it), a Remove of
// itself, an invalid Update, a second Update or Remove of one leaf, a Remove of a blank leaf,
// an Add that is invalid or whose keys clash, a repeated PSK, a second
// GroupContextExtensions, ReInit and ExternalInit. `inline_proposals` go in
// too and take precedence.
std::vector<Digest> cached_refs(const PublicGroup& g, LeafIndex own, std::span<const Proposal> inline_proposals,
                                const GroupEnv& env) {
  std::set<std::uint32_t> touched;
  std::set<Bytes> keys;
  std::vector<PreSharedKeyId> psks;
  bool extensions = false;
  const auto add_keys_free = [&](const KeyPackage& kp) {
    return !keys.contains(kp.leaf_node.signature_key) && !keys.contains(kp.leaf_node.encryption_key) &&
           !keys.contains(kp.init_key);
  };
  const auto note_add = [&](const KeyPackage& kp) {
    keys.insert(kp.leaf_node.signature_key);
    keys.insert(kp.leaf_node.encryption_key);
    keys.insert(kp.init_key);
  };
  for (const Proposal& p : inline_proposals) {
    if (const auto* add = std::get_if<Add>(&p.body)) note_add(add->key_package);
    if (const auto* remove = std::get_if<Remove>(&p.body)) touched.insert(remove->removed);
    if (const auto* psk = std::get_if<PreSharedKey>(&p.body)) psks.push_back(psk->psk);
    if (std::holds_alternative<GroupContextExtensions>(p.body)) extensions = true;
  }

  std::vector<Digest> out;
  for (const ProposalInfo& info : g.proposals().all()) {
    if (!info.ref) continue;
    const Proposal& p = info.proposal;
    bool keep = false;
    if (const auto* update = std::get_if<Update>(&p.body)) {
      LeafContext leaf_context;
      leaf_context.expected_source = LeafNodeSource::Update;
      leaf_context.binding = LeafBinding{g.context().group_id, info.sender};
      leaf_context.group_extensions = g.context().extensions;
      leaf_context.now_s = env.now_s;
      keep = info.sender != own && !touched.contains(info.sender.v) &&
             validate_leaf_node(update->leaf_node, leaf_context).has_value() &&
             g.tree().check_new_leaf(update->leaf_node, info.sender).has_value();
      if (keep) touched.insert(info.sender.v);
    } else if (const auto* remove = std::get_if<Remove>(&p.body)) {
      keep = remove->removed != own.v && g.tree().leaf(LeafIndex{remove->removed}) != nullptr &&
             touched.insert(remove->removed).second;
    } else if (const auto* add = std::get_if<Add>(&p.body)) {
      const KeyPackage& kp = add->key_package;
      keep = add_keys_free(kp) && validate_key_package(kp, g.context().extensions, env.now_s).has_value() &&
             g.tree().check_new_leaf(kp.leaf_node, std::nullopt).has_value();
      if (keep) note_add(kp);
    } else if (const auto* psk = std::get_if<PreSharedKey>(&p.body)) {
      keep = std::find(psks.begin(), psks.end(), psk->psk) == psks.end();
      if (keep) psks.push_back(psk->psk);
    } else if (std::holds_alternative<GroupContextExtensions>(p.body)) {
      keep = !extensions;
      extensions = true;
    }
    if (keep) out.push_back(*info.ref);
  }
  return out;
}

}  // namespace

MlsResult<PendingCommit> GroupState::commit(const CommitOptions& options, Rng& rng, const GroupEnv& env) const {
  const Data& cur = impl_->d;
  if (cur.removed) return fail(Error::Removed);
  const PublicGroup& g = *cur.group;

  Commit commit;
  if (options.commit_cached) {
    for (const Digest& ref : cached_refs(g, cur.own, options.proposals, env)) {
      commit.proposals.push_back(ProposalOrRef{to_vec(ref)});
    }
  }
  for (const Proposal& p : options.proposals) commit.proposals.push_back(ProposalOrRef{p});

  // The proposals' effect, to build the path on (apply_commit below redoes
  // all of it, as receivers will).
  auto resolved = resolve_proposals(commit, cur.own, g.proposals());
  if (!resolved) return fail(resolved.error());
  if (auto ok = validate_proposals(*resolved, cur.own, g.tree(), g.context(), env.now_s); !ok) {
    return fail(ok.error());
  }
  PublicTree tree = g.tree();
  auto applied = apply_proposals(tree, *resolved);
  if (!applied) return fail(applied.error());

  GroupContext provisional = g.context();
  provisional.epoch += 1;
  if (applied->extensions) provisional.extensions = *applied->extensions;
  std::optional<PendingPath> pending;
  if (options.force_path || path_required(*resolved)) {
    const LeafNode* mine = tree.leaf(cur.own);
    if (mine == nullptr) return fail(Error::InvalidCommit);
    const LeafTemplate leaf_template{mine->credential, mine->capabilities, mine->extensions};
    auto prepared = prepare_update_path(tree, cur.own, leaf_template, cur.signing_key, provisional.group_id, rng);
    if (!prepared) return fail(prepared.error());
    pending = std::move(*prepared);
    provisional.tree_hash = to_vec(tree.tree_hash());
    auto path = encrypt_update_path(*pending, tree, applied->joiners(), encode(provisional), rng);
    if (!path) return fail(path.error());
    commit.path = std::move(*path);
  }

  FramedContent content;
  content.group_id = g.context().group_id;
  content.epoch = g.context().epoch;
  content.sender = Sender{SenderType::Member, cur.own.v};
  content.authenticated_data = options.authenticated_data;
  content.content = std::move(commit);
  const WireFormat wire_format = options.encrypt ? WireFormat::PrivateMessage : WireFormat::PublicMessage;
  // The confirmed transcript hash covers the content and signature but not
  // the tag, so the tag is filled in once the new epoch's key is known.
  AuthenticatedContent ac =
      sign_content(wire_format, std::move(content), g.context(), cur.signing_key, Bytes(kHashSize, 0));
  auto pc = g.apply_commit(ac, env.now_s);
  if (!pc) return fail(pc.error());
  // What we encrypted the path to must be what receivers decrypt it with.
  if (pending && pc->provisional_context != provisional) return fail(Error::InvalidCommit);

  auto psk = state_detail::resolve_psk_secret(cur, pc->applied.psks, env);
  if (!psk) return fail(psk.error());
  const crypto::SecretBytes commit_secret =
      pending ? pending->commit_secret.clone() : crypto::SecretBytes(zero_secret());
  EpochSecrets next = derive_epoch_secrets(cur.secrets.init_secret.view(), commit_secret.view(), psk->view(),
                                           encode(pc->context));
  const Digest tag = confirmation_tag(next.confirmation_key.view(), pc->context.confirmed_transcript_hash);
  ac.auth.confirmation_tag = to_vec(tag);
  pc->interim_transcript_hash = to_vec(interim_transcript_hash(pc->context.confirmed_transcript_hash, tag));

  Data d = cur.clone();
  MlsMessage message;
  if (options.encrypt) {
    auto pm = protect_private(ac, *d.secret_tree, d.secrets.sender_data_secret.view(), kDefaultPaddingBlock, rng);
    if (!pm) return fail(pm.error());
    message.body = std::move(*pm);
  } else {
    auto pm = protect_public(ac, cur.secrets.membership_key.view(), g.context());
    if (!pm) return fail(pm.error());
    message.body = std::move(*pm);
  }

  std::optional<MlsMessage> welcome;
  std::vector<Digest> welcome_refs;
  if (!pc->applied.added.empty()) {
    GroupInfo info;
    info.group_context = pc->context;
    if (options.ratchet_tree_in_welcome) {
      info.extensions.push_back(Extension{kExtRatchetTree, encode(pc->tree.to_wire())});
    }
    info.confirmation_tag = to_vec(tag);
    info.signer = cur.own.v;
    sign_group_info(info, cur.signing_key);

    std::vector<std::pair<Digest, const KeyPackage*>> packages;
    for (const ProposalInfo& p : pc->proposals) {
      if (const auto* add = std::get_if<Add>(&p.proposal.body)) {
        packages.emplace_back(make_key_package_ref(encode(add->key_package)), &add->key_package);
      }
    }
    std::vector<WelcomeJoiner> joiners;
    for (const auto& added : pc->applied.added) {
      const auto it = std::find_if(packages.begin(), packages.end(),
                                   [&](const auto& kp) { return kp.first == added.key_package_ref; });
      if (it == packages.end()) return fail(Error::InvalidCommit);
      joiners.push_back(WelcomeJoiner{it->second, pending ? path_secret_for(*pending, added.leaf) : std::nullopt});
      welcome_refs.push_back(added.key_package_ref);
    }
    auto w = create_welcome(info, next.joiner_secret.view(), psk->view(), pc->applied.psks, joiners, rng);
    if (!w) return fail(w.error());
    welcome = MlsMessage{kProtocolVersionMls10, std::move(*w)};
  }

  std::vector<GroupEvent> events = state_detail::commit_events(g, *pc);
  PrivateTree keys = pending ? std::move(pending->private_tree) : cur.private_tree.clone();
  if (auto ok = state_detail::adopt_commit(d, std::move(*pc), std::move(keys), std::move(next), to_vec(tag)); !ok) {
    return fail(ok.error());
  }
  return PendingCommit{std::move(message), std::move(welcome), std::move(welcome_refs),
                       GroupState(std::make_unique<Impl>(Impl{std::move(d)})), std::move(events)};
}

MlsResult<PendingCommit> GroupState::add(const std::vector<KeyPackage>& key_packages, Rng& rng,
                                         const GroupEnv& env) const {
  CommitOptions options;
  for (const KeyPackage& kp : key_packages) options.proposals.push_back(Proposal{Add{kp}});
  return commit(options, rng, env);
}

MlsResult<PendingCommit> GroupState::remove(const std::vector<LeafIndex>& leaves, Rng& rng,
                                            const GroupEnv& env) const {
  CommitOptions options;
  for (const LeafIndex leaf : leaves) options.proposals.push_back(Proposal{Remove{leaf.v}});
  return commit(options, rng, env);
}

MlsResult<PendingCommit> GroupState::update(Rng& rng, const GroupEnv& env) const {
  CommitOptions options;
  options.force_path = true;
  return commit(options, rng, env);
}

}  // namespace hearth::mls
