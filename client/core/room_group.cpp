// SPDX-License-Identifier: Apache-2.0
#include "client/core/room_group.h"

#include <algorithm>
#include <stdexcept>

#include "client/core/key_packages.h"
#include "common/mls/codec.h"
#include "common/mls/identity.h"
#include "common/mls/roles.h"

namespace hearth::client {

namespace {

using mls::Error;
static_assert(mls::kAccountIdBytes == wire::kAccountIdSize);
using mls::MlsResult;

crypto::SigningKey copy_key(const crypto::SigningKey& key) {
  // SigningKey holds a Secret and is move-only; the seed rebuilds it.
  const auto seed = crypto::ed25519_seed(key);
  auto copy = crypto::ed25519_from_seed(seed.view());
  // A seed taken from a valid key always rebuilds it.
  if (!copy) throw std::logic_error("an Ed25519 seed did not rebuild its key");
  return std::move(*copy);
}

mls::GroupEnv env_at(std::uint64_t now_s) { return mls::GroupEnv{now_s, nullptr}; }

wire::Role role_in(const mls::Roles& roles, const AccountId& account) {
  return mls::lists_facilitator(roles, account) ? wire::Role::Facilitator : wire::Role::Member;
}

/// The roster change a commit's events make, with roles as they are after it.
MlsResult<std::vector<wire::RosterChange>> roster_of(const std::vector<mls::GroupEvent>& events,
                                                     const mls::Roles& roles_before, const mls::Roles& roles_after,
                                                     const std::vector<RoomMember>& members_after) {
  std::vector<wire::RosterChange> out;
  for (const auto& e : events) {
    if (const auto* added = std::get_if<mls::MemberAdded>(&e)) {
      auto account = mls::credential_account(added->credential);
      if (!account) return fail(account.error());
      out.push_back(wire::RosterChange{wire::RosterOp::Add, *account, role_in(roles_after, *account)});
    } else if (const auto* removed = std::get_if<mls::MemberRemoved>(&e)) {
      auto account = mls::credential_account(removed->credential);
      if (!account) return fail(account.error());
      out.push_back(wire::RosterChange{wire::RosterOp::Remove, *account, wire::Role::Member});
    }
  }
  // Role changes of members who stay.
  for (const auto& m : members_after) {
    const auto before = role_in(roles_before, m.account);
    const auto after = role_in(roles_after, m.account);
    const bool just_added = std::any_of(out.begin(), out.end(), [&](const wire::RosterChange& c) {
      return c.op == wire::RosterOp::Add && c.account == m.account;
    });
    if (before != after && !just_added) out.push_back(wire::RosterChange{wire::RosterOp::SetRole, m.account, after});
  }
  return out;
}

MlsResult<RoomCommit> to_room_commit(const RoomGroup& before, mls::PendingCommit pending,
                                     const std::vector<std::pair<mls::Digest, AccountId>>& joiners,
                                     RoomGroup next_group);

}  // namespace

MlsResult<RoomGroup> RoomGroup::create(const RoomId& group_id, const AccountId& self, const crypto::SigningKey& identity,
                                       std::uint64_t now_s, Rng& rng, const std::vector<AccountId>& also_facilitators) {
  // Our own leaf comes from a KeyPackage that is never published.
  const auto own = mls::create_key_package(mls::account_credential(self.v), identity,
                                           mls::account_key_package_options(now_s), rng);
  mls::Roles roles{{self.v}};
  for (const auto& a : also_facilitators) roles.facilitators.push_back(a.v);
  std::vector<mls::Extension> extensions{mls::roles_extension(std::move(roles))};
  auto state = mls::GroupState::create(group_id.v, own, copy_key(identity), std::move(extensions),
                                       mls::RolePolicy::Hearth, rng);
  if (!state) return fail(state.error());
  return RoomGroup(std::move(*state));
}

MlsResult<RoomGroup::Joined> RoomGroup::join(BytesView welcome, const AccountId& self,
                                             const crypto::SigningKey& identity,
                                             const std::vector<StoredKeyPackage>& ours, std::uint64_t now_s) {
  auto message = mls::decode<mls::MlsMessage>(welcome);
  if (!message) return fail(message.error());
  const auto* w = std::get_if<mls::Welcome>(&message->body);
  if (w == nullptr) return fail(Error::WrongWireFormat);
  for (const auto& secrets : w->secrets) {
    const auto mine = std::find_if(ours.begin(), ours.end(),
                                   [&](const StoredKeyPackage& p) { return p.ref == secrets.new_member; });
    if (mine == ours.end()) continue;
    auto bundle = decode_bundle(mine->bundle);
    if (!bundle) return fail(bundle.error());
    auto state = mls::GroupState::join(*w, *bundle, copy_key(identity), std::nullopt, mls::RolePolicy::Hearth,
                                       env_at(now_s));
    if (!state) return fail(state.error());
    RoomGroup group(std::move(*state));
    // Our leaf must be ours: our account, our key.
    auto me = group.member(self);
    if (!me || me->leaf != group.state_.own_leaf() ||
        !std::ranges::equal(me->identity_key, identity.public_key)) {
      return fail(Error::ForeignIdentity);
    }
    return Joined{std::move(group), mine->ref};
  }
  return fail(Error::InvalidWelcome);
}

MlsResult<RoomGroup> RoomGroup::load(BytesView saved, const crypto::SigningKey& identity) {
  auto state = mls::GroupState::load(saved, copy_key(identity), mls::RolePolicy::Hearth);
  if (!state) return fail(state.error());
  return RoomGroup(std::move(*state));
}

RoomGroup RoomGroup::clone() const { return RoomGroup(state_.clone()); }

std::vector<wire::RosterChange> roster_between(const RoomGroup& before, const RoomGroup& after) {
  auto role = [](bool facilitator) { return facilitator ? wire::Role::Facilitator : wire::Role::Member; };
  std::vector<wire::RosterChange> out;
  const auto then = before.members();
  const auto now = after.members();
  for (const auto& m : now) {
    const auto was = std::find_if(then.begin(), then.end(), [&](const RoomMember& o) { return o.account == m.account; });
    if (was == then.end()) {
      out.push_back(wire::RosterChange{wire::RosterOp::Add, m.account, role(m.facilitator)});
    } else if (was->facilitator != m.facilitator) {
      out.push_back(wire::RosterChange{wire::RosterOp::SetRole, m.account, role(m.facilitator)});
    }
  }
  for (const auto& m : then) {
    if (std::none_of(now.begin(), now.end(), [&](const RoomMember& o) { return o.account == m.account; })) {
      out.push_back(wire::RosterChange{wire::RosterOp::Remove, m.account, wire::Role::Member});
    }
  }
  return out;
}

RoomId RoomGroup::group_id() const {
  const auto id = state_.group_id();
  return RoomId{Bytes(id.begin(), id.end())};
}

std::optional<RoomMember> RoomGroup::first_member() const {
  for (auto& m : members()) {
    if (m.leaf.v == 0) return std::move(m);
  }
  return std::nullopt;
}

std::optional<std::uint64_t> RoomGroup::epoch_of(BytesView ciphertext) const {
  auto message = mls::decode<mls::MlsMessage>(ciphertext);
  const auto* priv = message ? std::get_if<mls::PrivateMessage>(&message->body) : nullptr;
  if (priv == nullptr || !std::ranges::equal(priv->group_id, state_.group_id())) return std::nullopt;
  return priv->epoch;
}

std::vector<RoomMember> RoomGroup::members() const {
  std::vector<RoomMember> out;
  const auto& roles = state_.roles();
  for (const auto& m : state_.members()) {
    auto account = mls::credential_account(m.credential);
    if (!account) continue;  // every leaf passed the checks on entry; none lacks an account
    out.push_back(RoomMember{*account, m.leaf, m.signature_key,
                             mls::lists_facilitator(roles, *account)});
  }
  return out;
}

std::optional<RoomMember> RoomGroup::member(const AccountId& account) const {
  for (auto& m : members()) {
    if (m.account == account) return m;
  }
  return std::nullopt;
}

bool RoomGroup::is_facilitator(const AccountId& account) const {
  return mls::lists_facilitator(state_.roles(), account);
}

Bytes RoomGroup::group_info() const { return mls::encode(mls::MlsMessage{mls::kProtocolVersionMls10, state_.group_info(true)}); }

std::string RoomGroup::safety_code() const {
  const auto a = state_.epoch_authenticator();
  std::string out;
  for (std::size_t group = 0; group < 4 && (group + 1) * 5 <= a.size(); ++group) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 5; ++i) v = (v << 8) | a[group * 5 + i];
    const std::string digits = std::to_string(v % 100'000);
    if (!out.empty()) out += ' ';
    out += std::string(5 - digits.size(), '0') + digits;
  }
  return out;
}

namespace {

MlsResult<RoomCommit> to_room_commit(const RoomGroup& before, mls::PendingCommit pending,
                                     const std::vector<std::pair<mls::Digest, AccountId>>& joiners,
                                     RoomGroup next_group) {
  RoomCommit out{mls::encode(pending.commit), {}, {}, std::move(next_group)};
  auto roster = roster_of(pending.events, before.state().roles(), out.next.state().roles(), out.next.members());
  if (!roster) return fail(roster.error());
  out.roster = std::move(*roster);
  if (pending.welcome) {
    const Bytes welcome = mls::encode(*pending.welcome);
    for (const auto& ref : pending.welcome_key_package_refs) {
      const auto j = std::find_if(joiners.begin(), joiners.end(), [&](const auto& p) { return p.first == ref; });
      if (j == joiners.end()) return fail(Error::InvalidWelcome);
      out.welcomes.push_back(RoomCommit::WelcomeFor{j->second, welcome});
    }
  }
  return out;
}

}  // namespace

MlsResult<RoomCommit> RoomGroup::add(const std::vector<wire::KeyPackageOk>& packages, Rng& rng,
                                     std::uint64_t now_s) const {
  std::vector<mls::KeyPackage> kps;
  std::vector<std::pair<mls::Digest, AccountId>> joiners;
  for (const auto& p : packages) {
    auto kp = mls::check_account_key_package(p.key_package, p.account.v, p.identity_key, now_s);
    if (!kp) return fail(kp.error());
    joiners.emplace_back(kp->ref, p.account);
    kps.push_back(std::move(kp->key_package));
  }
  // With a path, as every Hearth commit: the committer's keys are fresh too.
  mls::CommitOptions options;
  for (auto& kp : kps) options.proposals.push_back(mls::Proposal{mls::Add{std::move(kp)}});
  options.force_path = true;
  auto pending = state_.commit(options, rng, env_at(now_s));
  if (!pending) return fail(pending.error());
  RoomGroup next(std::move(pending->next));
  return to_room_commit(*this, std::move(*pending), joiners, std::move(next));
}

MlsResult<RoomCommit> RoomGroup::remove(const std::vector<AccountId>& accounts, Rng& rng, std::uint64_t now_s) const {
  std::vector<mls::LeafIndex> leaves;
  for (const auto& a : accounts) {
    auto m = member(a);
    if (!m) return fail(Error::InvalidProposal);
    leaves.push_back(m->leaf);
  }
  auto pending = state_.remove(leaves, rng, env_at(now_s));
  if (!pending) return fail(pending.error());
  RoomGroup next(std::move(pending->next));
  return to_room_commit(*this, std::move(*pending), {}, std::move(next));
}

MlsResult<RoomCommit> RoomGroup::set_role(const AccountId& account, bool facilitator, Rng& rng,
                                          std::uint64_t now_s) const {
  if (!member(account) || is_facilitator(account) == facilitator) return fail(Error::InvalidProposal);
  mls::Roles roles = state_.roles();
  if (facilitator) {
    roles.facilitators.push_back(account.v);
  } else {
    std::erase(roles.facilitators, account.v);
  }
  // The proposal replaces the extensions whole: keep all but the roles.
  std::vector<mls::Extension> extensions;
  for (const auto& e : state_.context().extensions) {
    if (e.extension_type != mls::kRolesExtensionType) extensions.push_back(e);
  }
  extensions.push_back(mls::roles_extension(std::move(roles)));
  mls::CommitOptions options;
  options.proposals.push_back(mls::Proposal{mls::GroupContextExtensions{std::move(extensions)}});
  options.force_path = true;
  auto pending = state_.commit(options, rng, env_at(now_s));
  if (!pending) return fail(pending.error());
  RoomGroup next(std::move(pending->next));
  return to_room_commit(*this, std::move(*pending), {}, std::move(next));
}

MlsResult<RoomCommit> RoomGroup::refresh(Rng& rng, std::uint64_t now_s) const {
  auto pending = state_.update(rng, env_at(now_s));
  if (!pending) return fail(pending.error());
  RoomGroup next(std::move(pending->next));
  return to_room_commit(*this, std::move(*pending), {}, std::move(next));
}

MlsResult<RoomGroup::Leave> RoomGroup::propose_leave() const {
  auto t = state_.propose_remove(state_.own_leaf());
  if (!t) return fail(t.error());
  if (!t->message) return fail(Error::InvalidProposal);
  return Leave{mls::encode(*t->message), RoomGroup(std::move(t->next))};
}

MlsResult<RoomChange> RoomGroup::apply(BytesView handshake, std::uint64_t now_s) const {
  auto message = mls::decode<mls::MlsMessage>(handshake);
  if (!message) return fail(message.error());
  const auto* pub = std::get_if<mls::PublicMessage>(&message->body);
  // Hearth handshakes are PublicMessage, so the relay can check them.
  if (pub == nullptr) return fail(Error::WrongWireFormat);
  const auto type = mls::content_type(pub->content.content);
  std::optional<RoomMember> sender;
  for (auto& m : members()) {
    if (pub->content.sender.sender_type == mls::SenderType::Member && m.leaf.v == pub->content.sender.index) {
      sender = std::move(m);
    }
  }
  if (type == mls::ContentType::Proposal) {
    // Alone, only a member's own removal (leaving) travels as a proposal.
    const auto* proposal = std::get_if<mls::Proposal>(&pub->content.content);
    const auto* remove = proposal != nullptr ? std::get_if<mls::Remove>(&proposal->body) : nullptr;
    if (remove == nullptr || !sender || remove->removed != sender->leaf.v) return fail(Error::InvalidProposal);
  } else if (type != mls::ContentType::Commit) {
    return fail(Error::WrongWireFormat);
  }
  auto t = state_.handle(*message, env_at(now_s));
  if (!t) return fail(t.error());
  if (!sender) return fail(Error::SenderOutOfRange);
  RoomChange out{RoomGroup(std::move(t->next)), sender->account, {}, false, type == mls::ContentType::Proposal};
  if (out.leave_proposal) return out;
  out.removed_us = std::any_of(t->events.begin(), t->events.end(),
                               [](const mls::GroupEvent& e) { return std::holds_alternative<mls::SelfRemoved>(e); });
  auto roster = roster_of(t->events, state_.roles(), out.next.state_.roles(), out.next.members());
  if (!roster) return fail(roster.error());
  out.roster = std::move(*roster);
  return out;
}

MlsResult<Bytes> RoomGroup::encrypt(BytesView content, Rng& rng) {
  auto m = state_.protect(content, {}, rng, kPaddingBlock);
  if (!m) return fail(m.error());
  return mls::encode(*m);
}

MlsResult<RoomMessage> RoomGroup::decrypt(BytesView payload) {
  auto message = mls::decode<mls::MlsMessage>(payload);
  if (!message) return fail(message.error());
  auto app = state_.unprotect(*message);
  if (!app) return fail(app.error());
  auto sender = mls::credential_account(app->credential);
  if (!sender) return fail(sender.error());
  return RoomMessage{*sender, app->epoch, std::move(app->data)};
}

}  // namespace hearth::client
